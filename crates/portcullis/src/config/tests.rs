use super::*;

fn args() -> ConfigArgs {
    ConfigArgs {
        data_dir: Some("/tmp/x".into()),
        ..Default::default()
    }
}

#[test]
fn defaults_follow_the_data_dir() {
    let c = Config::resolve(args()).unwrap();
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.database_url, "sqlite:///tmp/x/portcullis.db");
    assert!(c.rate_limits.enabled);
}

#[test]
fn bad_values_are_refused_with_their_field() {
    let e = Config::resolve(ConfigArgs {
        listen: Some("nope".into()),
        ..args()
    })
    .unwrap_err();
    assert!(e.to_string().contains("listen"));
    let e = Config::resolve(ConfigArgs {
        public_url: Some("ftp://x".into()),
        ..args()
    })
    .unwrap_err();
    assert!(e.to_string().contains("public_url"));
    let e = Config::resolve(ConfigArgs {
        smtp_url: Some("http://x".into()),
        ..args()
    })
    .unwrap_err();
    assert!(e.to_string().contains("smtp_url"));
    for (field, args) in [
        (
            "header_timeout_secs",
            ConfigArgs {
                header_timeout_secs: Some(0),
                ..args()
            },
        ),
        (
            "body_timeout_secs",
            ConfigArgs {
                body_timeout_secs: Some(3601),
                ..args()
            },
        ),
        (
            "idle_timeout_secs",
            ConfigArgs {
                idle_timeout_secs: Some(0),
                ..args()
            },
        ),
        (
            "max_connections",
            ConfigArgs {
                max_connections: Some(0),
                ..args()
            },
        ),
    ] {
        let e = Config::resolve(args).unwrap_err();
        assert!(e.to_string().contains(field), "{e}");
    }
}

#[test]
fn connection_limits_come_from_flags_or_the_file() {
    let c = Config::resolve(args()).unwrap();
    assert_eq!(c.connections, ConnectionLimits::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "header_timeout_secs = 5\nbody_timeout_secs = 20\nidle_timeout_secs = 15\nmax_connections = 300\n",
    )
    .unwrap();
    let c = Config::resolve(ConfigArgs {
        config: Some(path),
        max_connections: Some(400),
        ..args()
    })
    .unwrap();
    assert_eq!(c.connections.header_timeout, Duration::from_secs(5));
    assert_eq!(c.connections.body_timeout, Duration::from_secs(20));
    assert_eq!(c.connections.idle_timeout, Duration::from_secs(15));
    assert_eq!(c.connections.max_connections, 400);
}

#[test]
fn unknown_file_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "listen = \"127.0.0.1:9\"\nlisten_port = 3\n").unwrap();
    let e = Config::resolve(ConfigArgs {
        config: Some(path),
        ..args()
    })
    .unwrap_err();
    assert!(e.to_string().contains("listen_port"), "{e}");
}

#[test]
fn flag_only_settings_are_not_file_keys() {
    let dir = tempfile::tempdir().unwrap();
    for key in [
        "master_key = \"x\"",
        "no_rate_limits = true",
        "config = \"other.toml\"",
    ] {
        let path = dir.path().join("c.toml");
        std::fs::write(&path, format!("{key}\n")).unwrap();
        let e = Config::resolve(ConfigArgs {
            config: Some(path),
            ..args()
        })
        .unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{key}: {e}");
    }
}

#[test]
fn an_absent_switch_leaves_the_file_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "allow_private_webhook_urls = true\n").unwrap();
    let c = Config::resolve(ConfigArgs {
        config: Some(path),
        ..args()
    })
    .unwrap();
    assert!(c.allow_private_webhook_urls);
    assert!(!Config::resolve(args()).unwrap().allow_private_webhook_urls);
}

#[test]
fn a_file_error_does_not_quote_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "smtp_url = \"smtps://user:hunter2@mail.example.com\" junk\n",
    )
    .unwrap();
    let e = Config::resolve(ConfigArgs {
        config: Some(path),
        ..args()
    })
    .unwrap_err()
    .to_string();
    assert!(!e.contains("hunter2"), "{e}");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn flags_win_over_the_file_and_the_switch_turns_limits_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:9\"\n[rate_limits]\nverify_per_ip_per_minute = 7\n\
         email_start_per_address_per_day = 4\n",
    )
    .unwrap();
    let c = Config::resolve(ConfigArgs {
        config: Some(path.clone()),
        ..args()
    })
    .unwrap();
    assert_eq!(c.listen.port(), 9);
    assert_eq!(c.rate_limits.verify_per_ip_per_minute, 7);
    assert_eq!(c.rate_limits.email_start_per_address_per_day, 4);
    let c = Config::resolve(ConfigArgs {
        config: Some(path),
        listen: Some("127.0.0.1:10".into()),
        no_rate_limits: true,
        ..args()
    })
    .unwrap();
    assert_eq!(c.listen.port(), 10);
    assert!(!c.rate_limits.enabled);
}

#[test]
fn tls_takes_both_files_or_neither() {
    assert_eq!(Config::resolve(args()).unwrap().tls, None);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "tls_cert = \"/etc/c.pem\"\ntls_key = \"/etc/k.pem\"\n",
    )
    .unwrap();
    let c = Config::resolve(ConfigArgs {
        config: Some(path.clone()),
        tls_key: Some("/run/k.pem".into()),
        ..args()
    })
    .unwrap();
    assert_eq!(
        c.tls,
        Some(TlsFiles {
            cert: "/etc/c.pem".into(),
            key: "/run/k.pem".into(),
        })
    );
    for (args, missing) in [
        (
            ConfigArgs {
                tls_cert: Some("c.pem".into()),
                ..args()
            },
            "tls_key",
        ),
        (
            ConfigArgs {
                tls_key: Some("k.pem".into()),
                ..args()
            },
            "tls_cert",
        ),
    ] {
        let e = Config::resolve(args).unwrap_err().to_string();
        assert!(e.contains(missing) && e.contains("both or neither"), "{e}");
    }
}

#[test]
fn the_settings_as_given_never_show_a_password_in_debug() {
    let args = ConfigArgs {
        database_url: Some("postgres://app:hunter2@db/portcullis".into()),
        smtp_url: Some("smtps://user:hunter2@mail.example.com".into()),
        ..ConfigArgs::default()
    };
    let shown = format!("{args:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("database_url: \"configured\""), "{shown}");
}

/// `[sms]` from a file: the resolved configuration, or the error.
fn sms_from(table: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, format!("[sms]\n{table}")).unwrap();
    Config::resolve(ConfigArgs {
        config: Some(path),
        ..args()
    })
}

#[test]
fn sms_goes_to_files_unless_a_provider_is_configured() {
    let c = Config::resolve(args()).unwrap();
    assert!(matches!(c.sms.provider, SmsProvider::File));
    assert_eq!(c.sms.send_deadline, Duration::from_secs(5));

    let c = sms_from(
        "provider = \"twilio\"\ntwilio_account_sid = \"AC1\"\ntwilio_auth_token = \"s3cret-token\"\n\
         twilio_messaging_service_sid = \"MG1\"\nsend_deadline_ms = 1500\n",
    )
    .unwrap();
    let SmsProvider::Twilio {
        base_url, sender, ..
    } = &c.sms.provider
    else {
        panic!("{:?}", c.sms)
    };
    assert_eq!(base_url, "https://api.twilio.com");
    assert!(matches!(sender, crate::sms::TwilioSender::MessagingService(s) if s == "MG1"));
    assert_eq!(c.sms.send_deadline, Duration::from_millis(1500));
    assert!(!format!("{c:?}").contains("s3cret-token"), "{c:?}");

    let c = sms_from(
        "provider = \"webhook\"\nwebhook_url = \"https://sms.example/hook/\"\n\
         webhook_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
    )
    .unwrap();
    assert!(
        matches!(&c.sms.provider, SmsProvider::Webhook { url, .. } if url == "https://sms.example/hook")
    );
}

#[test]
fn a_provider_missing_what_it_needs_is_refused_naming_the_field() {
    for (table, field) in [
        ("provider = \"carrier-pigeon\"\n", "sms.provider"),
        (
            "provider = \"twilio\"\ntwilio_auth_token = \"t\"\ntwilio_from = \"+1\"\n",
            "sms.twilio_account_sid",
        ),
        (
            "provider = \"twilio\"\ntwilio_account_sid = \"AC1\"\ntwilio_auth_token = \"t\"\n",
            "sms.twilio_from",
        ),
        (
            "provider = \"webhook\"\nwebhook_url = \"https://x\"\nwebhook_secret = \"hunter2\"\n",
            "sms.webhook_secret",
        ),
        (
            "provider = \"webhook\"\nwebhook_url = \"ftp://x\"\nwebhook_secret = \"whsec_AA==\"\n",
            "sms.webhook_url",
        ),
        ("send_deadline_ms = 0\n", "sms.send_deadline_ms"),
        ("colour = \"blue\"\n", "colour"),
    ] {
        let e = sms_from(table).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(field), "{table}: {e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
}
