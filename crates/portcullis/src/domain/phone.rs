//! Phone numbers for SMS sign-in (docs/plans/issue-19.md, slice 2): what a
//! user types, parsed and checked with Google's metadata (the
//! `phonenumber` crate), kept in E.164 form (`+` and up to 15 digits) with
//! its country calling code, which the pumping defence filters on. Pure,
//! no I/O.

use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, Type};

/// Longer input is refused before it reaches the parser.
const MAX_INPUT_CHARS: usize = 40;

/// A number that can receive a sign-in code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    e164: String,
    calling_code: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("must be in international form: + and the country calling code, e.g. +44 7400 123456")]
    NotInternational,
    #[error("is not a phone number")]
    Unparseable,
    #[error("is not a valid number for its country")]
    Invalid,
    #[error("is a premium-rate or shared-cost number, which cannot receive sign-in codes")]
    NotForSms,
}

impl PhoneNumber {
    /// Spaces, dashes, dots and brackets between the digits are allowed;
    /// the number must start with `+`. Extensions, premium-rate and
    /// shared-cost numbers are refused.
    pub fn parse(text: &str) -> Result<PhoneNumber, PhoneError> {
        let text = text.trim();
        if text.chars().count() > MAX_INPUT_CHARS {
            return Err(PhoneError::Unparseable);
        }
        if !text.starts_with('+') {
            return Err(PhoneError::NotInternational);
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
        {
            return Err(PhoneError::Unparseable);
        }
        let number = phonenumber::parse(None, text).map_err(|_| PhoneError::Unparseable)?;
        if number.extension().is_some() {
            return Err(PhoneError::Unparseable);
        }
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        if matches!(
            number.number_type(&DATABASE),
            Type::PremiumRate | Type::SharedCost
        ) {
            return Err(PhoneError::NotForSms);
        }
        Ok(PhoneNumber {
            e164: number.format().mode(Mode::E164).to_string(),
            calling_code: number.code().value(),
        })
    }

    /// `+` and the digits: the form stored and compared.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    pub fn calling_code(&self) -> u16 {
        self.calling_code
    }
}

/// Whether `code` is a country calling code the metadata knows (for the
/// setting that lists the allowed ones).
pub fn is_calling_code(code: u16) -> bool {
    DATABASE.by_code(&code).is_some()
}

#[cfg(test)]
mod tests;
