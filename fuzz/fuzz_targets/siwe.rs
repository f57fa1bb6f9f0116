//! The Sign-In with Ethereum message parser on arbitrary input: no panic,
//! and what parses is written back to a text that parses to the same
//! message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::domain::siwe::SiweMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = SiweMessage::parse(text) {
        let again = SiweMessage::parse(&message.to_text()).expect("the written form parses");
        assert_eq!(again, message);
    }
});
