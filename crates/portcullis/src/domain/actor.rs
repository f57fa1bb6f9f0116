//! Who caused a change: what the audit log and revocations record.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
    /// The caller's address, for the audit log.
    pub ip_address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// An end user, through the SDK API.
    User,
    ApiToken,
    /// A member of the organization, through the dashboard.
    Member,
    /// Portcullis itself (a fan-out, a ping).
    System,
    /// The operator, through the `portcullis` command on the database.
    Cli,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiToken => "api_token",
            ActorKind::Member => "member",
            ActorKind::System => "system",
            ActorKind::Cli => "cli",
        }
    }

    /// The `revoked_by.kind` of a session this actor revoked (API.md): a
    /// member is `admin` there.
    pub fn revoked_by_kind(self) -> &'static str {
        match self {
            ActorKind::Member => "admin",
            other => other.as_str(),
        }
    }
}

impl Actor {
    pub fn user(id: &str, ip_address: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: id.to_string(),
            ip_address,
        }
    }

    pub fn system() -> Actor {
        Actor {
            kind: ActorKind::System,
            id: "portcullis".into(),
            ip_address: None,
        }
    }

    /// The operator at the command line (the OS user, when known).
    pub fn cli(who: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::Cli,
            id: who.unwrap_or_else(|| "operator".into()),
            ip_address: None,
        }
    }

    /// A member, through the dashboard.
    pub fn member(id: &str, ip_address: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::Member,
            id: id.to_string(),
            ip_address,
        }
    }

    pub fn api_token(id: &str, ip_address: Option<String>) -> Actor {
        Actor {
            kind: ActorKind::ApiToken,
            id: id.to_string(),
            ip_address,
        }
    }
}
