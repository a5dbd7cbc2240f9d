//! Application state and startup: connect, migrate, open the index, bind, serve.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use search_index::SearchIndex;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::reference::ReferenceData;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// Effective configuration.
    pub settings: Arc<Settings>,
    /// Reference data, read once at start.
    pub reference: Arc<ReferenceData>,
    /// The local search index.
    pub search: Arc<SearchIndex>,
    /// False while a new index is being built from the database: the node is not ready for search.
    pub search_ready: Arc<std::sync::atomic::AtomicBool>,
    /// The catalogue counts and when they were computed (see `services::listings::catalogue`).
    pub catalogue_cache: crate::services::listings::catalogue::CatalogueCache,
    /// The published listings of each kind, the `total` of the public lists (same module).
    pub published_counts: crate::services::listings::catalogue::PublishedCounts,
    /// Per-client limit of searches and matchings.
    pub search_limiter: crate::http::rate_limit::SearchLimiter,
}

impl AppState {
    /// Connects, migrates, loads reference data and opens the search index.
    pub async fn prepare(settings: Settings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            settings.registration_point < 100,
            "registration_point must be two digits, e.g. 01"
        );
        let db = crate::db::connect(&settings).await?;
        crate::db::migrate(&db).await?;
        let reference = ReferenceData::read(&db)
            .await
            .context("reading reference data")?;
        let index_dir = settings.index_dir();
        let search = tokio::task::spawn_blocking(move || {
            search_index::analyzers::warm_up();
            SearchIndex::open_or_create(&index_dir)
        })
        .await?
        .context("opening the search index")?;
        // An index written for another database (one that was replaced, reset or restored) is
        // rebuilt; so is one whose first build never finished (killed before its commit, which
        // is the only thing that records the owner).
        let installation = crate::db::installation_id(&db).await?;
        let owner = search.stored_owner()?;
        let stale = owner.as_deref() != Some(installation.as_str());
        search.set_owner(&installation)?;
        let needs_build = search.was_created() || stale;
        match owner {
            Some(_) if stale => {
                tracing::warn!("the search index belongs to another database; rebuilding it");
            }
            None if !search.was_created() => {
                tracing::warn!("the search index was never completely built; rebuilding it");
            }
            _ => {}
        }
        let search_ready = Arc::new(std::sync::atomic::AtomicBool::new(!needs_build));
        Ok(Self {
            db,
            reference: Arc::new(reference),
            search: Arc::new(search),
            search_ready,
            catalogue_cache: crate::services::listings::catalogue::CatalogueCache::default(),
            published_counts: crate::services::listings::catalogue::PublishedCounts::new(
                std::time::Duration::from_millis(settings.public_total_cache_ms),
            ),
            search_limiter: crate::http::rate_limit::SearchLimiter::new(
                settings.search_rate_per_second,
                settings.search_burst,
            ),
            settings: Arc::new(settings),
        })
    }
}

/// A server bound to its address, ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The `metrics_listen` listener, when configured.
    metrics_listener: Option<TcpListener>,
}

impl Application {
    /// Prepares the state and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listen = settings.listen.clone();
        let state = AppState::prepare(settings).await?;
        let listener = TcpListener::bind(&listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let metrics_listen = state.settings.metrics_listen.clone();
        let metrics_listener = if metrics_listen.is_empty() {
            None
        } else {
            Some(
                TcpListener::bind(&metrics_listen)
                    .await
                    .with_context(|| format!("binding metrics_listen {metrics_listen}"))?,
            )
        };
        Ok(Self {
            listener,
            state,
            metrics_listener,
        })
    }

    /// The address `/metrics` is served on by itself (`metrics_listen`), when configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The state the server runs with.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_indexer, stop) = tokio::sync::watch::channel(false);
        use axum::serve::ListenerExt;
        let limits = crate::http::edge::Limits::of(&self.state.settings);
        let mut indexer = tokio::spawn(run_indexer(self.state.clone(), stop.clone()));
        if let Some(listener) = self.metrics_listener {
            let mut stop = stop;
            let token = self.state.settings.metrics_token.clone();
            tokio::spawn(crate::http::health::serve_metrics(
                listener,
                token,
                async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                },
            ));
        }
        let router = crate::http::router(self.state);
        // `tap_io` does nothing to the connection; it is what gives handlers the peer address
        // (axum's `ConnectInfo`) for a listener of our own.
        let listener = crate::http::edge::EdgeListener::new(self.listener, limits).tap_io(|_| {});
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        // Every acknowledged write is in the database now; the indexer applies what it has not
        // yet applied and commits, so that the next start has nothing to catch up on. Not flushing
        // loses nothing (the outbox is replayed on start), so a flush that hangs is cut short.
        let _ = stop_indexer.send(true);
        match tokio::time::timeout(INDEX_FLUSH_TIMEOUT, &mut indexer).await {
            Ok(_) => tracing::info!("search index flushed"),
            Err(_) => {
                indexer.abort();
                tracing::warn!(
                    "the search index was not flushed in time; it catches up on the next start"
                );
            }
        }
        served
    }
}

/// How long a stopping server waits for the indexer's last round.
const INDEX_FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Keeps the local index in step with the database: a full rebuild first when the index is new
/// (fresh directory, changed schema, or written for another database), then the outbox, until
/// `stop` turns true.
async fn run_indexer(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    if !state
        .search_ready
        .load(std::sync::atomic::Ordering::Acquire)
    {
        let started = std::time::Instant::now();
        let rebuild =
            crate::services::search::rebuild(&state.db, &state.reference, &state.search, |_, _| {});
        // A rebuild cut short by a stop is started again on the next start: the index records no
        // owner until a rebuild completes.
        let built = tokio::select! {
            built = rebuild => built,
            _ = stop.wait_for(|stopping| *stopping) => return,
        };
        match built {
            Ok(n) => {
                tracing::info!(listings = n, took = ?started.elapsed(), "search index built from the database")
            }
            Err(e) => {
                tracing::error!(error = %e, "building the search index failed; the outbox will be applied")
            }
        }
        state
            .search_ready
            .store(true, std::sync::atomic::Ordering::Release);
    }
    crate::services::search::Indexer::new(
        state.db.clone(),
        state.reference.clone(),
        state.search.clone(),
        std::time::Duration::from_millis(state.settings.indexer_poll_ms.max(10)),
    )
    .run(stop)
    .await;
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    // The handlers are installed here, when this is called, not when the future is first polled:
    // a SIGTERM arriving after the address is printed but before the server polls this future
    // would otherwise get the default action and kill the process without a graceful stop.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            match signals {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::error!("cannot listen for SIGINT or SIGTERM: {e}");
                    std::future::pending::<()>().await;
                }
            }
        }
        #[cfg(not(unix))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
