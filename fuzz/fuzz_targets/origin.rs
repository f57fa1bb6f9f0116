//! The allowed-origin parser and matcher on arbitrary input: no panic, and
//! what parses prints to a form that parses to the same origin and
//! matches itself when it has no wildcard.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::domain::origin::AllowedOrigin;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (listed, request) = input.split_once('\n').unwrap_or((input, input));
    if let Ok(origin) = AllowedOrigin::parse(listed) {
        let printed = origin.to_string();
        let again = AllowedOrigin::parse(&printed).expect("the normal form parses");
        assert_eq!(again, origin);
        if !origin.has_wildcard() {
            assert!(origin.matches(&printed));
        }
        let _ = origin.matches(request);
    }
});
