use super::*;
use serde_json::json;

#[test]
fn defaults_are_valid_and_match_the_contract() {
    let s = SecuritySettings::default();
    s.validate().unwrap();
    assert_eq!(s.jwt_expiration_seconds, 7200);
    assert_eq!(
        serde_json::to_value(&s).unwrap()["token_algorithm"],
        "RS256"
    );
}

#[test]
fn expiration_bounds_are_enforced() {
    let s = SecuritySettings::default();
    assert_eq!(
        s.patched(&json!({"jwt_expiration_seconds": 300}))
            .unwrap()
            .jwt_expiration_seconds,
        300
    );
    assert!(
        s.patched(&json!({"jwt_expiration_seconds": 2_592_000}))
            .is_ok()
    );
    let err = s
        .patched(&json!({"jwt_expiration_seconds": 299}))
        .unwrap_err();
    assert_eq!(err.0[0].field, "jwt_expiration_seconds");
    assert!(
        s.patched(&json!({"jwt_expiration_seconds": 2_592_001}))
            .is_err()
    );
    assert!(s.patched(&json!({"jwt_expiration_seconds": -1})).is_err());
    assert!(
        s.patched(&json!({"jwt_expiration_seconds": "7200"}))
            .is_err()
    );
}

#[test]
fn nested_patch_keeps_siblings_and_names_bad_fields() {
    let s = SecuritySettings::default();
    let next = s
        .patched(&json!({"mfa": {"session_enforcement": true}}))
        .unwrap();
    assert!(next.mfa.session_enforcement);
    assert_eq!(next.mfa.methods, s.mfa.methods);
    let err = s
        .patched(&json!({"mfa": {"enrollment": "sometimes"}}))
        .unwrap_err();
    assert_eq!(err.0[0].field, "mfa.enrollment");
    let err = s.patched(&json!({"no_such_key": 1})).unwrap_err();
    assert!(err.0[0].message.contains("no_such_key"));
    assert!(s.patched(&json!({"token_algorithm": "none"})).is_err());
    assert!(s.patched(&json!({"token_algorithm": "HS256"})).is_err());
    assert!(s.patched(&json!([1])).is_err());
    assert!(s.patched(&json!({"jwt_expiration_seconds": null})).is_err());
}

#[test]
fn passkey_settings_name_a_domain_and_origins_on_it() {
    let s = SecuritySettings::default();
    let ok = |v| s.patched(&json!({ "passkeys": v })).is_ok();
    assert!(ok(
        json!({"rp_id": "example.com", "origins": ["https://app.example.com"]})
    ));
    assert!(ok(
        json!({"rp_id": "localhost", "origins": ["http://localhost:3000"]})
    ));
    assert!(ok(json!({"rp_id": null, "origins": []})));
    assert!(!ok(
        json!({"rp_id": "127.0.0.1", "origins": ["https://127.0.0.1"]})
    ));
    assert!(!ok(
        json!({"rp_id": "example.com", "origins": ["https://evil.com"]})
    ));
    assert!(!ok(
        json!({"rp_id": "example.com", "origins": ["https://myexample.com"]})
    ));
    assert!(!ok(
        json!({"rp_id": "example.com", "origins": ["http://example.com"]})
    ));
    assert!(!ok(
        json!({"rp_id": "example.com", "origins": ["https://example.com/app"]})
    ));
    assert!(!ok(json!({"rp_id": "example.com", "origins": []})));
    assert!(!ok(
        json!({"rp_id": null, "origins": ["https://example.com"]})
    ));
    assert!(!ok(
        json!({"rp_id": "Example.com", "origins": ["https://example.com"]})
    ));
    // Settings stored before passkeys existed still parse.
    let mut old = serde_json::to_value(&s).unwrap();
    old.as_object_mut().unwrap().remove("passkeys");
    let parsed: SecuritySettings = serde_json::from_value(old).unwrap();
    assert_eq!(parsed.passkeys, PasskeySettings::default());
}

#[test]
fn mfa_lists_take_known_values_once() {
    let s = SecuritySettings::default();
    let err = s
        .patched(&json!({"mfa": {"methods": ["totp", "totp"]}}))
        .unwrap_err();
    assert_eq!(err.0[0].field, "mfa.methods");
    let err = s
        .patched(
            &json!({"mfa": {"action_enforcement": {"scopes": ["wallet:sign", "wallet:sign"]}}}),
        )
        .unwrap_err();
    assert_eq!(err.0[0].field, "mfa.action_enforcement.scopes");
    let err = s
        .patched(&json!({"mfa": {"action_enforcement": {"scopes": ["admin:all"]}}}))
        .unwrap_err();
    assert_eq!(err.0[0].field, "mfa.action_enforcement.scopes[0]");
    assert!(s.patched(&json!({"mfa": {"methods": ["sms"]}})).is_err());
    assert!(
        s.patched(&json!({"mfa": {"methods": [], "enrollment": "off"}}))
            .is_ok()
    );
}

fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z0-9:_ ]{0,12}".prop_map(Value::from),
        Just(json!("RS256")),
        Just(json!("required")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("jwt_expiration_seconds".to_string()),
                    Just("token_algorithm".to_string()),
                    Just("mfa".to_string()),
                    Just("enrollment".to_string()),
                    Just("methods".to_string()),
                    Just("notifications".to_string()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// Any patch either yields settings that pass validation, or is
    /// refused with at least one field error; it never panics.
    #[test]
    fn any_patch_is_applied_whole_or_refused(patch in json_value()) {
        let current = SecuritySettings::default();
        match current.patched(&patch) {
            Ok(next) => proptest::prop_assert!(next.validate().is_ok()),
            Err(errors) => proptest::prop_assert!(!errors.0.is_empty()),
        }
    }
}

#[test]
fn merge_patch_follows_rfc7396() {
    let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
    merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
    assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
}

#[test]
fn cookie_mode_needs_an_origin_list_and_a_cookie_domain_above_the_host() {
    let s = SecuritySettings::default()
        .patched(&json!({"token_storage": "cookie", "cookie_domain": "example.com"}))
        .unwrap();
    s.validate_for(Some("auth.example.com"), false).unwrap();
    s.validate_for(Some("example.com"), false).unwrap();
    let err = s.validate_for(Some("auth.example.com"), true).unwrap_err();
    assert_eq!(err.0[0].field, "token_storage");
    let err = s
        .validate_for(Some("auth.notexample.com"), false)
        .unwrap_err();
    assert_eq!(err.0[0].field, "cookie_domain");
    assert!(err.0[0].message.contains("auth.notexample.com"));
    // In-app storage does not care about the list.
    let in_app = s.patched(&json!({"token_storage": "in_app"})).unwrap();
    assert!(in_app.validate_for(Some("auth.example.com"), true).is_ok());
    for bad in [
        "Example.com",
        "127.0.0.1",
        "example.com/",
        ".example.com",
        "",
    ] {
        let err = s.patched(&json!({"cookie_domain": bad})).unwrap_err();
        assert_eq!(err.0[0].field, "cookie_domain", "{bad}");
    }
    let unset = s.patched(&json!({"cookie_domain": null})).unwrap();
    assert_eq!(unset.cookie_domain, None);
}

#[test]
fn sign_in_defaults_to_email_alone_also_for_settings_stored_before_it() {
    let s = SecuritySettings::default();
    assert!(s.sign_in.email.enabled);
    assert!(!s.sign_in.sms.enabled);
    assert_eq!(s.sign_in.sms.max_per_hour, 100);
    let mut stored = serde_json::to_value(&s).unwrap();
    stored.as_object_mut().unwrap().remove("sign_in");
    let old: SecuritySettings = serde_json::from_value(stored).unwrap();
    assert_eq!(old.sign_in, SignInSettings::default());
}

#[test]
fn sms_settings_take_known_calling_codes_once_and_a_bounded_hourly_cap() {
    let s = SecuritySettings::default();
    let on = s
        .patched(&json!({"sign_in": {"sms": {"enabled": true, "allowed_country_codes": [1, 44]}}}))
        .unwrap();
    assert!(on.sign_in.sms.enabled);
    assert!(on.sign_in.sms.admits(44) && !on.sign_in.sms.admits(7));
    assert!(s.sign_in.sms.admits(7), "an empty list admits every code");
    for (patch, field) in [
        (
            json!({"sign_in": {"sms": {"allowed_country_codes": [1, 999]}}}),
            "sign_in.sms.allowed_country_codes[1]",
        ),
        (
            json!({"sign_in": {"sms": {"allowed_country_codes": [44, 44]}}}),
            "sign_in.sms.allowed_country_codes[1]",
        ),
        (
            json!({"sign_in": {"sms": {"max_per_hour": 0}}}),
            "sign_in.sms.max_per_hour",
        ),
        (
            json!({"sign_in": {"sms": {"max_per_hour": 1_000_001}}}),
            "sign_in.sms.max_per_hour",
        ),
        (json!({"sign_in": {"email": {"enabled": false}}}), "sign_in"),
    ] {
        let err = s.patched(&patch).unwrap_err();
        assert_eq!(err.0[0].field, field, "{patch}");
    }
    let too_many: Vec<u16> = (1..=300).collect();
    let err = s
        .patched(&json!({"sign_in": {"sms": {"allowed_country_codes": too_many}}}))
        .unwrap_err();
    assert!(
        err.0
            .iter()
            .any(|e| e.field == "sign_in.sms.allowed_country_codes"),
        "{err:?}"
    );
    // Unknown keys and wrong types are refused by the parse.
    assert!(
        s.patched(&json!({"sign_in": {"fax": {"enabled": true}}}))
            .is_err()
    );
    assert!(
        s.patched(&json!({"sign_in": {"sms": {"allowed_country_codes": ["+44"]}}}))
            .is_err()
    );
    // Only SMS on is a valid choice.
    s.patched(&json!({"sign_in": {"email": {"enabled": false}, "sms": {"enabled": true}}}))
        .unwrap();
}

#[test]
fn chains_take_unique_ids_in_range_and_urls_that_parse() {
    let s = SecuritySettings::default();
    let ok = s
        .patched(&json!({"sign_in": {"wallet": {"enabled": true}},
                         "chains": [{"chain_id": 1, "rpc_url": "https://rpc.example.com/key"},
                                    {"chain_id": 8453, "rpc_url": "https://base.example.com"}]}))
        .unwrap();
    assert!(ok.sign_in.wallet.enabled);
    assert_eq!(ok.chains.len(), 2);
    for (chains, field) in [
        (
            json!([{"chain_id": 0, "rpc_url": "https://a.example"}]),
            "chains[0].chain_id",
        ),
        (
            json!([{"chain_id": 9_007_199_254_740_992_u64, "rpc_url": "https://a.example"}]),
            "chains[0].chain_id",
        ),
        (
            json!([{"chain_id": 1, "rpc_url": "https://a.example"},
                   {"chain_id": 1, "rpc_url": "https://b.example"}]),
            "chains[1].chain_id",
        ),
        (
            json!([{"chain_id": 1, "rpc_url": "ftp://a.example"}]),
            "chains[0].rpc_url",
        ),
        (
            json!([{"chain_id": 1, "rpc_url": "not a url"}]),
            "chains[0].rpc_url",
        ),
    ] {
        let err = s.patched(&json!({ "chains": chains })).unwrap_err();
        assert_eq!(err.0[0].field, field, "{chains}");
    }
    let many: Vec<Value> = (1..=21)
        .map(|i| json!({"chain_id": i, "rpc_url": "https://a.example"}))
        .collect();
    let err = s.patched(&json!({ "chains": many })).unwrap_err();
    assert_eq!(err.0[0].field, "chains");
    // Private destinations: only where the server allows them.
    let local = [ChainSettings {
        chain_id: 1,
        rpc_url: "http://127.0.0.1:8545".into(),
    }];
    assert!(validate_rpc_urls(&local, true).is_ok());
    let err = validate_rpc_urls(&local, false).unwrap_err();
    assert_eq!(err.0[0].field, "chains[0].rpc_url");
    // Wallets alone are a valid choice of methods.
    s.patched(&json!({"sign_in": {"email": {"enabled": false}, "wallet": {"enabled": true}}}))
        .unwrap();
}
