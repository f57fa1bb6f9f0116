//! Signing in by e-mail or SMS code: the requests, and the codes read from
//! the development transports' files (mail, texts).

use serde_json::{Value, json};

use super::app::TestApp;
use super::http::Reply;
use super::wait::eventually;

/// A code that is not `right`.
pub fn wrong_code(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// The 6-digit code in a sign-in mail.
pub fn code_in(mail_text: &str) -> Option<String> {
    let code: String = mail_text
        .split("code is ")
        .nth(1)?
        .chars()
        .take(6)
        .collect();
    (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

impl TestApp {
    pub async fn start_email(&self, env: &str, email: &str) -> Reply {
        self.post(
            &format!("/sdk/v1/{env}/auth/email/start"),
            None,
            json!({ "email": email }),
        )
        .await
    }

    pub async fn verify_email(&self, env: &str, verification_id: &str, code: &str) -> Reply {
        self.post(
            &format!("/sdk/v1/{env}/auth/email/verify"),
            None,
            json!({ "verification_id": verification_id, "code": code }),
        )
        .await
    }

    /// Starts a sign-in and reads the mailed code: `(verification_id, code)`.
    pub async fn start_and_read_code(&self, env: &str, email: &str) -> (String, String) {
        let started = self.start_email(env, email).await;
        let vid = started.assert_status(202)["verification_id"]
            .as_str()
            .expect("verification id")
            .to_string();
        (vid, self.take_code(email).await)
    }

    /// Spends `times` attempts with a code that is not `right`, asserting
    /// each is refused as `invalid_code`.
    pub async fn spend_wrong_attempts(
        &self,
        env: &str,
        verification_id: &str,
        right: &str,
        times: usize,
    ) {
        let wrong = wrong_code(right);
        for _ in 0..times {
            self.verify_email(env, verification_id, wrong)
                .await
                .assert_problem(400, "invalid_code");
        }
    }

    /// Spends the five code attempts an hour the address limit allows (the
    /// default), five wrong ones on one code (a code takes five).
    pub async fn exhaust_address_attempts(&self, env: &str, email: &str) {
        let (vid, code) = self.start_and_read_code(env, email).await;
        self.spend_wrong_attempts(env, &vid, &code, 5).await;
    }

    /// The newest code mailed to `email`, read from the development mail
    /// transport's `.eml` files (and removed, so the next read is fresh).
    pub async fn take_code(&self, email: &str) -> String {
        let dir = self.data_dir.join("mail");
        let needle = format!("To: {email}");
        eventually("a code arrives by mail", || {
            let entries = std::fs::read_dir(&dir).ok()?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("eml") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).ok()?;
                if text.lines().any(|l| l.eq_ignore_ascii_case(&needle)) {
                    let code = code_in(&text)?;
                    let _ = std::fs::remove_file(&path);
                    let _ = std::fs::remove_file(path.with_extension("json"));
                    return Some(code);
                }
            }
            None
        })
        .await
    }

    /// Signs in by e-mail code; returns the JWT and the whole auth result.
    pub async fn sign_in(&self, env: &str, email: &str) -> (String, Value) {
        let started = self.start_email(env, email).await;
        let vid = started.assert_status(202)["verification_id"]
            .as_str()
            .expect("verification id")
            .to_string();
        let code = self.take_code(email).await;
        let verified = self.verify_email(env, &vid, &code).await;
        let body = verified.assert_status(200).clone();
        (body["token"].as_str().expect("token").to_string(), body)
    }

    pub async fn session(&self, env: &str, token: &str) -> Reply {
        self.get(&format!("/sdk/v1/{env}/session"), Some(token))
            .await
    }

    pub async fn start_sms(&self, env: &str, phone: &str) -> Reply {
        self.post(
            &format!("/sdk/v1/{env}/auth/sms/start"),
            None,
            json!({ "phone": phone }),
        )
        .await
    }

    pub async fn verify_sms(&self, env: &str, verification_id: &str, code: &str) -> Reply {
        self.post(
            &format!("/sdk/v1/{env}/auth/sms/verify"),
            None,
            json!({ "verification_id": verification_id, "code": code }),
        )
        .await
    }

    /// The texts written by the development SMS transport (`<data
    /// dir>/sms/*.json`), as they are: none removed.
    pub fn texts(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(self.data_dir.join("sms")) else {
            return vec![];
        };
        entries
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect()
    }

    /// The newest code texted to `phone` (E.164) by the development SMS
    /// transport; its file is removed, so the next read is fresh.
    pub async fn take_sms_code(&self, phone: &str) -> String {
        let dir = self.data_dir.join("sms");
        eventually("a code arrives by SMS", || {
            for entry in std::fs::read_dir(&dir).ok()?.flatten() {
                let Ok(text) = std::fs::read(entry.path()) else {
                    continue;
                };
                let Ok(message) = serde_json::from_slice::<Value>(&text) else {
                    continue;
                };
                if message["to"] == phone {
                    let _ = std::fs::remove_file(entry.path());
                    return message["code"].as_str().map(str::to_string);
                }
            }
            None
        })
        .await
    }

    /// Turns SMS sign-in on in `env`, with the settings' other `sms` keys.
    pub async fn enable_sms(&self, env: &str, sms: Value) {
        let mut sms = sms;
        sms["enabled"] = json!(true);
        self.api(
            reqwest::Method::PATCH,
            &format!("/environments/{env}/settings/security"),
            Some(json!({ "sign_in": { "sms": sms } })),
        )
        .await
        .assert_status(200);
    }

    /// Signs in by SMS code; returns the JWT and the whole auth result.
    pub async fn sign_in_by_sms(&self, env: &str, phone: &str) -> (String, Value) {
        let started = self.start_sms(env, phone).await;
        let vid = started.assert_status(202)["verification_id"]
            .as_str()
            .expect("verification id")
            .to_string();
        let code = self.take_sms_code(phone).await;
        let body = self
            .verify_sms(env, &vid, &code)
            .await
            .assert_status(200)
            .clone();
        (body["token"].as_str().expect("token").to_string(), body)
    }
}
