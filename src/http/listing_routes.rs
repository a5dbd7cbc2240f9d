//! The routes every listing kind shares: create, read, edit, archive, review and history.
//!
//! They are written once, here, and stamped out for results and demands by `listing_routes!`.
//! A macro rather than generic handlers because `#[utoipa::path]` documents one concrete
//! function: each kind needs its own operations (own paths, operation ids, bodies and words in
//! the OpenAPI document), while the handler bodies are the same generic service calls.

/// Writes a module `shared` with the kind's shared handlers, its `router()`, and `view()` (the
/// one way a record of the kind becomes its view, for the kind's own routes too).
///
/// - `path`, `tag`: the kind's collection path and OpenAPI tag;
/// - `noun`: the kind in operation ids and texts (`result`, `demand`);
/// - `owner`: who owns a listing of the kind, in the `403` texts (`owner`, `poster`);
/// - `table`, `fields`, `patch`, `view`, `record`, `filter`: the kind's entity, input, patch,
///   view, record and list-filter types;
/// - `create`, `author`: the create route's summary and its `403` text;
/// - `edit_conflict`: why an edit can be a `409`.
macro_rules! listing_routes {
    (
        path: $path:literal,
        tag: $tag:literal,
        noun: $noun:literal,
        owner: $owner:literal,
        table: $table:path,
        fields: $fields:ty,
        patch: $patch:ty,
        view: $view:ty,
        record: $record:ty,
        filter: $filter:ty,
        create: $create:literal,
        author: $author:literal,
        edit_conflict: $edit_conflict:literal $(,)?
    ) => {
        mod shared {
            use axum::extract::State;
            use axum::http::StatusCode;
            use axum::Json;
            use utoipa_axum::router::OpenApiRouter;
            use utoipa_axum::routes;
            use uuid::Uuid;

            use super::*;
            use $crate::app::AppState;
            use $crate::error::AppResult;
            use $crate::http::extract::{AppJson, AppPath, Auth, MaybeAuth};
            use $crate::kernel::page::Page;
            use $crate::services::accounts::sessions::CurrentUser;
            use $crate::services::listings::view::{Audience, EventView};
            use $crate::services::listings::{self, Review, Transition};

            pub fn router() -> OpenApiRouter<AppState> {
                OpenApiRouter::new()
                    .routes(routes!(create))
                    .routes(routes!(get, update, archive))
                    .routes(routes!(review))
                    .routes(routes!(events))
            }

            /// The view of a record as `user` may see it.
            pub fn view(user: Option<&CurrentUser>, record: $record) -> $view {
                let audience = Audience::of(user, record.item.organization_id);
                <$view>::new(record, audience)
            }

            /// A page of the kind's list as `user` may see it.
            pub async fn list(
                state: &AppState,
                user: Option<&CurrentUser>,
                filter: $filter,
                page: u64,
                per_page: u64,
            ) -> AppResult<Json<Page<$view>>> {
                let counts = &state.published_counts;
                let (records, total) =
                    listings::list(&state.db, counts, user, filter, page, per_page).await?;
                let items = records.into_iter().map(|record| view(user, record));
                Ok(Json(Page::new(items, total, page, per_page)))
            }

            #[utoipa::path(post, path = $path, tag = $tag,
                operation_id = concat!("create_", $noun),
                summary = $create,
                security(("bearer" = [])),
                request_body = $fields,
                responses(
                    (status = 201, description = "created as a draft", body = $view),
                    (status = 401, description = "not logged in"),
                    (status = 403, description = $author),
                    (status = 422, description = "invalid fields"),
                ))]
            async fn create(
                State(state): State<AppState>,
                Auth(user): Auth,
                AppJson(input): AppJson<$fields>,
            ) -> AppResult<(StatusCode, Json<$view>)> {
                let record = listings::create(&state.db, &state.reference, &user, input).await?;
                Ok((StatusCode::CREATED, Json(view(Some(&user), record))))
            }

            #[utoipa::path(get, path = concat!($path, "/{id}"), tag = $tag,
                operation_id = concat!("get_", $noun),
                summary = concat!("One ", $noun, ". An unpublished ", $noun,
                    " exists only for its organization and the registrar (`404` for everybody else)."),
                params(("id" = Uuid, Path, description = concat!($noun, " id"))),
                responses(
                    (status = 200, description = concat!("the ", $noun), body = $view),
                    (status = 404, description = "unknown, or not visible to you"),
                ))]
            async fn get(
                State(state): State<AppState>,
                MaybeAuth(user): MaybeAuth,
                AppPath(id): AppPath<Uuid>,
            ) -> AppResult<Json<$view>> {
                let (record, _) = listings::get::<$table>(&state.db, user.as_ref(), id).await?;
                Ok(Json(view(user.as_ref(), record)))
            }

            #[utoipa::path(patch, path = concat!($path, "/{id}"), tag = $tag,
                operation_id = concat!("update_", $noun),
                summary = concat!("Edit a ", $noun, " (members of the ", $owner,
                    "'s organization). Editing a published ", $noun, " sends it back to review \
                    (`submitted`): it leaves the public catalogue until the registrar approves \
                    the new text."),
                security(("bearer" = [])),
                params(("id" = Uuid, Path, description = concat!($noun, " id"))),
                request_body = $patch,
                responses(
                    (status = 200, description = concat!("the edited ", $noun), body = $view),
                    (status = 403, description = concat!("not the ", $owner)),
                    (status = 404, description = "unknown"),
                    (status = 409, description = $edit_conflict),
                    (status = 422, description = "invalid fields"),
                ))]
            async fn update(
                State(state): State<AppState>,
                Auth(user): Auth,
                AppPath(id): AppPath<Uuid>,
                AppJson(patch): AppJson<$patch>,
            ) -> AppResult<Json<$view>> {
                let record =
                    listings::update::<$fields>(&state.db, &state.reference, &user, id, patch)
                        .await?;
                Ok(Json(view(Some(&user), record)))
            }

            #[utoipa::path(delete, path = concat!($path, "/{id}"), tag = $tag,
                operation_id = concat!("archive_", $noun),
                summary = concat!("Archive a ", $noun, " (", $owner,
                    " or registrar). It leaves the catalogue; its record is kept."),
                security(("bearer" = [])),
                params(("id" = Uuid, Path, description = concat!($noun, " id"))),
                responses(
                    (status = 200, description = "archived", body = $view),
                    (status = 403, description = concat!("not the ", $owner)),
                    (status = 409, description = "already archived"),
                ))]
            async fn archive(
                State(state): State<AppState>,
                Auth(user): Auth,
                AppPath(id): AppPath<Uuid>,
            ) -> AppResult<Json<$view>> {
                let record =
                    listings::transition::<$table>(&state.db, &user, id, Transition::Archive)
                        .await?;
                Ok(Json(view(Some(&user), record)))
            }

            #[utoipa::path(post, path = concat!($path, "/{id}/review"), tag = $tag,
                operation_id = concat!("review_", $noun),
                summary = concat!("Approve or reject a submitted ", $noun, " (registrar)."),
                security(("bearer" = [])),
                params(("id" = Uuid, Path, description = concat!($noun, " id"))),
                request_body = Review,
                responses(
                    (status = 200, description = "published or rejected", body = $view),
                    (status = 403, description = "not the registrar"),
                    (status = 409, description = "not submitted"),
                    (status = 422, description = "rejection without a reason"),
                ))]
            async fn review(
                State(state): State<AppState>,
                Auth(user): Auth,
                AppPath(id): AppPath<Uuid>,
                AppJson(review): AppJson<Review>,
            ) -> AppResult<Json<$view>> {
                let transition = review.into_transition()?;
                let record =
                    listings::transition::<$table>(&state.db, &user, id, transition).await?;
                Ok(Json(view(Some(&user), record)))
            }

            #[utoipa::path(get, path = concat!($path, "/{id}/events"), tag = $tag,
                operation_id = concat!($noun, "_events"),
                summary = concat!("Every state change of a ", $noun,
                    " (who, when, from, to, reason), for the ", $owner, " and the registrar."),
                security(("bearer" = [])),
                params(("id" = Uuid, Path, description = concat!($noun, " id"))),
                responses(
                    (status = 200, description = "the history, oldest first", body = Vec<EventView>),
                    (status = 403, description = concat!("not the ", $owner, " or the registrar")),
                    (status = 404, description = "unknown"),
                ))]
            async fn events(
                State(state): State<AppState>,
                Auth(user): Auth,
                AppPath(id): AppPath<Uuid>,
            ) -> AppResult<Json<Vec<EventView>>> {
                let events = listings::history::<$table>(&state.db, &user, id).await?;
                Ok(Json(events.into_iter().map(Into::into).collect()))
            }
        }
    };
}
