//! Allowed CORS origins (issue 5): the management routes, validation and
//! normal form, advice for `live`, and enforcement on the SDK API.

use reqwest::Method;
use serde_json::json;

use crate::harness::*;

const ALLOWED: [&str; 2] = ["https://domain.com", "https://my-app-*.vercel.app"];

/// Origins a list holding `ALLOWED` must refuse.
const ADVERSARIAL: [&str; 20] = [
    "https://domain.com.evil.com",
    "https://evildomain.com",
    "https://domain.com:8443",
    "http://domain.com",
    "null",
    "https://my-app-x.vercel.app.evil.com",
    "https://my-app-x/evil.vercel.app",
    "https://my-app-x@evil.vercel.app",
    "https://my-app-x.vercel.app:444",
    "http://my-app-x.vercel.app",
    "https://my-app-x.vercel.app.",
    "https://domain.com/",
    "https://domain.com:443/",
    "https://sub.domain.com",
    "https://my-app_x.vercel.app",
    "https://evil.com#.domain.com",
    "https://evil.com?.domain.com",
    "https://domain.com%2eevil.com",
    "https://xn--domain.com",
    "file://",
];

async fn with_allowed_list(app: &TestApp, env: &str) {
    for origin in ALLOWED {
        app.add_origin(env, origin).await.assert_status(201);
    }
}

/// A server whose sandbox lists `ALLOWED`, and a session there.
async fn app_with_list() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    with_allowed_list(&app, &env).await;
    let (token, _) = app.sign_in(&env, "ada@example.com").await;
    (app, env, token)
}

fn origins_path(env: &str) -> String {
    format!("/environments/{env}/origins")
}

#[tokio::test]
async fn origins_are_validated_stored_in_normal_form_and_listed() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let accepted = [
        ("http://domain.com", "http://domain.com"),
        ("https://domain.com", "https://domain.com"),
        ("https://sub.domain.com", "https://sub.domain.com"),
        ("http://127.0.0.1:4200", "http://127.0.0.1:4200"),
        ("http://localhost:3200", "http://localhost:3200"),
        ("https://my-app-*.vercel.app", "https://my-app-*.vercel.app"),
        ("HTTPS://Shop.Example.COM:443/", "https://shop.example.com"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ];
    let mut ids = vec![];
    for (input, stored) in accepted {
        let r = app.add_origin(&env, input).await;
        let body = r.assert_status(201);
        assert_eq!(body["origin"], stored, "{input}");
        assert!(body["id"].as_str().unwrap().starts_with("ori_"));
        assert!(body["created_at"].is_string());
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    for bad in [
        "domain.com",
        "//domain.com",
        "https://domain.com/home",
        "https://domain.com?q=1",
        "https://domain.com#top",
        "https://user@domain.com",
        "https://user:pass@domain.com",
        "ftp://domain.com",
        "javascript:alert(1)",
        "https://",
        "https://domain.com:0",
        "https://domain.com:99999",
        "https://domain.com:http",
        "http://::1",
        "https://*",
        "https://domain.*",
        "https://*.com",
        "https://domain*.com",
        "http://127.1",
        "http://0x7f.0.0.1",
        "http://[::ffff:127.0.0.1]",
        "https://d\u{f6}main.com",
        "",
        "null",
    ] {
        let r = app.add_origin(&env, bad).await;
        r.assert_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "origin", "{bad}");
    }
    // A duplicate after normalization.
    for duplicate in [
        "http://[0:0::1]:8080",
        "https://DOMAIN.com",
        "https://domain.com:443",
        "https://domain.com/",
    ] {
        app.add_origin(&env, duplicate)
            .await
            .assert_problem(409, "conflict");
    }
    // Bodies that are not `{origin}`.
    for body in [
        json!({}),
        json!({"origin": 5}),
        json!({"origin": "https://a.com", "x": 1}),
    ] {
        app.api(Method::POST, &origins_path(&env), Some(body))
            .await
            .assert_problem(400, "validation_failed");
    }
    // Listed oldest first; nothing refused was stored.
    let list = app.api(Method::GET, &origins_path(&env), None).await;
    let listed: Vec<&str> = list.assert_status(200)["origins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["origin"].as_str().unwrap())
        .collect();
    assert_eq!(listed, accepted.map(|(_, stored)| stored));
    // Another environment's list is its own.
    let live = app.api(Method::GET, &origins_path(&app.live), None).await;
    assert_eq!(live.assert_status(200)["origins"], json!([]));
    app.api(
        Method::DELETE,
        &format!("/environments/{}/origins/{}", app.live, ids[0]),
        None,
    )
    .await
    .assert_problem(404, "not_found");

    // Deleting.
    let one = format!("/environments/{env}/origins/{}", ids[0]);
    app.api(Method::DELETE, &one, None).await.assert_status(204);
    app.api(Method::DELETE, &one, None)
        .await
        .assert_problem(404, "not_found");
    for id in [
        "nope",
        "%00",
        "ori_%00",
        "ori_0000000000000000000000000000000g",
    ] {
        app.api(
            Method::DELETE,
            &format!("/environments/{env}/origins/{id}"),
            None,
        )
        .await
        .assert_problem(404, "not_found");
    }
    let list = app.api(Method::GET, &origins_path(&env), None).await;
    assert_eq!(
        list.body["origins"].as_array().unwrap().len(),
        accepted.len() - 1
    );
    // Once deleted, it may be listed again.
    app.add_origin(&env, "http://domain.com")
        .await
        .assert_status(201);
}

#[tokio::test]
async fn the_list_is_capped() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    for i in 0..100 {
        app.add_origin(&env, &format!("https://app{i}.example.com"))
            .await
            .assert_status(201);
    }
    let r = app.add_origin(&env, "https://one-more.example.com").await;
    r.assert_problem(400, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("100"));
}

#[tokio::test]
async fn a_live_environment_gets_advice_about_risky_origins() {
    let app = spawn_app().await;
    let settings = format!("/environments/{}/settings/security", app.live);
    let warnings = |r: &Reply| -> Vec<(String, String)> {
        r.body["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .map(|w| {
                assert!(w["message"].as_str().is_some_and(|m| !m.is_empty()));
                (
                    w["code"].as_str().unwrap().to_string(),
                    w["origin"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let r = app.add_origin(&app.live, "https://domain.com").await;
    assert_eq!(warnings(&r), vec![]);
    let r = app.api(Method::GET, &settings, None).await;
    assert_eq!(warnings(&r), vec![]);
    assert_eq!(r.body["jwt_expiration_seconds"], 7200);

    let r = app
        .add_origin(&app.live, "https://my-app-*.vercel.app")
        .await;
    let wildcard = (
        "wildcard_origin".to_string(),
        "https://my-app-*.vercel.app".to_string(),
    );
    assert_eq!(warnings(&r), vec![wildcard.clone()]);
    app.add_origin(&app.live, "http://localhost:3200")
        .await
        .assert_status(201);
    app.add_origin(&app.live, "http://127.0.0.1:4200")
        .await
        .assert_status(201);
    app.add_origin(&app.live, "http://domain.com")
        .await
        .assert_status(201);
    let expected = vec![
        wildcard,
        ("local_origin".into(), "http://localhost:3200".into()),
        ("insecure_origin".into(), "http://localhost:3200".into()),
        ("local_origin".into(), "http://127.0.0.1:4200".into()),
        ("insecure_origin".into(), "http://127.0.0.1:4200".into()),
        ("insecure_origin".into(), "http://domain.com".into()),
    ];
    let r = app.api(Method::GET, &origins_path(&app.live), None).await;
    assert_eq!(warnings(&r), expected);
    let r = app.api(Method::GET, &settings, None).await;
    assert_eq!(warnings(&r), expected);
    // A settings change answers with the advice too, and a PATCH that sends
    // a read back whole (warnings included) is accepted.
    let mut whole = r.body.clone();
    whole["jwt_expiration_seconds"] = json!(3600);
    let r = app.api(Method::PATCH, &settings, Some(whole)).await;
    r.assert_status(200);
    assert_eq!(r.body["jwt_expiration_seconds"], 3600);
    assert_eq!(warnings(&r), expected);

    // Advice, not refusal; and not for a sandbox.
    for origin in ["https://*.vercel.app", "http://localhost:3000"] {
        let r = app.add_origin(&app.sandbox, origin).await;
        r.assert_status(201);
        assert_eq!(warnings(&r), vec![]);
    }
    let r = app
        .api(
            Method::GET,
            &format!("/environments/{}/settings/security", app.sandbox),
            None,
        )
        .await;
    assert_eq!(warnings(&r), vec![]);
}

/// No response may pair `*` with credentials, nor allow an origin it
/// refused.
#[track_caller]
fn assert_no_allow_headers(r: &Reply) {
    for name in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert_eq!(r.header(name), None, "{name} on a refusal: {:?}", r.headers);
    }
}

#[track_caller]
fn assert_allowed_for(r: &Reply, origin: &str) {
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_readable_by(r, origin);
}

/// The origin may read the answer, without credentials: what an empty
/// list gives every origin (issue 14, item 9).
#[track_caller]
fn assert_allowed_without_credentials(r: &Reply, origin: &str) {
    assert_eq!(
        r.header("access-control-allow-credentials"),
        None,
        "credentials for {origin}: {:?}",
        r.headers
    );
    assert_readable_by(r, origin);
}

#[track_caller]
fn assert_readable_by(r: &Reply, origin: &str) {
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    let vary: Vec<&str> = r
        .headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        vary.iter().any(|v| v.eq_ignore_ascii_case("origin")),
        "{vary:?}"
    );
}

#[tokio::test]
async fn preflights_from_allowed_origins_get_what_the_sdk_needs() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    with_allowed_list(&app, &env).await;
    let session = format!("/sdk/v1/{env}/session");
    for origin in [
        "https://domain.com",
        "HTTPS://DOMAIN.COM",
        "https://domain.com:443",
        "https://my-app-x.vercel.app",
        "https://my-app-.vercel.app",
        "https://my-app-pr-12.preview.vercel.app",
        "https://MY-APP-X.Vercel.App",
    ] {
        let r = app.preflight(&session, origin, "GET").await;
        assert_eq!(r.status.as_u16(), 204, "{origin}: {}", r.text);
        assert_allowed_for(&r, origin);
        let methods = r.header("access-control-allow-methods").unwrap();
        for method in ["GET", "POST", "DELETE"] {
            assert!(methods.contains(method), "{methods}");
        }
        let headers = r.header("access-control-allow-headers").unwrap();
        for header in [
            "authorization",
            "content-type",
            "x-portcullis-elevated-token",
            "x-portcullis-csrf",
        ] {
            assert!(headers.contains(header), "{headers}");
        }
        let max_age: u32 = r.header("access-control-max-age").unwrap().parse().unwrap();
        assert!(max_age > 0);
    }
    // A preflight for a route that takes POST, and one under MFA.
    let r = app
        .preflight(
            &format!("/sdk/v1/{env}/auth/email/start"),
            "https://domain.com",
            "POST",
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
    let r = app
        .preflight(
            &format!("/sdk/v1/{env}/mfa/devices/mfa_1"),
            "https://domain.com",
            "DELETE",
        )
        .await;
    assert_eq!(r.status.as_u16(), 204);
}

#[tokio::test]
async fn disallowed_origins_are_refused_before_anything_happens() {
    let (app, env, token) = app_with_list().await;
    let session = format!("/sdk/v1/{env}/session");
    let start = format!("/sdk/v1/{env}/auth/email/start");
    for origin in ADVERSARIAL {
        let r = app.preflight(&session, origin, "GET").await;
        r.assert_problem(403, "origin_not_allowed");
        assert_no_allow_headers(&r);
        let r = app
            .browser_request(Method::GET, &session, origin, Some(&token), None)
            .await;
        r.assert_problem(403, "origin_not_allowed");
        assert_no_allow_headers(&r);
        // A state change from a refused origin does not happen: no code is
        // mailed, and the session survives a refused logout.
        let r = app
            .browser_request(
                Method::POST,
                &start,
                origin,
                None,
                Some(json!({"email": "victim@example.com"})),
            )
            .await;
        r.assert_problem(403, "origin_not_allowed");
        let r = app
            .browser_request(
                Method::POST,
                &format!("/sdk/v1/{env}/logout"),
                origin,
                Some(&token),
                None,
            )
            .await;
        r.assert_problem(403, "origin_not_allowed");
    }
    app.session(&env, &token).await.assert_status(200);
    let mails = std::fs::read_dir(app.data_dir.join("mail"))
        .map(|d| {
            d.flatten()
                .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("victim@")))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(mails, 0, "a refused origin's sign-in start sent mail");
    // HEAD, and OPTIONS that is not a preflight, are checked too.
    for method in [Method::HEAD, Method::OPTIONS] {
        let r = app
            .browser_request(
                method.clone(),
                &session,
                "https://evil.com",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), 403, "{method}");
        assert_no_allow_headers(&r);
    }
    // An Origin that is not text.
    let r = app
        .raw(
            app.client
                .get(format!("{}{session}", app.base))
                .header(
                    "origin",
                    reqwest::header::HeaderValue::from_bytes(b"https://domain.com\xff").unwrap(),
                )
                .bearer_auth(&token),
        )
        .await;
    r.assert_problem(403, "origin_not_allowed");
    // Two Origin headers are not an origin.
    let r = app
        .raw(
            app.client
                .get(format!("{}{session}", app.base))
                .header("origin", "https://domain.com")
                .header("origin", "https://evil.com")
                .bearer_auth(&token),
        )
        .await;
    r.assert_problem(403, "origin_not_allowed");
    let metrics = app.get("/metrics", None).await.text;
    assert!(
        metrics.contains("portcullis_cors_checks_total{outcome=\"refused\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn answers_to_allowed_origins_carry_cors_headers_errors_included() {
    let (app, env, token) = app_with_list().await;
    let origin = "https://my-app-x.vercel.app";
    let session = format!("/sdk/v1/{env}/session");

    let r = app
        .browser_request(Method::GET, &session, origin, Some(&token), None)
        .await;
    r.assert_status(200);
    assert_allowed_for(&r, origin);
    assert!(
        r.header("access-control-expose-headers")
            .unwrap()
            .contains("retry-after")
    );
    // Errors, so the page can read the problem+json.
    let r = app
        .browser_request(Method::GET, &session, origin, Some("not-a-jwt"), None)
        .await;
    r.assert_problem(401, "invalid_token");
    assert_allowed_for(&r, origin);
    let r = app
        .browser_request(Method::GET, &session, origin, None, None)
        .await;
    r.assert_problem(401, "missing_credentials");
    assert_allowed_for(&r, origin);
    let r = app
        .browser_request(
            Method::GET,
            &format!("/sdk/v1/{env}/no-such-route"),
            origin,
            None,
            None,
        )
        .await;
    r.assert_problem(404, "not_found");
    assert_allowed_for(&r, origin);
    let big = json!({"email": "a".repeat(100_000)});
    let r = app
        .browser_request(
            Method::POST,
            &format!("/sdk/v1/{env}/auth/email/start"),
            origin,
            None,
            Some(big),
        )
        .await;
    r.assert_problem(413, "payload_too_large");
    assert_allowed_for(&r, origin);
    // A sign-in from an allowed origin works end to end.
    let r = app
        .browser_request(
            Method::POST,
            &format!("/sdk/v1/{env}/auth/email/start"),
            origin,
            None,
            Some(json!({"email": "grace@example.com"})),
        )
        .await;
    r.assert_status(202);
    assert_allowed_for(&r, origin);
    let code = app.take_code("grace@example.com").await;
    let r = app
        .browser_request(
            Method::POST,
            &format!("/sdk/v1/{env}/auth/email/verify"),
            origin,
            None,
            Some(json!({"verification_id": r.body["verification_id"], "code": code})),
        )
        .await;
    r.assert_status(200);
    assert_allowed_for(&r, origin);
}

#[tokio::test]
async fn requests_without_an_origin_and_empty_lists_are_not_restricted() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    with_allowed_list(&app, &env).await;
    // Native apps and servers send no Origin.
    let (token, _) = app.sign_in(&env, "ada@example.com").await;
    let r = app.session(&env, &token).await;
    r.assert_status(200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    // The live environment lists nothing: every origin may call it, and is
    // answered with its own origin, never `*`, and never with credentials
    // (that needs the origin on the list).
    let (live_token, _) = app.sign_in(&app.live, "ada@example.com").await;
    for origin in [
        "https://anything.example",
        "http://localhost:1234",
        "https://evil.com",
    ] {
        let r = app
            .preflight(&format!("/sdk/v1/{}/session", app.live), origin, "GET")
            .await;
        assert_eq!(r.status.as_u16(), 204);
        assert_allowed_without_credentials(&r, origin);
        let r = app
            .browser_request(
                Method::GET,
                &format!("/sdk/v1/{}/session", app.live),
                origin,
                Some(&live_token),
                None,
            )
            .await;
        r.assert_status(200);
        assert_allowed_without_credentials(&r, origin);
    }
    // `null` (sandboxed and file: pages) passes an empty list, but is never
    // echoed: such a page cannot read the answer.
    let r = app
        .browser_request(
            Method::GET,
            &format!("/sdk/v1/{}/session", app.live),
            "null",
            Some(&live_token),
            None,
        )
        .await;
    r.assert_status(200);
    assert_no_allow_headers(&r);
    // The management API is for backends: not subject, no CORS headers.
    let r = app
        .raw(
            app.client
                .get(format!("{}/api/v1/environments/{env}", app.base))
                .header("origin", "https://evil.com")
                .bearer_auth(&app.api_token),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn the_environment_in_the_path_decides_and_cannot_be_disguised() {
    let (app, env, token) = app_with_list().await;
    // The same id with a character percent-encoded: unknown, not unchecked.
    let hex = &env["env_".len()..];
    let disguised = format!("env_%{:02x}{}", hex.as_bytes()[0], &hex[1..]);
    let r = app
        .browser_request(
            Method::GET,
            &format!("/sdk/v1/{disguised}/session"),
            "https://evil.com",
            Some(&token),
            None,
        )
        .await;
    r.assert_problem(404, "not_found");
    // Without an Origin too: an escaped id is no id (so it cannot slip
    // past the lock either, docs/access.md), while the plain one works.
    let r = app
        .get(&format!("/sdk/v1/{disguised}/session"), Some(&token))
        .await;
    r.assert_problem(404, "not_found");
    app.session(&env, &token).await.assert_status(200);
    // Unknown environments are not found.
    let r = app
        .preflight(
            "/sdk/v1/env_00000000000000000000000000000000/session",
            "https://domain.com",
            "GET",
        )
        .await;
    r.assert_problem(404, "not_found");
    assert_no_allow_headers(&r);
}

#[tokio::test]
async fn a_changed_list_applies_to_the_next_request() {
    let app = spawn_app().await;
    let env = app.sandbox.clone();
    let session = format!("/sdk/v1/{env}/session");
    let (token, _) = app.sign_in(&env, "ada@example.com").await;
    let check = |origin: &'static str| {
        let (app, session, token) = (&app, &session, &token);
        async move {
            app.browser_request(Method::GET, session, origin, Some(token), None)
                .await
                .status
                .as_u16()
        }
    };
    assert_eq!(check("https://evil.com").await, 200);
    let added = app.add_origin(&env, "https://domain.com").await;
    let id = added.assert_status(201)["id"].as_str().unwrap().to_string();
    assert_eq!(check("https://evil.com").await, 403);
    assert_eq!(check("https://domain.com").await, 200);
    app.add_origin(&env, "https://other.com")
        .await
        .assert_status(201);
    app.api(
        Method::DELETE,
        &format!("/environments/{env}/origins/{id}"),
        None,
    )
    .await
    .assert_status(204);
    assert_eq!(check("https://domain.com").await, 403);
    assert_eq!(check("https://other.com").await, 200);
}

/// Every SDK operation in `/openapi.json`, so a route added later is
/// covered without editing this test.
#[tokio::test]
async fn every_sdk_route_is_subject_to_the_list() {
    let (app, env, token) = app_with_list().await;
    let doc = app.get("/openapi.json", None).await.body;
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        let Some(rest) = path.strip_prefix("/sdk/v1/{environment_id}") else {
            continue;
        };
        // Any value will do for the other parameters: the check comes first.
        let concrete = format!("/sdk/v1/{env}{rest}")
            .replace("{session_id}", "ses_1")
            .replace("{device_id}", "mfa_1");
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let r = app
                .browser_request(
                    method.clone(),
                    &concrete,
                    "https://evil.com",
                    Some(&token),
                    Some(json!({})),
                )
                .await;
            assert_eq!(r.status.as_u16(), 403, "{method} {path}: {}", r.text);
            r.assert_problem(403, "origin_not_allowed");
            let r = app
                .preflight(&concrete, "https://evil.com", method.as_str())
                .await;
            r.assert_problem(403, "origin_not_allowed");
            let r = app
                .preflight(&concrete, "https://domain.com", method.as_str())
                .await;
            assert_eq!(r.status.as_u16(), 204, "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 18, "only {checked} SDK operations found");
}
