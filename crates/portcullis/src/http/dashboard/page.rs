//! What every dashboard page shares: the signed-in member (from the
//! gate's work), the layout (environment switcher, lock banner), messages,
//! rendering, redirects and errors as pages.

use std::sync::Arc;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::domain::member_session::SessionState;
use crate::domain::roles::Role;
use crate::http::error::ApiError;
use crate::services::api_tokens::ApiCaller;
use crate::services::environments::EnvironmentRuntime;
use crate::services::lock::EnvironmentInfo;
use crate::services::member_access::MemberSession;
use crate::services::sessions::ClientInfo;
use crate::services::{ServiceError, Services};

/// A message shown on a page, next to what it is about.
#[derive(Debug, Clone)]
pub struct Message {
    /// `success`, `error` or `warning`
    pub kind: &'static str,
    pub text: String,
}

impl Message {
    pub fn success(text: impl Into<String>) -> Self {
        Message {
            kind: "success",
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Message {
            kind: "error",
            text: text.into(),
        }
    }

    /// Errors interrupt a screen reader (`alert`); the rest wait (`status`).
    pub fn role(&self) -> &'static str {
        match self.kind {
            "error" => "alert",
            _ => "status",
        }
    }

    /// What a refused change says on the page: the service's own words.
    pub fn of(e: ServiceError) -> (StatusCode, Message) {
        let e = ApiError::from(e);
        (e.status, Message::error(e.detail))
    }
}

/// The page frame of a signed-in member.
pub struct Layout {
    pub email: String,
    pub role: &'static str,
    pub csrf: String,
    pub environments: Vec<EnvironmentInfo>,
    pub env: Option<EnvironmentInfo>,
}

impl Layout {
    /// Is `e` the environment the page is about?
    pub fn is_current(&self, e: &EnvironmentInfo) -> bool {
        self.env.as_ref().is_some_and(|env| env.id == e.id)
    }
}

/// The request's signed-in member: redirected to sign in when there is
/// none, to the TOTP step or to enrolment while those are due.
pub struct Member {
    pub session: MemberSession,
    pub client: ClientInfo,
}

/// Any member session, whatever stage it is at (the TOTP step and
/// enrolment pages).
pub struct AnyMember(pub Member);

/// A session the gate found, or none.
#[derive(Clone)]
pub struct FoundSession(pub Option<MemberSession>);

async fn member_of(parts: &mut Parts) -> Result<Member, DashError> {
    let session = parts
        .extensions
        .get::<FoundSession>()
        .and_then(|f| f.0.clone())
        .ok_or(DashError::Redirect("/dashboard/sign-in".into()))?;
    let client = crate::http::extract::client_info(parts);
    Ok(Member { session, client })
}

impl FromRequestParts<Arc<Services>> for AnyMember {
    type Rejection = DashError;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &Arc<Services>,
    ) -> Result<Self, Self::Rejection> {
        Ok(AnyMember(member_of(parts).await?))
    }
}

impl FromRequestParts<Arc<Services>> for Member {
    type Rejection = DashError;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &Arc<Services>,
    ) -> Result<Self, Self::Rejection> {
        let member = member_of(parts).await?;
        match member.session.state {
            SessionState::Active => Ok(member),
            SessionState::AwaitingTotp => {
                Err(DashError::Redirect("/dashboard/sign-in/totp".into()))
            }
            SessionState::MustEnrol => Err(DashError::Redirect("/dashboard/account".into())),
            SessionState::Ended => Err(DashError::Redirect("/dashboard/sign-in".into())),
        }
    }
}

impl Member {
    /// The member as a caller of the services the management API calls.
    pub fn caller(&self) -> ApiCaller {
        ApiCaller::member(
            &self.session.member_id,
            &self.session.organization_id,
            self.session.role,
        )
    }

    pub fn actor(&self) -> crate::domain::actor::Actor {
        crate::domain::actor::Actor::member(&self.session.member_id, self.client.ip_address.clone())
    }

    pub fn may(&self, role: Role) -> bool {
        self.session.role.allows(role)
    }

    /// Refuses (403) an action above the member's role.
    pub fn require(&self, role: Role) -> Result<(), DashError> {
        match self.may(role) {
            true => Ok(()),
            false => Err(DashError::from(ServiceError::Forbidden)),
        }
    }

    /// The environment, if the member's organization has it.
    pub async fn environment(
        &self,
        services: &Services,
        environment_id: &str,
    ) -> Result<Arc<EnvironmentRuntime>, DashError> {
        let env = services.environments.get(environment_id).await?;
        self.caller().authorize(&env)?;
        Ok(env)
    }

    /// The page frame, with `env` selected in the switcher.
    pub async fn layout(
        &self,
        services: &Services,
        env: Option<&EnvironmentRuntime>,
    ) -> Result<Layout, DashError> {
        Ok(Layout {
            email: self.session.email.clone(),
            role: self.session.role.as_str(),
            csrf: self.session.csrf_token.clone(),
            environments: services.locks.environments_of(&self.caller()).await?,
            env: env.map(EnvironmentInfo::of),
        })
    }
}

/// A page, rendered; a template that fails to render is our fault (500).
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a dashboard template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("internal error".to_string()),
            )
                .into_response()
        }
    }
}

/// To another page: 303 See Other (the gate turns it into `HX-Redirect`
/// for htmx).
pub fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    layout: Option<Layout>,
    title: &'a str,
    text: &'a str,
    back: &'a str,
}

/// A request the dashboard refuses as a whole: to sign-in, or a page that
/// says why.
#[derive(Debug)]
pub enum DashError {
    Redirect(String),
    Page(StatusCode, String),
}

impl From<ServiceError> for DashError {
    fn from(e: ServiceError) -> Self {
        let e = ApiError::from(e);
        DashError::Page(e.status, e.detail)
    }
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        match self {
            DashError::Redirect(to) => Redirect::to(&to).into_response(),
            DashError::Page(status, text) => {
                let title = match status {
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::NOT_FOUND => "Not found",
                    _ => "Something went wrong",
                };
                let mut r = render(
                    status,
                    &MessagePage {
                        layout: None,
                        title,
                        text: &text,
                        back: "/dashboard/",
                    },
                );
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
        }
    }
}

/// A submitted form's fields, as sent (repeated names included). Never a
/// rejection: a missing field is an empty one, and the handler says what
/// is wrong on the page.
pub struct Fields(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Fields {
    type Rejection = DashError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), crate::http::MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                DashError::Page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The form is too large.".into(),
                )
            })?;
        Ok(Fields(
            url::form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A checkbox: on when sent at all.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}
