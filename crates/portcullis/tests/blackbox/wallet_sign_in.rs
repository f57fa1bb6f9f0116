//! Sign-In with Ethereum (docs/sign-in.md, "Wallets"): the server writes
//! the EIP-4361 message for an address and chain, Python's eth-account
//! signs it (an implementation Portcullis did not write), and the signed
//! message signs the wallet's user in once. Each refusal answers its code
//! and signs no one in; a contract wallet (EIP-1271) is asked through the
//! chain's JSON-RPC node, a real server the test runs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{
    Reply, RpcNode, TestApp, claims_of, eth_sign, spawn_app, spawn_app_for_webhooks,
};

const KEY_A: &str = "0x1111111111111111111111111111111111111111111111111111111111111111";
const KEY_B: &str = "0x2222222222222222222222222222222222222222222222222222222222222222";
/// A contract wallet's address (no key signs for it).
const CONTRACT: &str = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

async fn enable_wallets(app: &TestApp, env: &str, chains: Value) {
    app.api(
        Method::PATCH,
        &format!("/environments/{env}/settings/security"),
        Some(json!({"sign_in": {"wallet": {"enabled": true}}, "chains": chains})),
    )
    .await
    .assert_status(200);
}

async fn wallet_app() -> TestApp {
    let app = spawn_app().await;
    enable_wallets(&app, &app.sandbox, json!([])).await;
    app
}

async fn nonce(app: &TestApp, address: &str, chain_id: u64, origin: Option<&str>) -> Reply {
    let path = format!("/sdk/v1/{}/auth/wallet/nonce", app.sandbox);
    let body = json!({"address": address, "chain_id": chain_id});
    match origin {
        Some(o) => {
            app.browser_request(Method::POST, &path, o, None, Some(body))
                .await
        }
        None => app.post(&path, None, body).await,
    }
}

async fn verify(app: &TestApp, message: &str, signature: &str, origin: Option<&str>) -> Reply {
    let path = format!("/sdk/v1/{}/auth/wallet/verify", app.sandbox);
    let body = json!({"message": message, "signature": signature});
    match origin {
        Some(o) => {
            app.browser_request(Method::POST, &path, o, None, Some(body))
                .await
        }
        None => app.post(&path, None, body).await,
    }
}

/// The message the server writes for `address` on chain 1, without an
/// `Origin` (a native app).
async fn message_for(app: &TestApp, address: &str) -> String {
    nonce(app, address, 1, None).await.assert_status(200)["message"]
        .as_str()
        .expect("a message")
        .to_string()
}

async fn users_count(app: &TestApp) -> usize {
    app.api(
        Method::GET,
        &format!("/environments/{}/users", app.sandbox),
        None,
    )
    .await
    .assert_status(200)["data"]
        .as_array()
        .expect("users")
        .len()
}

#[tokio::test]
async fn a_signed_message_signs_the_wallets_user_in_once() {
    let app = wallet_app().await;
    let address = eth_sign(KEY_A, "").await.address;
    let answer = nonce(&app, &address.to_lowercase(), 1, None)
        .await
        .assert_status(200)
        .clone();
    let message = answer["message"].as_str().unwrap();
    let host = app.base.trim_start_matches("http://");
    assert!(
        message.starts_with(&format!(
            "{host} wants you to sign in with your Ethereum account:\n{address}\n"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!("\nURI: {}\n", app.base)),
        "{message}"
    );
    assert!(message.contains("\nChain ID: 1\n"), "{message}");
    assert!(message.contains(&format!("\nNonce: {}\n", answer["nonce"].as_str().unwrap())));
    assert!(message.contains("\nExpiration Time: "), "{message}");

    let signed = eth_sign(KEY_A, message).await;
    let first = verify(&app, message, &signed.signature, None)
        .await
        .assert_status(200)
        .clone();
    let claims = claims_of(first["token"].as_str().unwrap());
    assert_eq!(claims["wallet"], address.as_str(), "EIP-55");
    assert_eq!(claims["amr"], json!(["pop"]));
    assert_eq!(
        first["user"]["verified_credentials"],
        json!([{"kind": "wallet", "value": address}])
    );
    // The same signed message again: its nonce is used up.
    verify(&app, message, &signed.signature, None)
        .await
        .assert_problem(400, "invalid_code");

    // A new message for the same wallet is the same user.
    let message = message_for(&app, &address).await;
    let signed = eth_sign(KEY_A, &message).await;
    let again = verify(&app, &message, &signed.signature, None)
        .await
        .assert_status(200)
        .clone();
    assert_eq!(again["user"]["id"], first["user"]["id"]);
    let token = again["token"].as_str().unwrap();
    let credentials = app
        .get(&format!("/sdk/v1/{}/credentials", app.sandbox), Some(token))
        .await
        .assert_status(200)["data"]
        .clone();
    assert_eq!(credentials.as_array().unwrap().len(), 1);
    assert_eq!(credentials[0]["kind"], "wallet");
    assert_eq!(credentials[0]["value"], address.as_str());
}

#[tokio::test]
async fn a_browser_signs_the_message_for_its_own_origin_only() {
    let app = wallet_app().await;
    let address = eth_sign(KEY_A, "").await.address;
    let origin = "https://app.example.test";
    let message = nonce(&app, &address, 1, Some(origin))
        .await
        .assert_status(200)["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("app.example.test wants you"),
        "{message}"
    );
    assert!(
        message.contains("\nURI: https://app.example.test\n"),
        "{message}"
    );
    let signed = eth_sign(KEY_A, &message).await;
    // Another site relaying the user's signature, or an app without an
    // origin: the message does not name them.
    for other in [Some("https://evil.example.test"), None] {
        let refused = verify(&app, &message, &signed.signature, other).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "message");
    }
    verify(&app, &message, &signed.signature, Some(origin))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn every_refusal_answers_its_code_and_signs_no_one_in() {
    let app = spawn_app().await;
    let a = eth_sign(KEY_A, "").await.address;
    let b = eth_sign(KEY_B, "").await.address;
    // Off until the environment turns it on.
    nonce(&app, &a, 1, None)
        .await
        .assert_problem(403, "forbidden");
    verify(&app, "x", "0x00", None)
        .await
        .assert_problem(403, "forbidden");
    enable_wallets(&app, &app.sandbox, json!([])).await;

    // Malformed requests.
    for (address, chain_id, field) in [
        ("0x1234", 1, "address"),
        // EIP-55's own example with one letter's case changed.
        ("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 1, "address"),
        (a.as_str(), 0, "chain_id"),
        (a.as_str(), 1 << 53, "chain_id"),
    ] {
        let refused = nonce(&app, address, chain_id, None).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], field, "{address}");
    }
    let message = message_for(&app, &a).await;
    let signed = eth_sign(KEY_A, &message).await;
    for (text, signature, field) in [
        ("not a message", signed.signature.as_str(), "message"),
        (message.as_str(), "0xzz", "signature"),
        (message.as_str(), signed.high_s.as_str(), "signature"),
    ] {
        let refused = verify(&app, text, signature, None).await;
        refused.assert_problem(400, "validation_failed");
        assert_eq!(
            refused.body["errors"][0]["field"], field,
            "{text} {signature}"
        );
    }

    // Well-formed, but not a proof.
    let by_b = eth_sign(KEY_B, &message).await;
    let refused = verify(&app, &message, &by_b.signature, None).await;
    refused.assert_problem(400, "invalid_code");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("EIP-1271"),
        "{:?}",
        refused.body
    );
    // The message edited to another address (signed by that address), or
    // to another chain: the nonce is bound to the address and chain it was
    // given for.
    let edited = message.replace(&a, &b);
    let signed_by_b = eth_sign(KEY_B, &edited).await;
    verify(&app, &edited, &signed_by_b.signature, None)
        .await
        .assert_problem(400, "invalid_code");
    let other_chain = message.replace("\nChain ID: 1\n", "\nChain ID: 5\n");
    let signed_other_chain = eth_sign(KEY_A, &other_chain).await;
    verify(&app, &other_chain, &signed_other_chain.signature, None)
        .await
        .assert_problem(400, "invalid_code");
    // A nonce nobody was given.
    let invented = message.replace("\nNonce: ", "\nNonce: 0");
    let signed_invented = eth_sign(KEY_A, &invented).await;
    verify(&app, &invented, &signed_invented.signature, None)
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(users_count(&app).await, 0);

    // Past its ten minutes, the right signature is refused.
    app.clock.advance(time::Duration::minutes(11));
    verify(&app, &message, &signed.signature, None)
        .await
        .assert_problem(400, "invalid_code");
    assert_eq!(users_count(&app).await, 0);
}

#[tokio::test]
async fn two_verifies_of_one_signature_make_one_session() {
    let app = wallet_app().await;
    let address = eth_sign(KEY_A, "").await.address;
    let message = message_for(&app, &address).await;
    let signed = eth_sign(KEY_A, &message).await;
    let (one, two) = tokio::join!(
        verify(&app, &message, &signed.signature, None),
        verify(&app, &message, &signed.signature, None)
    );
    let mut statuses = [one.status.as_u16(), two.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 400], "{:?} {:?}", one.body, two.body);
    assert_eq!(users_count(&app).await, 1);
}

#[tokio::test]
async fn a_contract_wallet_signs_in_when_its_chains_node_says_so() {
    let node = RpcNode::start().await;
    let app = spawn_app_for_webhooks().await;
    enable_wallets(
        &app,
        &app.sandbox,
        json!([{"chain_id": 1, "rpc_url": node.url}]),
    )
    .await;
    let message = message_for(&app, CONTRACT).await;
    // The contract's owner signs; the contract vouches for the signature.
    let signed = eth_sign(KEY_A, &message).await;
    verify(&app, &message, &signed.signature, None)
        .await
        .assert_problem(400, "invalid_code");
    let call = node.calls().pop().expect("the node was asked");
    assert_eq!(call["method"], "eth_call");
    assert_eq!(call["params"][0]["to"], CONTRACT);
    assert_eq!(call["params"][0]["data"], signed.eip1271_call.as_str());

    node.accept(CONTRACT, &signed.eip1271_call);
    let signed_in = verify(&app, &message, &signed.signature, None)
        .await
        .assert_status(200)
        .clone();
    assert_eq!(
        claims_of(signed_in["token"].as_str().unwrap())["wallet"],
        CONTRACT
    );

    // The node gone: 503, nothing signed in.
    let message = message_for(&app, CONTRACT).await;
    let signed = eth_sign(KEY_B, &message).await;
    node.go_down();
    verify(&app, &message, &signed.signature, None)
        .await
        .assert_problem(503, "unavailable");
    assert_eq!(users_count(&app).await, 1);
}
