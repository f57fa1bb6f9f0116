use proptest::prelude::*;

use super::*;
use crate::domain::ethereum::recover_personal_signer;

/// The example of EIP-4361, with a statement and every optional field.
const FULL: &str = "https://example.com:8080 wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Expiration Time: 2021-10-01T16:25:24Z
Not Before: 2021-09-30T16:25:24Z
Request ID: request-1
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json";

const PLAIN: &str = "example.com wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2


URI: https://example.com
Version: 1
Chain ID: 137
Nonce: abcdef12
Issued At: 2026-12-03T17:20:48.5Z";

#[test]
fn a_full_message_is_read_field_by_field_and_written_back_the_same() {
    let m = SiweMessage::parse(FULL).expect("the EIP's example");
    assert_eq!(m.scheme.as_deref(), Some("https"));
    assert_eq!(m.domain, "example.com:8080");
    assert_eq!(
        m.address.checksummed(),
        "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    );
    assert_eq!(
        m.statement.as_deref(),
        Some("I accept the ExampleOrg Terms of Service: https://example.com/tos")
    );
    assert_eq!(m.uri, "https://example.com/login");
    assert_eq!((m.chain_id, m.nonce.as_str()), (1, "32891756"));
    assert_eq!(m.issued_at.unix_timestamp(), 1_633_019_124);
    assert!(m.expiration_time.is_some() && m.not_before.is_some());
    assert_eq!(m.request_id.as_deref(), Some("request-1"));
    assert_eq!(m.resources.len(), 2);
    assert_eq!(m.to_text(), FULL);
}

#[test]
fn a_message_without_statement_or_optional_fields() {
    let m = SiweMessage::parse(PLAIN).expect("minimal");
    assert_eq!((&m.scheme, &m.statement), (&None, &None));
    assert_eq!(m.chain_id, 137);
    assert!(m.expiration_time.is_none() && m.resources.is_empty());
    assert_eq!(
        SiweMessage::parse(&m.to_text()).map(|again| again.nonce),
        Ok(m.nonce)
    );
}

#[test]
fn the_eth_account_signed_message_names_its_signer() {
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../ethereum/vectors.json")).expect("vectors");
    let mut checked = 0;
    for v in vectors["signatures"].as_array().expect("signatures") {
        let text = v["message"].as_str().expect("message");
        let Ok(m) = SiweMessage::parse(text) else {
            continue;
        };
        let signer =
            recover_personal_signer(text.as_bytes(), v["signature"].as_str().expect("sig"));
        assert_eq!(signer, Ok(m.address));
        checked += 1;
    }
    assert_eq!(checked, 5, "one SIWE message per key");
}

#[test]
fn each_departure_from_the_layout_is_refused_with_its_line() {
    let cases: &[(&str, &str)] = &[
        (
            "wants you to sign in with your Ethereum account:",
            "the preamble",
        ),
        (
            "example.com wants you to sign in with your Ethereum account:",
            "an address",
        ),
        (
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
            "a checksum typo",
        ),
        ("\n\nURI", "no blank line"),
        ("Version: 1", "version"),
        ("Chain ID: 137", "chain"),
        ("Nonce: abcdef12", "nonce"),
        ("Issued At: 2026-12-03T17:20:48.5Z", "time"),
    ];
    let replaced = [
        "example.com wants you to sign in with your account:",
        "ex ample.com wants you to sign in with your Ethereum account:",
        "0xc02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
        "\nSome statement\nURI",
        "Version: 2",
        "Chain ID: 0",
        "Nonce: abc",
        "Issued At: yesterday",
    ];
    for ((from, what), to) in cases.iter().zip(replaced) {
        let bad = PLAIN.replacen(from, to, 1);
        assert_ne!(bad, PLAIN, "{what}");
        assert!(
            SiweMessage::parse(&bad).is_err(),
            "{what}: {bad:?} was accepted"
        );
    }
    for bad in [
        String::new(),
        PLAIN.replace('\n', "\r\n"),
        format!("{PLAIN}\n"),
        format!("{PLAIN}\nUnknown: field"),
        PLAIN.replace("Chain ID: 137", "Chain ID: 0137"),
        PLAIN.replace("Nonce: abcdef12", "Nonce: abcdef1!"),
        FULL.replace("Not Before: 2021-09-30T16:25:24Z\n", "")
            .replace(
                "Expiration Time: 2021-10-01T16:25:24Z",
                "Not Before: 2021-09-30T16:25:24Z\nExpiration Time: 2021-10-01T16:25:24Z",
            ),
        FULL.replace("I accept", "I\u{202e} accept"),
        "x".repeat(MAX_MESSAGE_BYTES + 1),
    ] {
        assert!(SiweMessage::parse(&bad).is_err(), "{bad:?} was accepted");
    }
}

fn messages() -> impl Strategy<Value = SiweMessage> {
    (
        proptest::option::of("[a-z][a-z0-9+.-]{0,8}"),
        "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        proptest::array::uniform20(any::<u8>()),
        proptest::option::of("[ -~]{1,80}"),
        "[a-z]{1,8}:[!-~]{0,40}",
        1u64..u64::MAX,
        "[a-zA-Z0-9]{8,32}",
        0i64..4_000_000_000,
        proptest::option::of(0i64..4_000_000_000),
        proptest::collection::vec("[a-z]{1,8}:[!-~]{0,30}", 0..4),
    )
        .prop_map(
            |(
                scheme,
                domain,
                address,
                statement,
                uri,
                chain_id,
                nonce,
                issued,
                expires,
                resources,
            )| {
                let at = |s: i64| OffsetDateTime::from_unix_timestamp(s).expect("a time");
                SiweMessage {
                    scheme,
                    domain,
                    address: Address::parse(&format!(
                        "0x{}",
                        address
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<String>()
                    ))
                    .expect("an address"),
                    statement,
                    uri,
                    chain_id,
                    nonce,
                    issued_at: at(issued),
                    expiration_time: expires.map(at),
                    not_before: None,
                    request_id: None,
                    resources,
                }
            },
        )
}

proptest! {
    #[test]
    fn what_is_written_reads_back_the_same(m in messages()) {
        prop_assert_eq!(SiweMessage::parse(&m.to_text()), Ok(m));
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        let _ = SiweMessage::parse(&s);
    }

    #[test]
    fn mutated_messages_never_panic(m in messages(), at in 0usize..400, c in any::<char>()) {
        let mut text = m.to_text();
        let at = at.min(text.len());
        if text.is_char_boundary(at) {
            text.insert(at, c);
        }
        let _ = SiweMessage::parse(&text);
    }
}
