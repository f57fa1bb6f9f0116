//! Each transport against a real HTTP server on 127.0.0.1:0 that plays the
//! provider (the edge of the world), or a real directory.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;

use super::*;
use crate::clock::SystemClock;

const CODE: &str = "428193";

fn message() -> SmsMessage {
    SmsMessage {
        environment_id: "env_1".into(),
        to: "+447400123456".into(),
        code: CODE.into(),
        body: format!("{CODE} is your sign-in code."),
        expires_at: "2026-12-03T17:30:00Z".into(),
    }
}

#[derive(Default)]
struct Provider {
    /// Statuses to answer, in order; then 201. `None`: never answer.
    script: Mutex<Vec<Option<u16>>>,
    seen: Mutex<Vec<(String, HeaderMap, String)>>,
}

async fn answer(
    State(p): State<Arc<Provider>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    p.seen
        .lock()
        .unwrap()
        .push((uri.path().to_string(), headers, body));
    let next = {
        let mut script = p.script.lock().unwrap();
        if script.is_empty() {
            Some(201)
        } else {
            script.remove(0)
        }
    };
    match next {
        Some(status) => StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
        None => std::future::pending().await,
    }
}

async fn provider(script: Vec<Option<u16>>) -> (String, Arc<Provider>) {
    let state = Arc::new(Provider {
        script: Mutex::new(script),
        ..Provider::default()
    });
    let app = Router::new()
        .fallback(post(answer))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

fn twilio(url: &str, deadline: Duration) -> TwilioSms {
    TwilioSms::new(
        url,
        "AC123",
        SecretString::from("token-secret"),
        TwilioSender::From("+15005550006".into()),
        deadline,
    )
    .unwrap()
}

#[tokio::test]
async fn twilio_gets_the_messages_api_form_with_basic_auth_and_a_5xx_is_retried() {
    let (url, p) = provider(vec![Some(503)]).await;
    twilio(&url, Duration::from_secs(10))
        .send(&message())
        .await
        .expect("sent on the second try");
    let seen = p.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let (path, headers, body) = &seen[1];
    assert_eq!(path, "/2010-04-01/Accounts/AC123/Messages.json");
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode("AC123:token-secret");
    assert_eq!(headers["authorization"], format!("Basic {basic}").as_str());
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(
        form,
        vec![
            ("To".into(), "+447400123456".into()),
            ("From".into(), "+15005550006".into()),
            ("Body".into(), format!("{CODE} is your sign-in code.")),
        ]
    );
}

#[tokio::test]
async fn a_refusal_is_not_retried_and_its_error_carries_no_code() {
    let (url, p) = provider(vec![Some(400)]).await;
    let error = twilio(&url, Duration::from_secs(10))
        .send(&message())
        .await
        .expect_err("refused");
    assert_eq!(p.seen.lock().unwrap().len(), 1);
    let text = error.to_string();
    assert!(
        text.contains("400") && !text.contains(CODE) && !text.contains("token-secret"),
        "{text}"
    );
}

#[tokio::test]
async fn a_provider_that_never_answers_fails_by_the_deadline() {
    let (url, p) = provider(vec![None, None, None, None]).await;
    let (sms, message) = (twilio(&url, Duration::from_millis(800)), message());
    let sending = sms.send(&message);
    // The bound is the transport's; this outer limit only keeps a broken
    // transport from hanging the test.
    let result = tokio::time::timeout(Duration::from_secs(30), sending)
        .await
        .expect("it gives up");
    assert!(result.is_err());
    assert!(!p.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_provider_is_an_error_without_the_code() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = twilio(&url, Duration::from_millis(800))
        .send(&message())
        .await
        .expect_err("no provider");
    assert!(!error.to_string().contains(CODE));
}

#[tokio::test]
async fn the_webhook_provider_signs_like_webhooks() {
    let (url, p) = provider(vec![]).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(SystemClock);
    WebhookSms::new(
        &format!("{url}/sms"),
        &SecretString::from(secret),
        Duration::from_secs(10),
        clock,
    )
    .unwrap()
    .send(&message())
    .await
    .expect("sent");
    let seen = p.seen.lock().unwrap();
    let (path, headers, body) = &seen[0];
    assert_eq!(path, "/sms");
    let header = |name: &str| headers[name].to_str().unwrap().to_string();
    let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
    let hook = standardwebhooks::Webhook::new(secret).unwrap();
    let expected = hook
        .sign(&header("webhook-id"), timestamp, body.as_bytes())
        .unwrap();
    assert_eq!(
        header("webhook-signature"),
        expected,
        "standardwebhooks agrees"
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["type"], "sms.code");
    assert_eq!(json["data"]["to"], "+447400123456");
    assert_eq!(json["data"]["code"], CODE);
}

#[tokio::test]
async fn without_a_provider_each_message_is_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let sms = FileSms::new(dir.path().join("sms")).unwrap();
    sms.send(&message()).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("sms"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        files[0].metadata().unwrap().permissions().mode() & 0o777,
        0o600
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(files[0].path()).unwrap()).unwrap();
    assert_eq!(json["code"], CODE);
}
