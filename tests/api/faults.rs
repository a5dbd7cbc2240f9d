//! Faults: PostgreSQL going away and coming back while a node serves. The node reaches the database
//! through a TCP proxy the test controls, so that cutting it off touches nobody else's tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{TestApp, fresh_database_url, spawn_app_with};

/// A TCP proxy to PostgreSQL that can be cut (every connection closed, new ones refused).
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (flag, list) = (up.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    continue; // dropped: connection closed at once
                }
                let upstream = upstream.clone();
                let handle = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut list) = list.lock() {
                    list.push(handle);
                }
            }
        });
        Self {
            addr,
            up,
            connections,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        if let Ok(mut list) = self.connections.lock() {
            for handle in list.drain(..) {
                handle.abort();
            }
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Polls `path` until it answers `status` or 30 s pass; returns the status last seen.
async fn until(app: &TestApp, path: &str, token: Option<&str>, status: StatusCode) -> StatusCode {
    let started = Instant::now();
    loop {
        let seen = app.get(path, token).await.status();
        if seen == status || started.elapsed() > Duration::from_secs(30) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_database_going_away_gives_503_and_the_node_recovers_without_restart() {
    // PostgreSQL only: SQLite is a file inside the process and cannot go away like a server.
    let Some(database_url) = fresh_database_url().await else {
        eprintln!("skipped: set TEST_DATABASE_URL to run the PostgreSQL fault test");
        return;
    };
    let (head, rest) = database_url.split_once('@').expect("user@host");
    let (host_port, database) = rest.split_once('/').expect("host/database");
    let proxy = Proxy::start(host_port.to_owned()).await;
    let proxied = format!("{head}@{}/{database}", proxy.addr);
    let app = spawn_app_with(|s| s.database_url = Some(proxied)).await;
    let registered = app
        .register_with_new_org("f@xjtu.edu.cn", "researcher", "西安交通大学", "university")
        .await;
    let token = registered["token"].as_str().expect("token").to_owned();
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status(),
        StatusCode::OK
    );

    proxy.cut();
    assert_eq!(
        until(&app, "/readyz", None, StatusCode::SERVICE_UNAVAILABLE).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE, "503, not 500");
    assert!(me.headers().contains_key("retry-after"));
    let write = app
        .post_json(
            "/api/v1/results",
            &json!({"title": "断库期间的成果", "summary": "不应写入"}),
            Some(&token),
        )
        .await;
    assert_eq!(write.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Search answers from the node's own index meanwhile.
    assert_eq!(
        app.get("/api/v1/search?q=成果", None).await.status(),
        StatusCode::OK
    );

    proxy.restore();
    assert_eq!(
        until(&app, "/readyz", None, StatusCode::OK).await,
        StatusCode::OK
    );
    assert_eq!(
        until(&app, "/api/v1/me", Some(&token), StatusCode::OK).await,
        StatusCode::OK,
        "the pool reconnected by itself"
    );
}
