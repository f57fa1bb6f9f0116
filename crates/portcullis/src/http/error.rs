//! RFC 9457 problem details with the stable codes of API.md.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::validation::{FieldError, ValidationErrors};
use crate::services::ServiceError;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:portcullis:problem:<code>`
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable (API.md, "Errors").
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            errors: vec![],
            retry_after: None,
        }
    }

    pub fn validation(errors: ValidationErrors) -> Self {
        let detail = errors
            .0
            .iter()
            .map(|e| {
                if e.field.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.field, e.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            errors: errors.0,
            ..Self::new(StatusCode::BAD_REQUEST, "validation_failed", detail)
        }
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use StatusCode as S;
        match e {
            ServiceError::Validation(v) => Self::validation(v),
            ServiceError::InvalidCode => Self::new(
                S::BAD_REQUEST,
                "invalid_code",
                "the code is wrong or no longer valid",
            ),
            ServiceError::InvalidCodeBecause(why) => Self::new(S::BAD_REQUEST, "invalid_code", why),
            ServiceError::MissingCredentials => Self::new(
                S::UNAUTHORIZED,
                "missing_credentials",
                "no credentials were sent",
            ),
            ServiceError::InvalidToken => Self::new(
                S::UNAUTHORIZED,
                "invalid_token",
                "the token is not valid for this environment",
            ),
            ServiceError::TokenExpired => {
                Self::new(S::UNAUTHORIZED, "token_expired", "the token has expired")
            }
            ServiceError::SessionRevoked => Self::new(
                S::UNAUTHORIZED,
                "session_revoked",
                "the session was revoked",
            ),
            ServiceError::InvalidApiToken => Self::new(
                S::UNAUTHORIZED,
                "invalid_api_token",
                "the API token is unknown, revoked or expired",
            ),
            ServiceError::Forbidden => Self::new(
                S::FORBIDDEN,
                "forbidden",
                "the caller's role or scope does not allow this",
            ),
            ServiceError::MethodDisabled(method) => Self::new(
                S::FORBIDDEN,
                "forbidden",
                format!("sign-in by {method} is turned off for this environment"),
            ),
            ServiceError::MfaRequired => Self::new(
                S::FORBIDDEN,
                "mfa_required",
                "this session must complete multi-factor authentication first",
            ),
            ServiceError::ElevatedTokenRequired => Self::new(
                S::FORBIDDEN,
                "elevated_token_required",
                "this action needs a valid elevated token for its scope \
                 (header X-Portcullis-Elevated-Token)",
            ),
            ServiceError::NotFound => Self::not_found(),
            ServiceError::Conflict(what) => Self::new(S::CONFLICT, "conflict", what),
            ServiceError::RateLimited { retry_after_secs } => Self {
                retry_after: Some(retry_after_secs.max(1)),
                ..Self::new(
                    S::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests; retry later",
                )
            },
            ServiceError::EnvironmentLocked => {
                Self::new(S::LOCKED, "environment_locked", "the environment is locked")
            }
            ServiceError::CursorExpired => Self::new(
                S::GONE,
                "cursor_expired",
                "the cursor is older than what the feed keeps; start over without `after`",
            ),
            ServiceError::Unavailable => Self {
                retry_after: Some(1),
                ..Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "this node cannot answer this right now; retry",
                )
            },
            ServiceError::Internal(fault) => {
                let correlation_id =
                    crate::crypto::random_id("err").unwrap_or_else(|_| "err_unavailable".into());
                tracing::error!(%correlation_id, error = %fault.report(), "internal error");
                Self::new(
                    S::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("internal error (correlation id {correlation_id})"),
                )
            }
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        Self::validation(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:portcullis:problem:{}", self.code),
            title: self
                .status
                .canonical_reason()
                .unwrap_or("Error")
                .to_string(),
            status: self.status.as_u16(),
            code: self.code.to_string(),
            detail: self.detail,
            errors: self.errors,
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
