//! Where a webhook delivery or a notification e-mail stands, as stored
//! (the store reads them through `TryFrom<String>`: a name that is none
//! of these is an error, never a panic).

/// A webhook delivery's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Due now or at `next_attempt_at`.
    Pending,
    Succeeded,
    /// Out of attempts, or its endpoint went away.
    Failed,
}

impl DeliveryStatus {
    const ALL: [Self; 3] = [Self::Pending, Self::Succeeded, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

impl TryFrom<String> for DeliveryStatus {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| format!("unknown delivery status {name:?}"))
    }
}

/// A notification e-mail's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    Pending,
    Sent,
    Failed,
}

impl MailStatus {
    const ALL: [Self; 3] = [Self::Pending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

impl TryFrom<String> for MailStatus {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| format!("unknown mail status {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strangers_are_refused() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::try_from(s.as_str().to_string()), Ok(s));
        }
        for s in MailStatus::ALL {
            assert_eq!(MailStatus::try_from(s.as_str().to_string()), Ok(s));
        }
        assert!(DeliveryStatus::try_from("sent".to_string()).is_err());
        assert!(MailStatus::try_from("succeeded".to_string()).is_err());
    }
}
