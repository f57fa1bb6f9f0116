use serde::{Deserialize, Serialize};

/// A member's or API token's role. Ordered: each role can do what the ones
/// below it can.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Developer,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Developer => "developer",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "viewer" => Some(Self::Viewer),
            "developer" => Some(Self::Developer),
            "admin" => Some(Self::Admin),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }

    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// A role as stored (the store reads members' and tokens' roles through
/// this): a name that is none of ours is an error, never a panic.
impl TryFrom<String> for Role {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::parse(&name).ok_or_else(|| format!("unknown stored role {name:?}"))
    }
}

/// Why a change to members or tokens is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleRuleError {
    /// Above the caller's own role.
    Forbidden,
    /// Never allowed this way; the text says what to do instead.
    Conflict(&'static str),
    /// The owner is never created; ownership is transferred.
    OwnerNotGrantable,
}

/// What a member's role change amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    /// The role simply changes (or stays).
    Plain,
    /// The member becomes the owner and the owner becomes `admin`.
    TransferOwnership,
}

/// May a caller with role `caller` give `granted` to a new token or member?
/// Never above its own role; nobody grants `owner` (there is one, and
/// ownership moves by transfer), except that an owner may create owner
/// API tokens.
pub fn check_grant(caller: Role, granted: Role, is_token: bool) -> Result<(), RoleRuleError> {
    if granted == Role::Owner && !is_token {
        return Err(RoleRuleError::OwnerNotGrantable);
    }
    match caller.allows(granted) {
        true => Ok(()),
        false => Err(RoleRuleError::Forbidden),
    }
}

/// May `caller` change a member's role from `current` to `new`?
pub fn check_role_change(
    caller: Role,
    current: Role,
    new: Role,
) -> Result<RoleChange, RoleRuleError> {
    if current == Role::Owner && new != Role::Owner {
        return Err(RoleRuleError::Conflict(
            "the owner's role changes only by transferring ownership to another member",
        ));
    }
    if new == Role::Owner {
        return match caller {
            Role::Owner => Ok(match current {
                Role::Owner => RoleChange::Plain,
                _ => RoleChange::TransferOwnership,
            }),
            _ => Err(RoleRuleError::Forbidden),
        };
    }
    match caller.allows(current) && caller.allows(new) {
        true => Ok(RoleChange::Plain),
        false => Err(RoleRuleError::Forbidden),
    }
}

/// May `caller` remove a member (or token) that has role `current`? The
/// owner member is never removed.
pub fn check_removal(caller: Role, current: Role, is_token: bool) -> Result<(), RoleRuleError> {
    if current == Role::Owner && !is_token {
        return Err(RoleRuleError::Conflict(
            "the owner cannot be removed; transfer ownership first",
        ));
    }
    match caller.allows(current) {
        true => Ok(()),
        false => Err(RoleRuleError::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Role; 4] = [Role::Viewer, Role::Developer, Role::Admin, Role::Owner];

    #[test]
    fn nobody_grants_above_their_own_role() {
        for caller in ALL {
            for granted in ALL {
                let token = check_grant(caller, granted, true);
                assert_eq!(token.is_ok(), granted <= caller, "{caller:?} → {granted:?}");
                let member = check_grant(caller, granted, false);
                match granted {
                    Role::Owner => assert_eq!(member, Err(RoleRuleError::OwnerNotGrantable)),
                    _ => assert_eq!(member.is_ok(), granted <= caller),
                }
            }
        }
    }

    #[test]
    fn only_the_owner_transfers_ownership_and_the_owner_is_never_demoted() {
        assert_eq!(
            check_role_change(Role::Owner, Role::Admin, Role::Owner),
            Ok(RoleChange::TransferOwnership)
        );
        assert_eq!(
            check_role_change(Role::Admin, Role::Admin, Role::Owner),
            Err(RoleRuleError::Forbidden)
        );
        for caller in ALL {
            assert!(matches!(
                check_role_change(caller, Role::Owner, Role::Admin),
                Err(RoleRuleError::Conflict(_))
            ));
            assert!(matches!(
                check_removal(caller, Role::Owner, false),
                Err(RoleRuleError::Conflict(_))
            ));
        }
        assert_eq!(
            check_role_change(Role::Admin, Role::Developer, Role::Admin),
            Ok(RoleChange::Plain)
        );
        assert_eq!(
            check_role_change(Role::Developer, Role::Viewer, Role::Admin),
            Err(RoleRuleError::Forbidden)
        );
        assert_eq!(
            check_removal(Role::Admin, Role::Owner, true),
            Err(RoleRuleError::Forbidden)
        );
        assert_eq!(check_removal(Role::Owner, Role::Owner, true), Ok(()));
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner.allows(Role::Viewer));
        assert!(Role::Developer.allows(Role::Developer));
        assert!(!Role::Viewer.allows(Role::Developer));
        assert!(!Role::Admin.allows(Role::Owner));
        for r in [Role::Viewer, Role::Developer, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
