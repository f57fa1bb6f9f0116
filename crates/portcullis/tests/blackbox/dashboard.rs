//! Issue 16: the dashboard's members' sign-in and sessions over HTTP (the
//! pages themselves are driven in Chromium by tests/browser): the cookie,
//! its hash at rest, the timeouts on the test clock, a role change or a
//! removal ending the session, same-origin and CSRF on every change, the
//! headers of every page, and no answer that tells members from strangers.

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::harness::*;

const DEFAULT_OWNER_EMAIL: &str = portcullis::config::DEFAULT_OWNER_EMAIL;

/// A browser without its conveniences: no redirects followed, the one
/// cookie kept by hand.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookie: Option<String>,
    origin: String,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The value of the first `<input name="{name}" value="…">`.
    fn input(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\" value=\""))?;
        let rest = &self.body[at + name.len() + 15..];
        Some(rest[..rest.find('"')?].to_string())
    }
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
            origin: app.base.clone(),
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.cookie {
            Some(c) => req.header("cookie", c.clone()),
            None => req,
        };
        let r = req.send().await.expect("request sent");
        let headers = r.headers().clone();
        if let Some(set) = headers.get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        Page {
            status: r.status().as_u16(),
            headers,
            body: r.text().await.unwrap_or_default(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.app.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .client
            .post(format!("{}{path}", self.app.base))
            .header("origin", self.origin.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(form));
        self.send(req).await
    }

    /// Signs `email` in with the mailed code; the member's first page.
    async fn sign_in(&mut self, email: &str) -> Page {
        let page = self.post("/dashboard/sign-in", &[("email", email)]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let id = page.input("sign_in_id").expect("a sign-in id");
        let code = self.app.take_code(email).await;
        let page = self
            .post(
                "/dashboard/sign-in/code",
                &[
                    ("sign_in_id", id.as_str()),
                    ("email", email),
                    ("code", code.as_str()),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
        page
    }

    /// The sandbox's security page, and its CSRF token.
    async fn security(&mut self) -> (Page, String) {
        let path = format!(
            "/dashboard/environments/{}/settings/security",
            self.app.sandbox
        );
        let page = self.get(&path).await;
        let csrf = page.input("csrf").unwrap_or_default();
        (page, csrf)
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn security(app: &TestApp, section: &str) -> String {
    format!(
        "/dashboard/environments/{}/settings/security/{section}",
        app.sandbox
    )
}

async fn add_member(app: &TestApp, email: &str, role: &str) -> String {
    app.api(
        Method::POST,
        "/members",
        Some(json!({ "email": email, "role": role })),
    )
    .await
    .assert_status(201)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn jwt_lifetime(app: &TestApp) -> u64 {
    app.api(
        Method::GET,
        &format!("/environments/{}/settings/security", app.sandbox),
        None,
    )
    .await
    .assert_status(200)["jwt_expiration_seconds"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_member_signs_in_to_a_hashed_http_only_strict_cookie_and_pages_carry_strict_headers() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let home = browser.get("/dashboard/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), Some("/dashboard/sign-in"));

    let landed = browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let set_cookie = landed.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.starts_with("portcullis_member="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "http public URL: {set_cookie}"
    );
    let value = browser.cookie.clone().unwrap();
    let value = value.split_once('=').unwrap().1.to_string();
    assert!(value.len() >= 43);
    let stored = app.storage.stored_bytes();
    assert!(
        !stored.windows(value.len()).any(|w| w == value.as_bytes()),
        "the cookie's value is stored only as a hash"
    );

    let (page, csrf) = browser.security().await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Security</h1>"));
    assert!(!csrf.is_empty());
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "default-src 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    assert!(!page.body.contains("<script>"), "no inline script");

    // A change's address reloaded leads to its section; an unknown page
    // is a page too.
    let reloaded = browser.get(&security(&app, "jwt-expiration")).await;
    assert_eq!(reloaded.status, 303);
    assert!(
        reloaded
            .location()
            .is_some_and(|l| l.ends_with("/settings/security#jwt-expiration"))
    );
    // htmx gets a redirect as HX-Redirect, a full navigation.
    let mut stranger = Browser::new(&app);
    let req = stranger
        .client
        .get(format!(
            "{}/dashboard/environments/{}/users",
            app.base, app.sandbox
        ))
        .header("hx-request", "true");
    let page = stranger.send(req).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["hx-redirect"], "/dashboard/sign-in");
    let missing = browser.get("/dashboard/nowhere").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("There is no such page."));
    assert!(missing.headers.contains_key("content-security-policy"));
}

#[tokio::test]
async fn a_stranger_gets_the_same_answer_as_a_member_and_no_mail() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let member = browser
        .post("/dashboard/sign-in", &[("email", DEFAULT_OWNER_EMAIL)])
        .await;
    let stranger = browser
        .post("/dashboard/sign-in", &[("email", "stranger@example.com")])
        .await;
    assert_eq!(member.status, stranger.status);
    let words = |p: &Page, email: &str| {
        p.body
            .replace(email, "ADDRESS")
            .replace(&p.input("sign_in_id").unwrap(), "ID")
    };
    assert_eq!(
        words(&member, DEFAULT_OWNER_EMAIL),
        words(&stranger, "stranger@example.com")
    );
    app.take_code(DEFAULT_OWNER_EMAIL).await;
    let mails = std::fs::read_dir(app.data_dir.join("mail"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(mails, 0, "nothing was mailed to the stranger");
    for code in ["000000", "123456"] {
        let id = stranger.input("sign_in_id").unwrap();
        let page = browser
            .post(
                "/dashboard/sign-in/code",
                &[("sign_in_id", id.as_str()), ("code", code)],
            )
            .await;
        assert_eq!(page.status, 400);
        assert!(page.body.contains("the code is wrong or no longer valid"));
        assert!(browser.cookie.is_none());
    }
    let bad = browser
        .post("/dashboard/sign-in", &[("email", "not an address")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("role=\"alert\""), "{}", bad.body);
}

#[tokio::test]
async fn a_session_ends_after_30_idle_minutes_and_12_hours_and_at_a_role_change_or_removal() {
    let app = spawn_app().await;
    let id = add_member(&app, "dev@example.com", "developer").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("dev@example.com").await;
    assert_eq!(browser.security().await.0.status, 200);
    app.advance(time::Duration::minutes(29));
    assert_eq!(browser.security().await.0.status, 200);
    app.advance(time::Duration::minutes(30));
    let page = browser.security().await.0;
    assert_eq!(
        (page.status, page.location()),
        (303, Some("/dashboard/sign-in"))
    );

    browser.sign_in("dev@example.com").await;
    for _ in 0..(12 * 3 - 1) {
        app.advance(time::Duration::minutes(20));
        assert_eq!(browser.security().await.0.status, 200);
    }
    app.advance(time::Duration::minutes(20));
    assert_eq!(browser.security().await.0.status, 303, "12 hours at most");

    browser.sign_in("dev@example.com").await;
    let app_ref = &app;
    let set_role = |role: &'static str| {
        let path = format!("/members/{id}");
        let app = app_ref;
        async move {
            app.api(Method::PATCH, &path, Some(json!({ "role": role })))
                .await
                .assert_status(200);
        }
    };
    set_role("viewer").await;
    set_role("developer").await;
    assert_eq!(
        browser.security().await.0.status,
        303,
        "a role change ends it, even changed back"
    );
    browser.sign_in("dev@example.com").await;
    set_role("viewer").await;
    assert_eq!(
        browser.security().await.0.status,
        303,
        "a role change ends it"
    );

    browser.sign_in("dev@example.com").await;
    assert_eq!(browser.security().await.0.status, 200);
    app.api(Method::DELETE, &format!("/members/{id}"), None)
        .await
        .assert_status(204);
    assert_eq!(browser.security().await.0.status, 303, "a removal ends it");

    browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let (_, csrf) = browser.security().await;
    let out = browser
        .post("/dashboard/sign-out", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(out.status, 303);
    assert!(browser.cookie.is_none(), "the cookie is cleared");
}

#[tokio::test]
async fn a_change_needs_this_origin_and_the_session_csrf_token_or_nothing_changes() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let (_, csrf) = browser.security().await;
    let path = security(&app, "jwt-expiration");
    let change = [("number", "3"), ("unit", "days")];

    let refused = browser.post(&path, &change).await;
    assert_eq!(refused.status, 403, "no token");
    let wrong = browser
        .post(
            &path,
            &[
                ("csrf", "A".repeat(43).as_str()),
                ("number", "3"),
                ("unit", "days"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 403, "another token");
    browser.origin = "https://evil.example".into();
    let foreign = browser
        .post(
            &path,
            &[("csrf", csrf.as_str()), ("number", "3"), ("unit", "days")],
        )
        .await;
    assert_eq!(foreign.status, 403, "another origin");
    assert!(foreign.body.contains("did not come from this dashboard"));
    assert_eq!(jwt_lifetime(&app).await, 7200);

    browser.origin = app.base.clone();
    let mut other = Browser::new(&app);
    other.sign_in(DEFAULT_OWNER_EMAIL).await;
    let (_, other_csrf) = other.security().await;
    assert_ne!(other_csrf, csrf, "each session has its own token");
    let crossed = browser
        .post(
            &path,
            &[
                ("csrf", other_csrf.as_str()),
                ("number", "3"),
                ("unit", "days"),
            ],
        )
        .await;
    assert_eq!(crossed.status, 403);

    let req = browser
        .client
        .post(format!("{}{path}", app.base))
        .header("origin", app.base.clone())
        .header("x-csrf-token", csrf.clone())
        .header("hx-request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&change));
    let saved = browser.send(req).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(
        saved
            .body
            .contains("JWT expiration saved: 3 days (259200 seconds).")
    );
    assert_eq!(jwt_lifetime(&app).await, 259_200);

    let bad = browser
        .post(
            &path,
            &[("csrf", csrf.as_str()), ("number", "abc"), ("unit", "days")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("enter a whole number"));
    assert_eq!(jwt_lifetime(&app).await, 259_200);
}

#[tokio::test]
async fn the_member_cookie_opens_neither_the_management_api_nor_the_sdk() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let cookie = browser.cookie.clone().unwrap();
    let value = cookie.split_once('=').unwrap().1.to_string();
    let members = app
        .raw(
            app.client
                .get(format!("{}/api/v1/members", app.base))
                .header("cookie", cookie.clone()),
        )
        .await;
    members.assert_problem(401, "missing_credentials");
    app.raw(
        app.client
            .get(format!("{}/api/v1/members", app.base))
            .bearer_auth(&value),
    )
    .await
    .assert_problem(401, "invalid_api_token");
    app.session(&app.sandbox, &value)
        .await
        .assert_problem(401, "invalid_token");
}

#[tokio::test]
async fn on_an_https_public_url_the_cookie_is_host_prefixed_and_secure() {
    let app = spawn_app_with(|c| c.public_url = Some("https://auth.example.com".into())).await;
    let mut browser = Browser::new(&app);
    browser.origin = "https://auth.example.com".into();
    let landed = browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let set_cookie = landed.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.starts_with("__Host-portcullis_member="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("; Secure"));
    assert!(!set_cookie.contains("Domain="));
    assert_eq!(browser.security().await.0.status, 200);
}

#[tokio::test]
async fn a_required_member_mfa_sends_a_member_without_totp_to_enrol_first() {
    let app = spawn_app().await;
    add_member(&app, "dev@example.com", "developer").await;
    let mut owner = Browser::new(&app);
    owner.sign_in(DEFAULT_OWNER_EMAIL).await;
    let (_, csrf) = owner.security().await;
    let set = owner
        .post(
            "/dashboard/account/require-mfa",
            &[("csrf", csrf.as_str()), ("on", "true")],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.body);

    let mut dev = Browser::new(&app);
    let landed = dev.sign_in("dev@example.com").await;
    assert_eq!(landed.location(), Some("/dashboard/account"));
    let page = dev.security().await.0;
    assert_eq!(page.location(), Some("/dashboard/account"));
    let account = dev.get("/dashboard/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("requires every member"));
    let csrf = account.input("csrf").unwrap();
    // A developer cannot change the organization's requirement.
    let refused = dev
        .post("/dashboard/account/require-mfa", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(
        refused.status, 303,
        "not signed in fully: back to enrolment"
    );
    assert_eq!(refused.location(), Some("/dashboard/account"));
}

#[tokio::test]
async fn a_member_with_totp_gives_its_code_at_sign_in_and_the_operator_can_reset_it() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let (_, csrf) = browser.security().await;
    let setup = browser
        .post("/dashboard/account/totp", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let key = setup.body.split("Key: <code>").nth(1).unwrap();
    let key = key[..key.find("</code>").unwrap()].to_string();
    let now = || crate::mfa::now_s(&app);
    let wrong = browser
        .post(
            "/dashboard/account/totp/confirm",
            &[("csrf", csrf.as_str()), ("code", "12345")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    let code = crate::mfa::totp_code(&key, now());
    let confirmed = browser
        .post(
            "/dashboard/account/totp/confirm",
            &[("csrf", csrf.as_str()), ("code", code.as_str())],
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);

    let mut again = Browser::new(&app);
    let landed = again.sign_in(DEFAULT_OWNER_EMAIL).await;
    assert_eq!(landed.location(), Some("/dashboard/sign-in/totp"));
    assert_eq!(
        again.security().await.0.location(),
        Some("/dashboard/sign-in/totp"),
        "nothing opens before the second factor"
    );
    // Starting over from the TOTP step needs no token (the session has
    // none of its own to give yet), only this origin.
    let restart = again
        .post("/dashboard/sign-in", &[("email", DEFAULT_OWNER_EMAIL)])
        .await;
    assert_eq!(restart.status, 200, "{}", restart.body);
    again.app.take_code(DEFAULT_OWNER_EMAIL).await;
    let step = again.get("/dashboard/sign-in/totp").await;
    let csrf = step.input("csrf").unwrap();
    let replayed = again
        .post(
            "/dashboard/sign-in/totp",
            &[("csrf", csrf.as_str()), ("code", code.as_str())],
        )
        .await;
    assert_eq!(replayed.status, 400, "a step works once");
    crate::mfa::next_step(&app);
    let code = crate::mfa::totp_code(&key, now());
    let waiting_cookie = again.cookie.clone();
    let done = again
        .post(
            "/dashboard/sign-in/totp",
            &[("csrf", csrf.as_str()), ("code", code.as_str())],
        )
        .await;
    assert_eq!((done.status, done.location()), (303, Some("/dashboard/")));
    assert_eq!(again.security().await.0.status, 200);
    // The session goes on under a new cookie; the value that waited for the
    // code opens nothing.
    let mut waited = Browser::new(&app);
    waited.cookie = waiting_cookie;
    assert_ne!(waited.cookie, again.cookie);
    assert_eq!(
        waited.security().await.0.location(),
        Some("/dashboard/sign-in")
    );

    // Owner actions ask for a fresh code again.
    let (_, csrf) = again.security().await;
    let lock = security(&app, "lock");
    let locked = || async {
        app.api(Method::GET, &format!("/environments/{}", app.sandbox), None)
            .await
            .assert_status(200)["locked"]
            .as_bool()
            .unwrap()
    };
    let refused = again
        .post(&lock, &[("csrf", csrf.as_str()), ("confirmed", "true")])
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("Authenticator code"));
    assert!(!locked().await);
    let used = again
        .post(
            &lock,
            &[
                ("csrf", csrf.as_str()),
                ("confirmed", "true"),
                ("totp", code.as_str()),
            ],
        )
        .await;
    assert_eq!(used.status, 400, "the sign-in's step is used");
    assert!(!locked().await);
    crate::mfa::next_step(&app);
    let code = crate::mfa::totp_code(&key, now());
    let done = again
        .post(
            &lock,
            &[
                ("csrf", csrf.as_str()),
                ("confirmed", "true"),
                ("totp", code.as_str()),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(locked().await);
    assert!(done.body.contains("banner locked"));
    crate::mfa::next_step(&app);
    let code = crate::mfa::totp_code(&key, now());
    let unlocked = again
        .post(
            &security(&app, "unlock"),
            &[
                ("csrf", csrf.as_str()),
                ("confirmed", "true"),
                ("totp", code.as_str()),
            ],
        )
        .await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert!(!locked().await);

    let owner = app
        .api(Method::GET, "/members", None)
        .await
        .assert_status(200)["members"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reset = crate::cli::operate(&app.storage, &["members", "reset-totp", &owner]).unwrap();
    assert_eq!(reset["totp_removed"], true);
    let mut third = Browser::new(&app);
    let landed = third.sign_in(DEFAULT_OWNER_EMAIL).await;
    assert_eq!(
        landed.location(),
        Some("/dashboard/"),
        "no TOTP step after the reset"
    );
}

#[tokio::test]
async fn a_members_revocations_send_the_same_signed_webhooks_naming_the_member() {
    let app = spawn_app_for_webhooks().await;
    let env = app.sandbox.clone();
    let receiver = Receiver::start().await;
    let (_, secret) = app.create_webhook(&env, &receiver.url, &[]).await;
    let (one, _) = app.sign_in(&env, "ada@example.com").await;
    let (two, _) = app.sign_in(&env, "bob@example.com").await;
    let sid = claims_of(&one)["sid"].as_str().unwrap().to_string();
    let owner = app
        .api(Method::GET, "/members", None)
        .await
        .assert_status(200)["members"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut browser = Browser::new(&app);
    browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let (_, csrf) = browser.security().await;
    let revoked = browser
        .post(
            &format!("/dashboard/environments/{env}/sessions/{sid}/revoke"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let got = receiver.wait_for("admin.user.session.revoked", 1).await;
    assert_eq!(got[0].body["data"]["id"], sid.as_str());
    assert_eq!(
        got[0].body["data"]["revoked_by"],
        json!({ "kind": "admin", "id": owner })
    );
    assert!(got[0].signed_with(&secret), "verified by standardwebhooks");
    app.session(&env, &one)
        .await
        .assert_problem(401, "session_revoked");
    app.session(&env, &two).await.assert_status(200);

    let all = browser
        .post(
            &security(&app, "sessions/revoke"),
            &[("csrf", csrf.as_str()), ("confirmed", "true")],
        )
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert!(all.body.contains("revoked_count 1"), "{}", all.body);
    // The summary names the member; each session's own event names its
    // scope, the environment (as for an API token's, docs/events.md).
    let summary = receiver.wait_for("environment.sessions.revoked", 1).await;
    assert_eq!(
        summary[0].body["data"]["revoked_by"],
        json!({ "kind": "admin", "id": owner })
    );
    assert!(summary[0].signed_with(&secret));
    let got = receiver.wait_for("admin.user.session.revoked", 2).await;
    assert_eq!(got[1].body["data"]["revoked_by"]["kind"], "environment");
    assert!(got[1].signed_with(&secret));
    app.session(&env, &two)
        .await
        .assert_problem(401, "session_revoked");
}

/// Chooses cookie storage on the security page, with `domain`.
async fn save_storage(browser: &mut Browser<'_>, path: &str, csrf: &str, domain: &str) -> Page {
    let form = [
        ("csrf", csrf),
        ("token_storage", "cookie"),
        ("cookie_domain", domain),
    ];
    browser.post(path, &form).await
}

#[tokio::test]
async fn token_storage_is_chosen_on_the_security_page_with_the_servers_reasons_on_refusal() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(DEFAULT_OWNER_EMAIL).await;
    let (page, csrf) = browser.security().await;
    assert!(page.body.contains("id=\"token-storage\""));
    let path = security(&app, "token-storage");
    let settings = format!("/environments/{}/settings/security", app.sandbox);
    let storage =
        || async { app.api(Method::GET, &settings, None).await.body["token_storage"].clone() };

    let refused = save_storage(&mut browser, &path, &csrf, "").await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("cookie storage needs at least one allowed origin")
    );
    assert!(
        refused.body.contains("value=\"cookie\" checked"),
        "the choice is kept"
    );
    assert_eq!(storage().await, "in_app");

    app.add_origin(&app.sandbox, "https://app.example.com")
        .await
        .assert_status(201);
    let foreign = save_storage(&mut browser, &path, &csrf, "example.org").await;
    assert_eq!(foreign.status, 400, "{}", foreign.body);
    assert!(foreign.body.contains("or a parent domain of it"));
    assert!(
        foreign.body.contains("value=\"example.org\""),
        "what was typed is kept"
    );
    assert_eq!(storage().await, "in_app");

    let saved = save_storage(&mut browser, &path, &csrf, "").await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Token storage saved."));
    assert_eq!(storage().await, "cookie");
}
