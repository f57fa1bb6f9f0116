//! A backend with one protected route, `GET /api/me`.
//!
//! ```sh
//! PORTCULLIS_URL=http://localhost:8080 PORTCULLIS_ENVIRONMENT=env_… \
//!   cargo run -p portcullis-verify --example axum
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/api/me
//! ```

use axum::routing::get;
use axum::{Extension, Json, Router};
use portcullis_verify::{VerifiedSession, Verifier, VerifierOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("PORTCULLIS_URL").unwrap_or_else(|_| "http://localhost:8080".into());
    let environment = std::env::var("PORTCULLIS_ENVIRONMENT")
        .map_err(|_| "set PORTCULLIS_ENVIRONMENT to the environment's id (env_…)")?;
    let issuer = format!("{}/sdk/v1/{environment}", url.trim_end_matches('/'));
    let verifier = Verifier::discover(&issuer, &environment, VerifierOptions::default()).await?;

    let app = Router::new()
        .route("/api/me", get(me))
        .layer(Extension(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("GET http://{}/api/me", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// Answers only a complete, valid session: 401/403 problem+json otherwise.
async fn me(VerifiedSession(claims): VerifiedSession) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "user_id": claims.sub,
        "session_id": claims.sid,
        "email": claims.email,
    }))
}
