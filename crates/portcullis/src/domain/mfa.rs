//! The rules of multi-factor authentication: when a sign-in is complete,
//! who may enrol a device, which TOTP step a code proves, and the shape of
//! recovery codes. The store applies the attempt counter; the numbers live
//! here.

use super::settings::{MfaEnrollment, MfaMethod, MfaSettings};

/// TOTP as authenticator apps expect it: SHA-1, 6 digits, 30 s steps.
pub const TOTP_DIGITS: usize = 6;
pub const TOTP_STEP_S: i64 = 30;
/// Steps accepted on either side of the current one (clock drift).
pub const TOTP_SKEW_STEPS: i64 = 1;
/// 160-bit secrets, as RFC 4226 recommends.
pub const TOTP_SECRET_BYTES: usize = 20;

/// Wrong codes (TOTP or recovery) a user may send within one window before
/// code verification is locked for the rest of that window.
pub const MAX_CODE_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 5 * 60 * 1000;
/// Each window that ends locked makes the next one twice as long, up to
/// this: 5 guesses a day at most once a guesser has kept at it for a day.
pub const LONGEST_FAILURE_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

pub const RECOVERY_CODE_COUNT: usize = 10;
/// Letters and digits no one confuses when typing (no 0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const RECOVERY_CODE_CHARS: usize = 10;

/// Lifetime of an elevated token.
pub const ELEVATED_TOKEN_LIFETIME_S: i64 = 300;
pub const ELEVATED_TOKEN_TYP: &str = "elevated+jwt";

/// What a primary sign-in yields under the environment's MFA settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    /// A full session (`user:basic`).
    Complete,
    /// A partial session: the user must prove a device they have.
    VerifyRequired,
    /// A partial session: the user must enrol a device first.
    EnrolRequired,
}

impl SignInOutcome {
    pub fn is_partial(self) -> bool {
        self != SignInOutcome::Complete
    }
}

/// `has_device`: the user has a confirmed device of a method the
/// environment allows.
pub fn sign_in_outcome(settings: &MfaSettings, has_device: bool) -> SignInOutcome {
    if has_device && settings.session_enforcement {
        SignInOutcome::VerifyRequired
    } else if !has_device && settings.enrollment == MfaEnrollment::Required {
        SignInOutcome::EnrolRequired
    } else {
        SignInOutcome::Complete
    }
}

/// Why a device may not be enrolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolRefusal {
    /// Enrolment is off, or this method is not allowed.
    NotAllowed,
    /// A partial session of a user who already has a device: enrolling
    /// another would let the first factor alone pass MFA.
    MfaRequired,
}

pub fn may_enrol(
    settings: &MfaSettings,
    method: MfaMethod,
    partial_session: bool,
    has_device: bool,
) -> Result<(), EnrolRefusal> {
    if settings.enrollment == MfaEnrollment::Off || !settings.methods.contains(&method) {
        return Err(EnrolRefusal::NotAllowed);
    }
    if partial_session && has_device {
        return Err(EnrolRefusal::MfaRequired);
    }
    Ok(())
}

/// Why a TOTP code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpRefusal {
    Wrong,
    /// It matches a step at or before the last one used.
    Replayed,
}

/// The step a code proves: the newest step within the skew window whose
/// code `matches`, and newer than `last_used_step`.
pub fn accepted_step(
    now_s: i64,
    last_used_step: Option<i64>,
    matches: impl Fn(i64) -> bool,
) -> Result<i64, TotpRefusal> {
    let current = now_s.div_euclid(TOTP_STEP_S);
    let mut replayed = false;
    for step in (current - TOTP_SKEW_STEPS..=current + TOTP_SKEW_STEPS).rev() {
        if matches(step) {
            if last_used_step.is_some_and(|used| step <= used) {
                replayed = true;
            } else {
                return Ok(step);
            }
        }
    }
    Err(if replayed {
        TotpRefusal::Replayed
    } else {
        TotpRefusal::Wrong
    })
}

/// A TOTP code as typed: 6 digits once spaces are removed.
pub fn normalize_totp_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| *c != ' ').collect();
    (digits.len() == TOTP_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A recovery code from random bytes (one byte per character): `xxxxx-xxxxx`.
/// Each character carries log2(31) ≈ 4.95 bits, about 49 bits in all.
pub fn recovery_code_from(random: &[u8; RECOVERY_CODE_CHARS * 2]) -> String {
    // Rejection sampling over the bytes keeps the characters uniform; the
    // second half of the buffer backs up rejected bytes of the first.
    let limit = 256 - (256 % RECOVERY_ALPHABET.len());
    let mut chars = random
        .iter()
        .filter(|b| usize::from(**b) < limit)
        .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char);
    let mut code = String::with_capacity(RECOVERY_CODE_CHARS + 1);
    for i in 0..RECOVERY_CODE_CHARS {
        if i == RECOVERY_CODE_CHARS / 2 {
            code.push('-');
        }
        // 20 bytes give 10 accepted ones but with probability < 1e-12;
        // the fallback keeps the function total.
        code.push(chars.next().unwrap_or('a'));
    }
    code
}

/// A recovery code as typed: lower case, without spaces or dashes, checked
/// against the alphabet. The stored MAC is over this form.
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == RECOVERY_CODE_CHARS && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
        .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::settings::SecuritySettings;
    use proptest::prelude::*;

    fn mfa(session_enforcement: bool, enrollment: MfaEnrollment) -> MfaSettings {
        let mut s = SecuritySettings::default().mfa;
        s.session_enforcement = session_enforcement;
        s.enrollment = enrollment;
        s
    }

    #[test]
    fn a_sign_in_is_partial_only_when_a_device_is_enforced_or_enrolment_required() {
        use MfaEnrollment::*;
        use SignInOutcome::*;
        assert_eq!(sign_in_outcome(&mfa(false, Optional), true), Complete);
        assert_eq!(sign_in_outcome(&mfa(true, Optional), true), VerifyRequired);
        assert_eq!(sign_in_outcome(&mfa(true, Optional), false), Complete);
        assert_eq!(sign_in_outcome(&mfa(false, Required), false), EnrolRequired);
        assert_eq!(sign_in_outcome(&mfa(true, Required), false), EnrolRequired);
        assert_eq!(sign_in_outcome(&mfa(false, Required), true), Complete);
        assert_eq!(sign_in_outcome(&mfa(true, Off), true), VerifyRequired);
    }

    #[test]
    fn a_partial_session_enrols_only_a_first_device() {
        let s = mfa(true, MfaEnrollment::Required);
        assert_eq!(may_enrol(&s, MfaMethod::Totp, true, false), Ok(()));
        assert_eq!(
            may_enrol(&s, MfaMethod::Totp, true, true),
            Err(EnrolRefusal::MfaRequired)
        );
        assert_eq!(may_enrol(&s, MfaMethod::Totp, false, true), Ok(()));
        let off = mfa(false, MfaEnrollment::Off);
        assert_eq!(
            may_enrol(&off, MfaMethod::Totp, false, false),
            Err(EnrolRefusal::NotAllowed)
        );
        let mut passkeys_only = mfa(false, MfaEnrollment::Optional);
        passkeys_only.methods = vec![MfaMethod::Passkey];
        assert_eq!(
            may_enrol(&passkeys_only, MfaMethod::Totp, false, false),
            Err(EnrolRefusal::NotAllowed)
        );
    }

    #[test]
    fn a_code_proves_a_step_within_one_of_now_and_never_twice() {
        let now = 1_000 * TOTP_STEP_S + 7;
        let current = 1_000;
        for step in [current - 1, current, current + 1] {
            assert_eq!(accepted_step(now, None, |s| s == step), Ok(step));
        }
        for step in [current - 2, current + 2] {
            assert_eq!(
                accepted_step(now, None, |s| s == step),
                Err(TotpRefusal::Wrong)
            );
        }
        assert_eq!(
            accepted_step(now, Some(current), |s| s == current),
            Err(TotpRefusal::Replayed)
        );
        assert_eq!(
            accepted_step(now, Some(current), |s| s == current - 1),
            Err(TotpRefusal::Replayed)
        );
        assert_eq!(
            accepted_step(now, Some(current), |s| s == current + 1),
            Ok(current + 1)
        );
    }

    #[test]
    fn codes_are_normalized() {
        assert_eq!(normalize_totp_code("123 456").as_deref(), Some("123456"));
        assert_eq!(normalize_totp_code("12345"), None);
        assert_eq!(normalize_totp_code("12345a"), None);
        assert_eq!(
            normalize_recovery_code("ABCDE-fghjk").as_deref(),
            Some("abcdefghjk")
        );
        assert_eq!(normalize_recovery_code("abcde-fghj0"), None);
        assert_eq!(normalize_recovery_code("abcde"), None);
    }

    proptest! {
        #[test]
        fn every_generated_recovery_code_is_accepted_as_typed(random in any::<[u8; 20]>()) {
            let code = recovery_code_from(&random);
            prop_assert_eq!(code.len(), 11);
            let normalized = normalize_recovery_code(&code.to_uppercase());
            prop_assert_eq!(normalized, Some(code.replace('-', "")));
        }

        #[test]
        fn the_normalizer_never_panics(input in ".{0,40}") {
            let _ = normalize_recovery_code(&input);
            let _ = normalize_totp_code(&input);
        }
    }
}
