//! The JWT lifetime as people enter it on the dashboard: a number and a
//! unit. A month is 30 days. The bounds are the settings' own (5 minutes
//! to 30 days, API.md).

pub const MIN_SECONDS: u64 = 5 * 60;
pub const MAX_SECONDS: u64 = 30 * 24 * 60 * 60;

/// The units offered, with their length in seconds, largest first.
pub const UNITS: [(&str, u64); 5] = [
    ("months", 30 * 24 * 3600),
    ("weeks", 7 * 24 * 3600),
    ("days", 24 * 3600),
    ("hours", 3600),
    ("minutes", 60),
];

/// The lifetime in seconds, or the sentence that says why not.
pub fn parse(number: &str, unit: &str) -> Result<u32, String> {
    let Some(&(_, unit_seconds)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err("choose minutes, hours, days, weeks or months".into());
    };
    let number: u64 = number
        .trim()
        .parse()
        .map_err(|_| "enter a whole number, such as 2".to_string())?;
    let seconds = number.saturating_mul(unit_seconds);
    if seconds < MIN_SECONDS {
        return Err("must be at least 5 minutes".into());
    }
    if seconds > MAX_SECONDS {
        return Err("must be at most 30 days".into());
    }
    u32::try_from(seconds).map_err(|_| "must be at most 30 days".to_string())
}

/// The largest unit that shows `seconds` as a whole number.
pub fn split(seconds: u32) -> (u64, &'static str) {
    let seconds = u64::from(seconds);
    UNITS
        .iter()
        .find(|(_, len)| seconds % len == 0)
        .map(|&(name, len)| (seconds / len, name))
        .unwrap_or((seconds.div_ceil(60), "minutes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever is typed: a lifetime within the bounds, or a refusal;
        /// never a panic. What is accepted shows again as itself.
        #[test]
        fn any_input_is_a_lifetime_within_bounds_or_a_refusal(number in ".{0,24}", unit in "[a-z]{0,8}") {
            if let Ok(seconds) = parse(&number, &unit) {
                prop_assert!((MIN_SECONDS..=MAX_SECONDS).contains(&u64::from(seconds)));
                let (n, u) = split(seconds);
                prop_assert_eq!(parse(&n.to_string(), u), Ok(seconds));
            }
        }

        #[test]
        fn every_whole_number_of_a_unit_is_judged_by_the_bounds(n in 0u64..100_000, i in 0usize..5) {
            let (unit, len) = UNITS[i];
            let seconds = n * len;
            let within = (MIN_SECONDS..=MAX_SECONDS).contains(&seconds);
            prop_assert_eq!(parse(&n.to_string(), unit).is_ok(), within);
        }
    }

    #[test]
    fn numbers_and_units_become_seconds_within_the_bounds() {
        assert_eq!(parse("3", "days"), Ok(259_200));
        assert_eq!(parse(" 2 ", "hours"), Ok(7200));
        assert_eq!(parse("5", "minutes"), Ok(300));
        assert_eq!(parse("1", "months"), Ok(2_592_000));
        assert!(parse("4", "minutes").is_err());
        assert!(parse("31", "days").is_err());
        assert!(parse("5", "weeks").is_err());
        assert!(parse("abc", "days").is_err());
        assert!(parse("-1", "days").is_err());
        assert!(parse("1.5", "days").is_err());
        assert!(parse("99999999999999999999", "months").is_err());
        assert!(parse("3", "fortnights").is_err());
    }

    #[test]
    fn seconds_show_in_the_largest_whole_unit() {
        assert_eq!(split(7200), (2, "hours"));
        assert_eq!(split(259_200), (3, "days"));
        assert_eq!(split(604_800), (1, "weeks"));
        assert_eq!(split(2_592_000), (1, "months"));
        assert_eq!(split(330), (6, "minutes"));
        for (n, unit) in [(7, "minutes"), (3, "days"), (2, "weeks")] {
            let s = parse(&n.to_string(), unit).unwrap_or_default();
            assert_eq!(parse(&split(s).0.to_string(), split(s).1), Ok(s));
        }
    }
}
