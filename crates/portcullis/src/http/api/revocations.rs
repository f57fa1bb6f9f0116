//! The revocation feed for verifiers (docs/verify.md).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;

use super::{authorized_environment_even_locked, query};
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiAuth, Viewer};
use crate::http::views::revocations::RevocationPage;
use crate::services::revocation_feed::{FeedAnswer, FeedWatch};
use crate::services::{ServiceError, Services};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// `next_cursor` of the previous page; empty or absent: everything kept,
    /// which is the whole current state.
    pub after: Option<String>,
    /// 1 to 1000, default 500.
    pub limit: Option<u32>,
}

/// The environment's revocations since `after`, in the order they were
/// recorded. Open while the environment is locked: verifiers need them
/// most during an incident.
#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/revocations", tag = "management",
    params(("environment_id" = String, Path), FeedQuery),
    security(("api_token" = [])),
    responses(
        (status = 200, body = RevocationPage),
        (status = 410, description = "cursor_expired: the cursor is older than what the feed keeps; start over without `after`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revocations(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
    q: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<RevocationPage>> {
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let q = query(q)?;
    let page = services
        .revocation_feed
        .page(env.id(), q.after.as_deref(), q.limit)
        .await?;
    Ok(Json(page.into()))
}

/// A stream with nothing new looks again this often even without a wake-up:
/// a missed one costs at most this much delay.
const LOOK_AGAIN: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Where to start, as for the feed; the `Last-Event-ID` header, sent
    /// by a reconnecting client, wins over it.
    pub after: Option<String>,
}

/// The feed's entries as Server-Sent Events, as they are recorded on any
/// node: `event: revocations` with `id:` the cursor after it and the feed's
/// page as `data:`; first the page from the cursor (the whole current state
/// without one), then one event each time entries follow. A comment every
/// 15 s keeps proxies from closing an idle stream. `event: resync` then the
/// end: the client fell behind what the server keeps; start over without a
/// cursor.
#[utoipa::path(get, path = "/api/v1/environments/{environment_id}/revocations/stream", tag = "management",
    params(("environment_id" = String, Path), StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "the last `id:` received: resume after it")),
    security(("api_token" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", description = "events `revocations` (data: a RevocationPage) and `resync`"),
        (status = 410, description = "cursor_expired: the cursor is older than what the feed keeps; start over without it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revocation_stream(
    State(services): State<Arc<Services>>,
    auth: ApiAuth<Viewer>,
    Path(environment_id): Path<String>,
    headers: HeaderMap,
    q: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let env = authorized_environment_even_locked(&services, &auth.0, &environment_id).await?;
    let q = query(q)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let feed = services.revocation_feed.clone();
    // Watch first: what is recorded while the first page is read wakes it.
    let watch = feed.watch();
    // The first page now, so a bad or too old cursor is a plain answer.
    let first = feed
        .page(env.id(), resume.or(q.after).as_deref(), None)
        .await?;
    let heartbeat = feed.heartbeat();
    let state = StreamState {
        services,
        environment_id: env.id().to_string(),
        cursor: first.next_cursor.clone(),
        first: Some(first),
        more: false,
        watch,
        done: false,
    };
    let events = futures::stream::unfold(state, next_event);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat")))
}

struct StreamState {
    services: Arc<Services>,
    environment_id: String,
    cursor: String,
    first: Option<FeedAnswer>,
    /// The last page said more entries follow: read on without waiting.
    more: bool,
    watch: FeedWatch,
    done: bool,
}

fn page_event(page: FeedAnswer) -> Event {
    let id = page.next_cursor.clone();
    let data = serde_json::to_string(&RevocationPage::from(page)).unwrap_or_default();
    Event::default().event("revocations").id(id).data(data)
}

/// The stream's next event: the first page, then a page each time the
/// cursor can move. Each client reads from its own cursor, so a slow one
/// delays nobody; one that falls behind what is kept is told to resync.
async fn next_event(mut s: StreamState) -> Option<(Result<Event, Infallible>, StreamState)> {
    if s.done {
        return None;
    }
    if let Some(first) = s.first.take() {
        s.more = first.has_more;
        return Some((Ok(page_event(first)), s));
    }
    loop {
        if !s.more {
            tokio::select! {
                () = s.watch.closing.cancelled() => return None,
                changed = s.watch.changed.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = tokio::time::sleep(LOOK_AGAIN) => {}
            }
        }
        let page = s
            .services
            .revocation_feed
            .page(&s.environment_id, Some(&s.cursor), None)
            .await;
        match page {
            Ok(page) if page.next_cursor != s.cursor => {
                s.more = page.has_more;
                s.cursor = page.next_cursor.clone();
                return Some((Ok(page_event(page)), s));
            }
            Ok(_) => s.more = false,
            Err(ServiceError::CursorExpired) => {
                s.done = true;
                let resync = Event::default()
                    .event("resync")
                    .data(r#"{"reason":"the cursor is older than what the feed keeps; start over without it"}"#);
                return Some((Ok(resync), s));
            }
            Err(e) => {
                // The database out of reach: look again later.
                tracing::warn!(error = %e, "revocation stream: cannot read the feed");
                s.more = false;
            }
        }
    }
}
