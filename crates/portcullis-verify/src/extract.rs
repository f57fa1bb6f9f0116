//! axum: extractors for a verified session, a partial session and an
//! elevated token, and a tower layer that verifies before the handler.
//! Rejections are the server's problem+json answers.
//!
//! The extractors find the [`Verifier`] in the request's extensions: put it
//! there with `.layer(Extension(verifier))`, or with [`VerifyLayer`] (which
//! verifies the session once for the routes under it).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::claims::Claims;
use crate::error::VerifyError;
use crate::verifier::{Verifier, check_session_scope};

/// The session cookie of the SDK's cookie mode.
pub const SESSION_COOKIE: &str = "portcullis_session";
/// The header that carries an elevated token.
pub const ELEVATED_TOKEN_HEADER: &str = "x-portcullis-elevated-token";

/// A complete session (`user:basic`), from `Authorization: Bearer …`, else
/// the `portcullis_session` cookie. A partial session is refused with 403
/// `mfa_required`.
#[derive(Debug, Clone)]
pub struct VerifiedSession(pub Claims);

/// A complete or partial session (MFA outstanding), for the routes that
/// help the user finish signing in. `.0.is_partial()` tells which.
#[derive(Debug, Clone)]
pub struct PartialSession(pub Claims);

/// The action an [`ElevatedToken`] is for.
pub trait ElevatedScope {
    const SCOPE: &'static str;
}

/// The server's action scopes (API.md); define others by implementing
/// [`ElevatedScope`].
pub mod scopes {
    use super::ElevatedScope;

    macro_rules! scope {
        ($name:ident, $scope:literal) => {
            #[doc = concat!("`", $scope, "`")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl ElevatedScope for $name {
                const SCOPE: &'static str = $scope;
            }
        };
    }

    scope!(CredentialLink, "credential:link");
    scope!(CredentialUnlink, "credential:unlink");
    scope!(WalletSign, "wallet:sign");
    scope!(WalletExport, "wallet:export");
}

/// A complete session and an elevated token of that session for the action
/// `S` (header `X-Portcullis-Elevated-Token`). Without one: 403
/// `elevated_token_required`.
pub struct ElevatedToken<S> {
    /// The elevated token's claims (`scope` is `S::SCOPE`).
    pub claims: Claims,
    /// The session it is bound to.
    pub session: Claims,
    scope: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for ElevatedToken<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElevatedToken")
            .field("claims", &self.claims)
            .field("session", &self.session)
            .finish()
    }
}

/// Claims the layer verified; the extractors still apply their scope rule.
#[derive(Clone)]
struct LayerVerified(Claims);

impl<S: Send + Sync> FromRequestParts<S> for VerifiedSession {
    type Rejection = VerifyError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, VerifyError> {
        session_of(parts, false).await.map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PartialSession {
    type Rejection = VerifyError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, VerifyError> {
        session_of(parts, true).await.map(Self)
    }
}

impl<S: Send + Sync, A: ElevatedScope> FromRequestParts<S> for ElevatedToken<A> {
    type Rejection = VerifyError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, VerifyError> {
        let session = session_of(parts, false).await?;
        let token = header_str(&parts.headers, ELEVATED_TOKEN_HEADER)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(VerifyError::ElevatedTokenRequired)?;
        let claims = verifier_of(parts)?
            .verify_elevated(token, A::SCOPE, Some(&session))
            .await?;
        Ok(Self {
            claims,
            session,
            scope: PhantomData,
        })
    }
}

/// The session the layer verified, else the token's, by the scope rule.
async fn session_of(parts: &Parts, allow_partial: bool) -> Result<Claims, VerifyError> {
    if let Some(LayerVerified(claims)) = parts.extensions.get::<LayerVerified>() {
        check_session_scope(claims, allow_partial)?;
        return Ok(claims.clone());
    }
    let verifier = verifier_of(parts)?;
    verify_session(&verifier, &parts.headers, allow_partial).await
}

async fn verify_session(
    verifier: &Verifier,
    headers: &HeaderMap,
    allow_partial: bool,
) -> Result<Claims, VerifyError> {
    let token = session_token(headers).ok_or(VerifyError::MissingCredentials)?;
    match allow_partial {
        true => verifier.verify_partial_session(token).await,
        false => verifier.verify_session(token).await,
    }
}

fn verifier_of(parts: &Parts) -> Result<Verifier, VerifyError> {
    parts.extensions.get::<Verifier>().cloned().ok_or_else(|| {
        tracing::error!(
            "no portcullis_verify::Verifier in the request's extensions: \
             add .layer(Extension(verifier)) or a VerifyLayer"
        );
        VerifyError::Unavailable
    })
}

/// `Authorization: Bearer …`, else the `portcullis_session` cookie.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    bearer_token(headers).or_else(|| session_cookie(headers))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = header_str(headers, header::AUTHORIZATION.as_str())?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// RFC 9457 problem details, as the server answers.
#[derive(Serialize)]
struct Problem {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: &'static str,
}

impl IntoResponse for VerifyError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        let problem = Problem {
            kind: format!("urn:portcullis:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            code: self.code(),
            detail: self.detail(),
        };
        let mut response =
            (status, serde_json::to_vec(&problem).unwrap_or_default()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self == VerifyError::Unavailable {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// A tower layer that verifies the session of every request before the
/// inner service, answers a refusal itself, and puts the [`Claims`] (and the
/// [`Verifier`]) in the request's extensions, where the extractors and
/// `Extension<Claims>` find them.
#[derive(Clone, Debug)]
pub struct VerifyLayer {
    verifier: Verifier,
    allow_partial: bool,
}

impl VerifyLayer {
    /// Complete sessions only.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            allow_partial: false,
        }
    }

    /// Lets partial sessions through too ([`VerifiedSession`] still refuses
    /// them under this layer; [`PartialSession`] takes them).
    pub fn allow_partial(mut self) -> Self {
        self.allow_partial = true;
        self
    }
}

impl<I> tower::Layer<I> for VerifyLayer {
    type Service = VerifyService<I>;

    fn layer(&self, inner: I) -> VerifyService<I> {
        VerifyService {
            inner,
            verifier: self.verifier.clone(),
            allow_partial: self.allow_partial,
        }
    }
}

/// The service of a [`VerifyLayer`].
#[derive(Clone, Debug)]
pub struct VerifyService<I> {
    inner: I,
    verifier: Verifier,
    allow_partial: bool,
}

impl<I> tower::Service<Request> for VerifyService<I>
where
    I: tower::Service<Request, Response = Response> + Clone + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Response;
    type Error = I::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, I::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), I::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clone that was polled ready serves this request.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let verifier = self.verifier.clone();
        let allow_partial = self.allow_partial;
        Box::pin(async move {
            match verify_session(&verifier, request.headers(), allow_partial).await {
                Ok(claims) => {
                    let extensions = request.extensions_mut();
                    extensions.insert(LayerVerified(claims.clone()));
                    extensions.insert(claims);
                    extensions.insert(verifier);
                    inner.call(request).await
                }
                Err(error) => Ok(error.into_response()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_comes_before_the_cookie() {
        let both = headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "portcullis_session=xyz"),
        ]);
        assert_eq!(session_token(&both), Some("abc"));
        let cookie_only = headers(&[
            ("authorization", "Basic dXNlcg=="),
            ("cookie", "a=1; portcullis_session=xyz; b=2"),
        ]);
        assert_eq!(session_token(&cookie_only), Some("xyz"));
        assert_eq!(
            session_token(&headers(&[("authorization", "bearer  t ")])),
            Some("t")
        );
    }

    #[test]
    fn no_token_is_none() {
        assert_eq!(session_token(&headers(&[])), None);
        assert_eq!(
            session_token(&headers(&[("authorization", "Bearer ")])),
            None
        );
        let other = headers(&[("cookie", "portcullis_session_x=1; portcullis_csrf=2")]);
        assert_eq!(session_token(&other), None);
        assert_eq!(
            session_token(&headers(&[("cookie", "portcullis_session=")])),
            None
        );
    }
}
