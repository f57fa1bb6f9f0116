//! Serving connections, in place of `axum::serve` (which bounds nothing):
//! at most `max_connections` at once (more wait in the listen queue), a
//! header timeout, an idle timeout between requests, a body deadline, an
//! accept loop that pauses when the process is out of files, and a
//! graceful shutdown; with TLS (`tls.rs`), the handshake first, within the
//! header timeout. The limits and their reasons: docs/deployment.md,
//! "Connections".

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;
use tower_http::timeout::DeadlineBody;

use super::tls::ServerTls;
use crate::config::ConnectionLimits;

/// Open files kept for everything but client connections: the database
/// and its pool, mail, webhook deliveries, logs.
const RESERVED_FILES: u64 = 100;
/// How long a shutdown waits for the answers in progress.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// The pause after an accept that failed for want of resources (`EMFILE`,
/// `ENFILE`, `ENOBUFS`…): the loop neither spins nor gives up.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);
/// At most one log line about failing accepts per this much time.
const ACCEPT_LOG_EVERY: Duration = Duration::from_secs(1);

/// Connections the kernel completes and keeps for the accept loop while
/// every slot is taken (capped by the system's `somaxconn`); past it, new
/// clients' connection attempts are retried by their TCP stack, seconds
/// apart.
const LISTEN_BACKLOG: u32 = 1024;

/// A listening socket on `address`, with `LISTEN_BACKLOG`.
pub fn listen(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As the standard library's bind does: a restart may listen again at
    // once, while the old connections linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Raises the soft open-file limit to the hard one; returns the limit now
/// in force (`None` if it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection cap in force: the configured one, lowered so that the
/// connections cannot take the files the rest of the server needs.
pub fn connection_cap(configured: usize, open_files: Option<u64>) -> usize {
    let Some(files) = open_files else {
        return configured;
    };
    let room = files.saturating_sub(RESERVED_FILES).max(files / 2).max(1);
    configured.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the
/// answers in progress finish (for at most `SHUTDOWN_GRACE`). With `tls`,
/// each connection's TLS handshake comes first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    tls: Option<Arc<ServerTls>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    // hyper's own header timer runs from the moment a connection is ready
    // for a request, the idle wait included. Set to both bounds together
    // it never fires before `Deadlines` does; what it brings is that hyper
    // reads again as soon as a connection turns idle (without a header
    // timer it would not, and the idle deadline would never start).
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout + limits.idle_timeout);
    let mut failures = AcceptFailures::default();
    tokio::pin!(shutdown);
    loop {
        // A slot first: with every slot taken, new connections wait in
        // the listen queue until a timeout or a finished client frees one.
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    failures.pause(e).await;
                    continue;
                }
            },
        };
        let started = Instant::now();
        let activity = Arc::new(Activity::default());
        let deadlines = activity.clone();
        let router = router.clone();
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let answering = activity.begin();
            let mut req = req.map(|body| limit_body(body, body_timeout));
            req.extensions_mut().insert(ConnectInfo(peer));
            let answer = router.clone().oneshot(req);
            async move {
                let response = answer.await;
                drop(answering);
                response
            }
        });
        let (builder, watcher, tls) = (builder.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            let served = match tls {
                None => {
                    let io = TokioIo::new(Deadlines::new(stream, deadlines, limits, started));
                    watcher.watch(builder.serve_connection(io, service)).await
                }
                Some(tls) => {
                    let due = started + limits.header_timeout;
                    match tls.handshake(stream, due).await {
                        Some(stream) => {
                            let io =
                                TokioIo::new(Deadlines::new(stream, deadlines, limits, started));
                            watcher.watch(builder.serve_connection(io, service)).await
                        }
                        None => Ok(()),
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("answers still in progress at shutdown were cut off");
    }
    Ok(())
}

/// The request body, which must be whole within `timeout` of the header's
/// end; past it, reading fails with `tower_http`'s `TimeoutError`, which
/// `ApiJson` answers with 408 `request_timeout`.
fn limit_body(body: Incoming, timeout: Duration) -> Body {
    if body.is_end_stream() {
        Body::new(body)
    } else {
        Body::new(DeadlineBody::new(timeout, body))
    }
}

/// Logs failing accepts at most once per `ACCEPT_LOG_EVERY`, and pauses.
#[derive(Default)]
struct AcceptFailures {
    logged_at: Option<Instant>,
    unlogged: u64,
}

impl AcceptFailures {
    async fn pause(&mut self, e: io::Error) {
        // The client left before it was accepted: nothing is short.
        if matches!(
            e.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionRefused
        ) {
            return;
        }
        let now = Instant::now();
        if self
            .logged_at
            .is_none_or(|at| now.duration_since(at) >= ACCEPT_LOG_EVERY)
        {
            tracing::warn!(
                error = %e,
                failures_since_last_report = self.unlogged,
                "cannot accept connections (open-file limit?); pausing"
            );
            self.logged_at = Some(now);
            self.unlogged = 0;
        } else {
            self.unlogged += 1;
        }
        tokio::time::sleep(ACCEPT_PAUSE).await;
    }
}

/// Whether a connection is answering a request, and how many it has
/// answered: the service writes it, `Deadlines` reads it.
#[derive(Default)]
struct Activity {
    answering: AtomicUsize,
    answered: AtomicU64,
}

impl Activity {
    fn begin(self: &Arc<Self>) -> Answering {
        self.answering.fetch_add(1, Ordering::AcqRel);
        Answering(self.clone())
    }
}

/// A request being answered; dropped when its answer is ready (or the
/// connection is gone).
struct Answering(Arc<Activity>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answered.fetch_add(1, Ordering::AcqRel);
        self.0.answering.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// For the rest of a header: the header timeout runs.
    Header,
    /// For the first byte of the next request: the idle timeout runs.
    Idle,
}

/// The client's socket (or its TLS stream: the deadlines are on the
/// decrypted bytes), with the header and idle deadlines: a read that would
/// wait past the deadline fails, and hyper closes the connection. While a
/// request is being answered no deadline runs here (its body has its own,
/// `limit_body`).
struct Deadlines<S> {
    stream: S,
    activity: Arc<Activity>,
    header_timeout: Duration,
    idle_timeout: Duration,
    wait: Wait,
    /// `activity.answered` when `wait` was last set.
    seen: u64,
    deadline: Pin<Box<Sleep>>,
}

impl<S> Deadlines<S> {
    fn new(stream: S, activity: Arc<Activity>, limits: ConnectionLimits, started: Instant) -> Self {
        Self {
            stream,
            activity,
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            // The first request's header is due from the connection's
            // start (its accept, before any TLS handshake).
            wait: Wait::Header,
            seen: 0,
            deadline: Box::pin(tokio::time::sleep_until(started + limits.header_timeout)),
        }
    }

    fn wait_for(&mut self, wait: Wait) {
        let timeout = match wait {
            Wait::Header => self.header_timeout,
            Wait::Idle => self.idle_timeout,
        };
        self.wait = wait;
        self.deadline.as_mut().reset(Instant::now() + timeout);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadlines<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if this.activity.answering.load(Ordering::Acquire) > 0 {
            return read;
        }
        let answered = this.activity.answered.load(Ordering::Acquire);
        if answered != this.seen {
            this.seen = answered;
            this.wait_for(Wait::Idle);
        }
        match read {
            Poll::Ready(Ok(())) if this.wait == Wait::Idle && buf.filled().len() > before => {
                this.wait_for(Wait::Header);
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.deadline.as_mut().poll(cx).is_ready() => {
                let what = match this.wait {
                    Wait::Header => "the request header was not received in time",
                    Wait::Idle => "the kept-alive connection was idle too long",
                };
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadlines<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_files_for_the_rest_of_the_server() {
        assert_eq!(connection_cap(10_000, None), 10_000);
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(connection_cap(10_000, Some(1024)), 924);
        assert_eq!(connection_cap(10_000, Some(256)), 156);
        assert_eq!(connection_cap(10_000, Some(64)), 32);
        assert_eq!(connection_cap(10_000, Some(0)), 1);
        assert_eq!(connection_cap(50, Some(256)), 50);
    }
}
