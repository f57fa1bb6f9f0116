use serde::{Deserialize, Serialize};

/// The JWT signing algorithms an environment may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum TokenAlgorithm {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl TokenAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    pub fn all() -> [Self; 3] {
        [Self::Rs256, Self::Es256, Self::EdDsa]
    }

    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

/// A name as stored (the store reads a key's algorithm through this): a
/// name that is none of ours is an error, never a panic.
impl TryFrom<String> for TokenAlgorithm {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::parse(&name).ok_or_else(|| format!("unknown signing algorithm {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for alg in TokenAlgorithm::all() {
            assert_eq!(TokenAlgorithm::parse(alg.as_str()), Some(alg));
        }
        assert_eq!(TokenAlgorithm::parse("none"), None);
        assert_eq!(TokenAlgorithm::parse("HS256"), None);
        assert_eq!(
            TokenAlgorithm::try_from("ES256".to_string()),
            Ok(TokenAlgorithm::Es256)
        );
        assert!(TokenAlgorithm::try_from("HS256".to_string()).is_err());
    }
}
