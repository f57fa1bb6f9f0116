//! Against vectors made by eth-account (`scripts/eth-vectors.py`), not by
//! this code.

use proptest::prelude::*;
use serde_json::Value;

use super::*;

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors.json")).expect("vectors.json")
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field].as_str().expect(field)
}

#[test]
fn the_signer_of_each_eth_account_signature_is_recovered() {
    let vectors = vectors();
    let signatures = vectors["signatures"].as_array().expect("signatures");
    assert!(signatures.len() >= 20);
    for v in signatures {
        let (message, signature) = (text(v, "message"), text(v, "signature"));
        let signer = Address::parse(text(v, "signer")).expect("a signer");
        assert_eq!(
            recover_personal_signer(message.as_bytes(), signature),
            Ok(signer),
            "{message:?}"
        );
        assert_eq!(signer.checksummed(), text(v, "signer"));
        // v as 0/1 instead of 27/28.
        let last = u8::from_str_radix(&signature[130..], 16).expect("v");
        let raw_v = format!("{}{:02x}", &signature[..130], last - 27);
        assert_eq!(
            recover_personal_signer(message.as_bytes(), &raw_v),
            Ok(signer)
        );
    }
}

#[test]
fn a_signature_of_another_message_recovers_another_address() {
    let vectors = vectors();
    let v = &vectors["signatures"][0];
    let signer = Address::parse(text(v, "signer")).expect("a signer");
    let other = recover_personal_signer(b"hello!", text(v, "signature"));
    assert!(other.is_ok_and(|a| a != signer));
}

#[test]
fn the_high_s_twin_of_a_valid_signature_is_refused() {
    for v in vectors()["signatures"].as_array().expect("signatures") {
        assert_eq!(
            recover_personal_signer(text(v, "message").as_bytes(), text(v, "high_s_twin")),
            Err(SignatureError::HighS)
        );
    }
}

#[test]
fn malformed_signatures_are_refused() {
    let vectors = vectors();
    let good = text(&vectors["signatures"][0], "signature");
    let bad_v = format!("{}1d", &good[..130]);
    let zeros = format!("0x{}1b", "0".repeat(128));
    for bad in [
        "",
        "0x",
        &good[2..],
        &good[..130],
        &format!("{good}00"),
        &bad_v,
        &zeros,
        &good.replace('a', "g"),
    ] {
        assert!(
            recover_personal_signer(b"hello", bad).is_err(),
            "{bad:?} was accepted"
        );
    }
}

#[test]
fn eip55_checksums_match_eth_utils() {
    for a in vectors()["checksummed_addresses"]
        .as_array()
        .expect("addresses")
    {
        let a = a.as_str().expect("an address");
        let parsed = Address::parse(a).expect("checksummed");
        assert_eq!(parsed.checksummed(), a);
        // No checksum at all is taken as it is.
        assert_eq!(Address::parse(&a.to_lowercase()), Ok(parsed));
        assert_eq!(
            Address::parse(&format!("0x{}", a[2..].to_uppercase())),
            Ok(parsed)
        );
    }
}

#[test]
fn a_wrong_mixed_case_checksum_is_refused() {
    let vectors = vectors();
    let good = vectors["checksummed_addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter_map(Value::as_str)
        .find(|a| a[2..].bytes().any(|b| b.is_ascii_uppercase()))
        .expect("a checksummed address with letters");
    // Flip the case of one letter.
    let at = good[2..]
        .find(|c: char| c.is_ascii_alphabetic())
        .expect("a letter")
        + 2;
    let mut typo = good.to_string();
    let flipped = if good.as_bytes()[at].is_ascii_uppercase() {
        good[at..=at].to_lowercase()
    } else {
        good[at..=at].to_uppercase()
    };
    typo.replace_range(at..=at, &flipped);
    let has_both = typo[2..].bytes().any(|b| b.is_ascii_uppercase())
        && typo[2..].bytes().any(|b| b.is_ascii_lowercase());
    if has_both {
        assert_eq!(Address::parse(&typo), Err(AddressError::BadChecksum));
    }
    for bad in ["", "0x", "0x12", &good[2..], &format!("{good}0"), "0xZZ"] {
        assert_eq!(Address::parse(bad), Err(AddressError::Malformed), "{bad}");
    }
}

#[test]
fn eip1271_call_data_is_what_eth_abi_encodes() {
    let unhex = |s: &str| hex::decode(s.trim_start_matches("0x")).expect("hex");
    let vectors = vectors();
    let cases = vectors["eip1271"].as_array().expect("eip1271");
    assert_eq!(cases.len(), 6);
    for v in cases {
        let hash: [u8; 32] = unhex(text(v, "hash")).try_into().expect("32 bytes");
        let signature = unhex(text(v, "signature"));
        assert_eq!(
            eip1271_call_data(&hash, &signature),
            unhex(text(v, "call_data")),
            "{} signature bytes",
            signature.len()
        );
    }
}

#[test]
fn only_the_magic_word_says_valid() {
    let mut word = [0u8; 32];
    word[..4].copy_from_slice(&EIP1271_MAGIC);
    assert!(eip1271_says_valid(&word));
    assert!(!eip1271_says_valid(&word[..4]));
    assert!(!eip1271_says_valid(&[0u8; 32]));
    word[31] = 1;
    assert!(!eip1271_says_valid(&word));
    let mut right_aligned = [0u8; 32];
    right_aligned[28..].copy_from_slice(&EIP1271_MAGIC);
    assert!(!eip1271_says_valid(&right_aligned));
}

proptest! {
    #[test]
    fn parsing_never_panics(s in "\\PC{0,60}", hex in "0x[0-9a-fA-F]{0,140}") {
        let _ = Address::parse(&s);
        let _ = Address::parse(&hex);
        let _ = recover_personal_signer(s.as_bytes(), &hex);
    }

    #[test]
    fn the_checksummed_form_parses_back(bytes in proptest::array::uniform20(any::<u8>())) {
        let address = Address(bytes);
        prop_assert_eq!(Address::parse(&address.checksummed()), Ok(address));
    }
}
