//! Verified credentials (docs/sign-in.md): the kinds a user can prove, and
//! which of them a session's claims name.

use std::fmt;

/// What a user proved they hold. Values are stored normalized: e-mail
/// lower-case (`domain::email`), phone E.164 (`domain::phone`), wallet the
/// EIP-55 checksummed address (`domain::ethereum`), passkey the base64url
/// credential id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    Email,
    Phone,
    Wallet,
    Passkey,
}

impl CredentialKind {
    pub const ALL: [CredentialKind; 4] = [
        CredentialKind::Email,
        CredentialKind::Phone,
        CredentialKind::Wallet,
        CredentialKind::Passkey,
    ];

    /// The name the store, the API and the events use.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Email => "email",
            CredentialKind::Phone => "phone",
            CredentialKind::Wallet => "wallet",
            CredentialKind::Passkey => "passkey",
        }
    }

    pub fn parse(name: &str) -> Option<CredentialKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a session's claims say the user is: one value per kind a claim
/// exists for (`email`, `phone_number`, `wallet`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub wallet: Option<String>,
}

impl Identity {
    /// The claims of a sign-in with credential `(kind, value)` by a user
    /// whose primary credentials are `primaries`: the kind used carries the
    /// value used (a user with two addresses who signed in with the second
    /// is named by it); the other kinds carry the primaries. A passkey
    /// names no one, so it changes nothing.
    pub fn of_sign_in(kind: CredentialKind, value: &str, primaries: Identity) -> Identity {
        let used = Some(value.to_string());
        match kind {
            CredentialKind::Email => Identity {
                email: used,
                ..primaries
            },
            CredentialKind::Phone => Identity {
                phone_number: used,
                ..primaries
            },
            CredentialKind::Wallet => Identity {
                wallet: used,
                ..primaries
            },
            CredentialKind::Passkey => primaries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primaries() -> Identity {
        Identity {
            email: Some("first@example.test".into()),
            phone_number: Some("+14155550123".into()),
            wallet: None,
        }
    }

    #[test]
    fn every_kind_round_trips_by_name_and_nothing_else_parses() {
        for kind in CredentialKind::ALL {
            assert_eq!(CredentialKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for name in ["", "Email", "phone_number", "sms", "webauthn"] {
            assert_eq!(CredentialKind::parse(name), None, "{name}");
        }
    }

    #[test]
    fn the_kind_used_carries_the_value_used_and_the_others_the_primaries() {
        let by_second_address =
            Identity::of_sign_in(CredentialKind::Email, "second@example.test", primaries());
        assert_eq!(
            by_second_address.email.as_deref(),
            Some("second@example.test")
        );
        assert_eq!(by_second_address.phone_number, primaries().phone_number);

        let by_wallet = Identity::of_sign_in(
            CredentialKind::Wallet,
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            primaries(),
        );
        assert_eq!(by_wallet.email, primaries().email);
        assert_eq!(
            by_wallet.wallet.as_deref(),
            Some("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
        );

        let by_phone = Identity::of_sign_in(CredentialKind::Phone, "+447700900123", primaries());
        assert_eq!(by_phone.phone_number.as_deref(), Some("+447700900123"));
    }

    #[test]
    fn a_passkey_names_no_one() {
        assert_eq!(
            Identity::of_sign_in(CredentialKind::Passkey, "AbC_-1", primaries()),
            primaries()
        );
    }
}
