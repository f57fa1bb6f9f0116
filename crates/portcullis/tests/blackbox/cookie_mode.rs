//! Cookie mode on the SDK API (issue 17, points 4–6): the session in an
//! `HttpOnly` cookie, the CSRF header on every change, credentialed CORS,
//! and the settings that guard it. Requests are made here as a browser
//! makes them: the `Cookie` header from what `Set-Cookie` said, and an
//! `Origin`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::*;
use crate::mfa::{next_step, now_s, patch_settings, totp_code};

const APP: &str = "https://app.example.test";

/// The sandbox in cookie mode, with the application's origin listed.
async fn cookie_app() -> TestApp {
    let app = spawn_app().await;
    app.add_origin(&app.sandbox, APP).await.assert_status(201);
    patch_settings(&app, &app.sandbox, json!({"token_storage": "cookie"})).await;
    app
}

/// What a browser keeps from one answer's `Set-Cookie` headers.
#[derive(Debug, Clone, Default)]
struct Jar {
    session: Option<String>,
    csrf: Option<String>,
}

/// The `Set-Cookie` header for `name`, whole.
fn set_cookie<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn value_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

impl Jar {
    fn from(reply: &Reply) -> Jar {
        Jar {
            session: set_cookie(reply, "portcullis_session").map(value_of),
            csrf: set_cookie(reply, "portcullis_csrf").map(value_of),
        }
    }

    fn header(&self) -> String {
        format!(
            "portcullis_session={}; portcullis_csrf={}",
            self.session.as_deref().unwrap_or_default(),
            self.csrf.as_deref().unwrap_or_default()
        )
    }
}

/// A request from the application's page carrying the cookies, and the
/// CSRF header when `csrf` is given.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    jar: &Jar,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = app
        .client
        .request(method, format!("{}/sdk/v1/{}{path}", app.base, app.sandbox))
        .header("origin", APP)
        .header("cookie", jar.header());
    if let Some(csrf) = csrf {
        req = req.header("x-portcullis-csrf", csrf);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    app.raw(req).await
}

/// Signs in by e-mail code from the application's page; the answer and
/// the cookies it set.
async fn cookie_sign_in(app: &TestApp, email: &str) -> (Reply, Jar) {
    let (vid, code) = app.start_and_read_code(&app.sandbox, email).await;
    let reply = app
        .browser_request(
            Method::POST,
            &format!("/sdk/v1/{}/auth/email/verify", app.sandbox),
            APP,
            None,
            Some(json!({"verification_id": vid, "code": code})),
        )
        .await;
    let jar = Jar::from(&reply);
    (reply, jar)
}

#[tokio::test]
async fn a_sign_in_sets_an_http_only_session_cookie_and_answers_no_token() {
    let app = cookie_app().await;
    let (reply, jar) = cookie_sign_in(&app, "ada@example.com").await;
    let body = reply.assert_status(200);
    assert!(body.get("token").is_none(), "{body}");
    let csrf = body["csrf_token"].as_str().expect("csrf_token").to_string();
    let session = set_cookie(&reply, "portcullis_session").expect("session cookie");
    assert_eq!(
        session,
        format!(
            "portcullis_session={}; Path=/; Max-Age=7200; Secure; HttpOnly; SameSite=Lax",
            jar.session.as_deref().unwrap()
        )
    );
    assert_eq!(
        set_cookie(&reply, "portcullis_csrf"),
        Some(
            format!("portcullis_csrf={csrf}; Path=/; Max-Age=7200; Secure; SameSite=Lax").as_str()
        )
    );
    // The cookie is the session's JWT, verified as a bearer token would be.
    let token = jar.session.clone().unwrap();
    assert_eq!(claims_of(&token)["sid"], body["session"]["id"]);
    app.session(&app.sandbox, &token).await.assert_status(200);
    // Credentialed CORS for the listed origin, never `*`.
    assert_eq!(reply.header("access-control-allow-origin"), Some(APP));
    assert_eq!(
        reply.header("access-control-allow-credentials"),
        Some("true")
    );

    let current = call(&app, Method::GET, "/session", &jar, None, None).await;
    let current = current.assert_status(200);
    assert_eq!(current["session"]["id"], body["session"]["id"]);
    assert_eq!(current["csrf_token"], csrf.as_str());
}

#[tokio::test]
async fn a_change_without_the_csrf_header_is_refused_and_changes_nothing() {
    let app = cookie_app().await;
    let (reply, jar) = cookie_sign_in(&app, "ada@example.com").await;
    let body = reply.assert_status(200).clone();
    let csrf = body["csrf_token"].as_str().unwrap();
    let sid = body["session"]["id"].as_str().unwrap();

    for sent in [None, Some("wrong"), Some("")] {
        call(&app, Method::POST, "/logout", &jar, sent, Some(json!({})))
            .await
            .assert_problem(403, "forbidden");
        call(
            &app,
            Method::DELETE,
            &format!("/sessions/{sid}"),
            &jar,
            sent,
            None,
        )
        .await
        .assert_problem(403, "forbidden");
    }
    // Another session's value does not do either.
    let (other, _) = cookie_sign_in(&app, "ada@example.com").await;
    let other_csrf = other.body["csrf_token"].as_str().unwrap();
    call(
        &app,
        Method::POST,
        "/logout",
        &jar,
        Some(other_csrf),
        Some(json!({})),
    )
    .await
    .assert_problem(403, "forbidden");
    call(&app, Method::GET, "/session", &jar, None, None)
        .await
        .assert_status(200);

    let out = call(
        &app,
        Method::POST,
        "/logout",
        &jar,
        Some(csrf),
        Some(json!({})),
    )
    .await;
    out.assert_status(204);
    for name in ["portcullis_session", "portcullis_csrf"] {
        let cleared = set_cookie(&out, name).expect("cleared");
        assert!(cleared.starts_with(&format!("{name}=;")), "{cleared}");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
    }
    // The old cookie, if a browser kept it, opens nothing and is cleared again.
    let after = call(&app, Method::GET, "/session", &jar, None, None).await;
    after.assert_problem(401, "session_revoked");
    assert!(set_cookie(&after, "portcullis_session").is_some_and(|c| c.contains("Max-Age=0")));
}

#[tokio::test]
async fn a_bearer_token_wins_over_the_cookie() {
    let app = cookie_app().await;
    let (_, jar) = cookie_sign_in(&app, "ada@example.com").await;
    let (_, phone) = cookie_sign_in(&app, "ada@example.com").await;
    let phone_token = phone.session.clone().unwrap();
    let phone_sid = claims_of(&phone_token)["sid"].clone();
    let req = |method: Method, path: &str| {
        app.client
            .request(method, format!("{}/sdk/v1/{}{path}", app.base, app.sandbox))
            .header("cookie", jar.header())
            .bearer_auth(&phone_token)
    };
    let seen = app.raw(req(Method::GET, "/session")).await;
    assert_eq!(seen.assert_status(200)["session"]["id"], phone_sid);
    assert!(
        seen.body.get("csrf_token").is_none(),
        "not a cookie session"
    );
    // A bearer token needs no CSRF header: a page cannot be made to send one.
    app.raw(req(Method::POST, "/logout").json(&json!({})))
        .await
        .assert_status(204);
    app.session(&app.sandbox, &phone_token)
        .await
        .assert_problem(401, "session_revoked");
    call(&app, Method::GET, "/session", &jar, None, None)
        .await
        .assert_status(200);
    // A malformed Authorization header is no reason to use the cookie.
    app.raw(
        app.client
            .get(format!("{}/sdk/v1/{}/session", app.base, app.sandbox))
            .header("cookie", jar.header())
            .header("authorization", "Basic eDp5"),
    )
    .await
    .assert_problem(401, "missing_credentials");
}

#[tokio::test]
async fn in_app_mode_reads_no_cookie_and_answers_the_token() {
    let app = cookie_app().await;
    let (_, jar) = cookie_sign_in(&app, "ada@example.com").await;
    patch_settings(&app, &app.sandbox, json!({"token_storage": "in_app"})).await;
    call(&app, Method::GET, "/session", &jar, None, None)
        .await
        .assert_problem(401, "missing_credentials");
    let (token, body) = app.sign_in(&app.sandbox, "ada@example.com").await;
    assert!(!token.is_empty());
    assert!(body.get("csrf_token").is_none());
    let config = app
        .get(&format!("/sdk/v1/{}/config", app.sandbox), None)
        .await;
    assert_eq!(config.assert_status(200)["token_storage"], "in_app");
}

#[tokio::test]
async fn cookie_mode_needs_a_listed_origin() {
    let app = spawn_app().await;
    let path = format!("/environments/{}/settings/security", app.sandbox);
    let refused = app
        .api(
            Method::PATCH,
            &path,
            Some(json!({"token_storage": "cookie"})),
        )
        .await;
    refused.assert_problem(400, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "token_storage");
    let settings = app.api(Method::GET, &path, None).await;
    assert_eq!(settings.assert_status(200)["token_storage"], "in_app");

    let added = app.add_origin(&app.sandbox, APP).await;
    let id = added.assert_status(201)["id"].as_str().unwrap().to_string();
    patch_settings(&app, &app.sandbox, json!({"token_storage": "cookie"})).await;
    let config = app
        .get(&format!("/sdk/v1/{}/config", app.sandbox), None)
        .await;
    let config = config.assert_status(200);
    assert_eq!(config["token_storage"], "cookie");
    assert_eq!(config["environment_id"], app.sandbox.as_str());

    // Emptying the list afterwards is allowed, and the advisor says why it
    // breaks sign-in; no credentialed CORS answer goes to any origin.
    app.api(
        Method::DELETE,
        &format!("/environments/{}/origins/{id}", app.sandbox),
        None,
    )
    .await
    .assert_status(204);
    let advice = app
        .api(
            Method::GET,
            &format!("/environments/{}/security/advisor", app.sandbox),
            None,
        )
        .await;
    let rules: Vec<&str> = advice
        .assert_status(200)
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        rules.contains(&"cookie_storage_without_origins"),
        "{rules:?}"
    );
    let open = app
        .browser_request(
            Method::GET,
            &format!("/sdk/v1/{}/config", app.sandbox),
            APP,
            None,
            None,
        )
        .await;
    assert_eq!(open.header("access-control-allow-credentials"), None);
}

#[tokio::test]
async fn a_cookie_domain_must_be_the_servers_host_or_above_it() {
    let app = spawn_app_with(|c| c.public_url = Some("https://auth.example.test".into())).await;
    app.add_origin(&app.sandbox, APP).await.assert_status(201);
    let path = format!("/environments/{}/settings/security", app.sandbox);
    for (domain, field) in [
        ("example.org", "cookie_domain"),
        ("EXAMPLE.test", "cookie_domain"),
    ] {
        let r = app
            .api(Method::PATCH, &path, Some(json!({"cookie_domain": domain})))
            .await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{domain}");
    }
    patch_settings(
        &app,
        &app.sandbox,
        json!({"token_storage": "cookie", "cookie_domain": "example.test"}),
    )
    .await;
    let (reply, _) = cookie_sign_in(&app, "ada@example.com").await;
    reply.assert_status(200);
    for name in ["portcullis_session", "portcullis_csrf"] {
        let c = set_cookie(&reply, name).expect("cookie");
        assert!(c.contains("; Domain=example.test;"), "{c}");
    }
}

#[tokio::test]
async fn the_second_factor_replaces_the_partial_cookie_with_a_full_one() {
    let app = cookie_app().await;
    let (reply, jar) = cookie_sign_in(&app, "ada@example.com").await;
    let csrf = reply.body["csrf_token"].as_str().unwrap().to_string();
    // Enrol TOTP through the cookie session.
    let begun = call(
        &app,
        Method::POST,
        "/mfa/totp",
        &jar,
        Some(&csrf),
        Some(json!({})),
    )
    .await;
    let begun = begun.assert_status(201).clone();
    let device = begun["device_id"].as_str().unwrap();
    let secret = begun["secret"].as_str().unwrap();
    call(
        &app,
        Method::POST,
        &format!("/mfa/totp/{device}/confirm"),
        &jar,
        Some(&csrf),
        Some(json!({"code": totp_code(secret, now_s(&app))})),
    )
    .await
    .assert_status(200);
    patch_settings(
        &app,
        &app.sandbox,
        json!({"mfa": {"session_enforcement": true}}),
    )
    .await;

    let (partial, partial_jar) = cookie_sign_in(&app, "ada@example.com").await;
    let partial = partial.assert_status(200).clone();
    assert_eq!(partial["mfa"]["required"], true);
    let partial_csrf = partial["csrf_token"].as_str().unwrap();
    let scope = claims_of(partial_jar.session.as_deref().unwrap())["scope"].clone();
    assert_eq!(scope, "requiresAdditionalAuth");
    call(&app, Method::GET, "/sessions", &partial_jar, None, None)
        .await
        .assert_problem(403, "mfa_required");
    next_step(&app);
    let code = json!({"code": totp_code(secret, now_s(&app))});
    call(
        &app,
        Method::POST,
        "/mfa/verify",
        &partial_jar,
        None,
        Some(code.clone()),
    )
    .await
    .assert_problem(403, "forbidden");
    let full = call(
        &app,
        Method::POST,
        "/mfa/verify",
        &partial_jar,
        Some(partial_csrf),
        Some(code),
    )
    .await;
    let body = full.assert_status(200).clone();
    assert!(body.get("token").is_none());
    assert_eq!(body["csrf_token"], partial_csrf, "the same session");
    let full_jar = Jar::from(&full);
    let token = full_jar.session.as_deref().expect("a new session cookie");
    assert_eq!(claims_of(token)["scope"], "user:basic");
    call(&app, Method::GET, "/sessions", &full_jar, None, None)
        .await
        .assert_status(200);
}
