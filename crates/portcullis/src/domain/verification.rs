//! The rules of a one-time code sent to an e-mail address (and later a phone).

use time::{Duration, OffsetDateTime};

pub const CODE_DIGITS: u32 = 6;
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
pub const MAX_ATTEMPTS: i64 = 5;

/// What a stored verification allows right now, before the code is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationState {
    Open,
    Expired,
    Consumed,
    Exhausted,
}

pub fn state(
    expires_at: OffsetDateTime,
    consumed: bool,
    attempts: i64,
    now: OffsetDateTime,
) -> VerificationState {
    if consumed {
        VerificationState::Consumed
    } else if attempts >= MAX_ATTEMPTS {
        VerificationState::Exhausted
    } else if now >= expires_at {
        VerificationState::Expired
    } else {
        VerificationState::Open
    }
}

/// Whether an attempt at a code needs the address's attempt limit (and is
/// counted against it): every attempt but a right first one. `attempts`
/// counts this one (it is spent before the comparison).
///
/// The first try of each code is answered whatever the limit, so others'
/// wrong guesses cannot keep the person who reads the mail out. It is
/// answered right or wrong even past the limit, so each code gives one
/// guess beyond it: the mails an address can get bound those (README,
/// "Rate limits").
pub fn counts_against_address_limit(matched: bool, attempts: i64) -> bool {
    !(matched && attempts == 1)
}

/// A code as typed: digits only after removing spaces and dashes people add.
pub fn normalize_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == CODE_DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_right_first_try_is_free_of_the_address_limit() {
        assert!(!counts_against_address_limit(true, 1));
        assert!(counts_against_address_limit(false, 1));
        for attempts in 2..=MAX_ATTEMPTS {
            assert!(counts_against_address_limit(true, attempts));
            assert!(counts_against_address_limit(false, attempts));
        }
    }

    #[test]
    fn a_code_dies_by_use_by_tries_and_by_time() {
        let t = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        let exp = t + CODE_LIFETIME;
        assert_eq!(state(exp, false, 0, t), VerificationState::Open);
        assert_eq!(state(exp, false, 4, t), VerificationState::Open);
        assert_eq!(state(exp, false, 5, t), VerificationState::Exhausted);
        assert_eq!(state(exp, true, 0, t), VerificationState::Consumed);
        assert_eq!(state(exp, false, 0, exp), VerificationState::Expired);
    }

    proptest::proptest! {
        #[test]
        fn normalized_codes_are_always_six_ascii_digits(s in "\\PC{0,20}") {
            if let Some(code) = normalize_code(&s) {
                proptest::prop_assert_eq!(code.len(), 6);
                proptest::prop_assert!(code.bytes().all(|b| b.is_ascii_digit()));
            }
        }

        #[test]
        fn any_six_digits_with_separators_normalize_to_themselves(d in "[0-9]{6}", sep in "[ -]{0,2}") {
            let typed = format!("{}{sep}{}", &d[..3], &d[3..]);
            proptest::prop_assert_eq!(normalize_code(&typed), Some(d));
        }
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize_code("123 456").as_deref(), Some("123456"));
        assert_eq!(normalize_code("123-456").as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345a"), None);
        assert_eq!(normalize_code("１２３４５６"), None);
    }
}
