//! What a client may hold of the server (issue 14, item 2): a header, a
//! body or a kept-alive connection left unfinished is cut off within its
//! timeout, at most `max_connections` are served at once, and `/healthz`
//! keeps answering while slow clients fill every slot, or the open-file
//! limit. Plain TCP clients, so that nothing is finished for them.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::cli::{Server, cleared, portcullis_on};
use crate::harness::{Storage, TestApp, spawn_app_with};

/// The bound each test waits for a disconnection: ten times the
/// configured second, so that only a missing timeout fails it.
const DEADLINE: Duration = Duration::from_secs(10);

const HALF_A_HEADER: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: portcullis.test\r\n";
const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: portcullis.test\r\n\r\n";

fn second() -> Duration {
    Duration::from_secs(1)
}

async fn connect(base: &str) -> TcpStream {
    let address = base.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connected")
}

/// A connection that has sent `bytes` and then nothing more.
async fn stalled(base: &str, bytes: &[u8]) -> TcpStream {
    let mut stream = connect(base).await;
    stream.write_all(bytes).await.expect("sent");
    stream
}

/// What the server sent before closing the connection (end of stream or
/// reset); fails if it is still open after `DEADLINE`.
pub(crate) async fn read_until_closed(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let deadline = Instant::now() + DEADLINE;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => panic!(
                "still open after {DEADLINE:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// The first response's bytes on `stream`, read until its head and
/// `Content-Length` body are in.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let n = stream.read(&mut buf).await.expect("a response");
        assert!(n > 0, "closed before a whole response: {text:?}");
        received.extend_from_slice(&buf[..n]);
    }
}

async fn app_with(set: impl FnOnce(&mut portcullis::config::ConnectionLimits)) -> TestApp {
    spawn_app_with(|c| set(&mut c.connections)).await
}

#[tokio::test]
async fn a_client_that_stops_halfway_through_its_header_is_disconnected() {
    let app = app_with(|l| l.header_timeout = second()).await;
    let mut client = stalled(&app.base, HALF_A_HEADER).await;
    let received = read_until_closed(&mut client).await;
    assert_eq!(received, "", "no answer to half a header");
}

#[tokio::test]
async fn a_client_that_stops_halfway_through_its_body_gets_408_and_is_disconnected() {
    let app = app_with(|l| l.body_timeout = second()).await;
    let request = format!(
        "POST /sdk/v1/{}/auth/email/start HTTP/1.1\r\nHost: portcullis.test\r\n\
         Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{{\"",
        app.sandbox
    );
    let mut client = stalled(&app.base, request.as_bytes()).await;
    let received = read_until_closed(&mut client).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(
        received.contains("application/problem+json")
            && received.contains("\"code\":\"request_timeout\""),
        "{received}"
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_disconnected() {
    // A long header timeout: the idle one alone must close the connection.
    let app = app_with(|l| {
        l.idle_timeout = second();
        l.header_timeout = Duration::from_secs(300);
    })
    .await;
    let mut client = stalled(&app.base, HEALTHZ).await;
    let answer = read_response(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(read_until_closed(&mut client).await, "");
}

#[tokio::test]
async fn a_kept_alive_connection_serves_requests_until_it_idles() {
    let app = app_with(|l| {
        l.idle_timeout = Duration::from_secs(300);
        l.header_timeout = Duration::from_secs(300);
    })
    .await;
    let mut client = connect(&app.base).await;
    for _ in 0..3 {
        client.write_all(HEALTHZ).await.expect("sent");
        let answer = read_response(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

#[tokio::test]
async fn the_connection_cap_holds_until_a_slot_frees() {
    let app = app_with(|l| {
        l.max_connections = 2;
        l.header_timeout = Duration::from_secs(300);
    })
    .await;
    let first = stalled(&app.base, HALF_A_HEADER).await;
    let _second = stalled(&app.base, HALF_A_HEADER).await;
    let mut third = stalled(&app.base, HEALTHZ).await;
    let mut byte = [0u8; 1];
    assert!(
        timeout(second(), third.read(&mut byte)).await.is_err(),
        "a third connection was served while two held both slots"
    );
    drop(first);
    let answer = timeout(DEADLINE, read_response(&mut third))
        .await
        .expect("served once a slot was free");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_slow_clients_fill_every_slot() {
    let app = app_with(|l| {
        l.max_connections = 20;
        l.header_timeout = second();
        l.body_timeout = second();
        l.idle_timeout = second();
    })
    .await;
    let slow_body = format!(
        "POST /sdk/v1/{}/auth/email/start HTTP/1.1\r\nHost: portcullis.test\r\n\
         Content-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{{\"",
        app.sandbox
    );
    let mut clients = Vec::new();
    for _ in 0..40 {
        clients.push(stalled(&app.base, HALF_A_HEADER).await);
        clients.push(stalled(&app.base, slow_body.as_bytes()).await);
        clients.push(stalled(&app.base, HEALTHZ).await);
    }
    let reply = timeout(Duration::from_secs(30), app.get("/healthz", None))
        .await
        .expect("/healthz answered while 120 slow clients wanted 20 slots");
    reply.assert_status(200);
    drop(clients);
}

/// The report: 300 unfinished requests under an open-file limit of
/// 256 made `/healthz` time out for everyone. The real binary, under that
/// limit (a shell's `ulimit`), configured through the environment (which
/// a binary without these settings ignores). 250 clients: more than the
/// files, and no more than the slots (156) and a listen queue of 128 (the
/// smallest `somaxconn` in use) hold, so that no connection attempt waits
/// on its TCP stack's retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_slow_clients_exceed_the_open_file_limit() {
    let storage = Storage::new();
    let binary = portcullis_on(&storage);
    let mut cmd = cleared("sh");
    for (name, value) in binary.get_envs() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.env("PORTCULLIS_LISTEN", "127.0.0.1:0")
        .env("PORTCULLIS_HEADER_TIMEOUT_SECS", "1")
        .args(["-c", "ulimit -n 256 && exec \"$0\" serve"])
        .arg(binary.get_program());
    let server = Server::start(&mut cmd).await;
    let mut clients = Vec::new();
    for _ in 0..250 {
        clients.push(stalled(&server.base, HALF_A_HEADER).await);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let reply = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("/healthz answered with 250 slow clients and 256 files");
    assert_eq!(reply.status(), 200);
    drop(clients);
}
