//! HTTPS served by Portcullis itself (issue 17, part 7), through the real
//! binary: `--tls-cert`/`--tls-key`, a certificate reloaded on SIGHUP for
//! new connections while open ones go on, a bad pair refused at start and
//! ignored (with a warning) on reload. Certificates from throw-away
//! authorities (`harness/tls.rs`); clients that trust only them.

use std::process::Output;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::cli::{Server, portcullis_on};
use crate::connections::read_until_closed;
use crate::harness::{
    Leaf, Storage, TestCa, TlsFiles, eventually, eventually_async, https_base, peer_certificate,
};

/// `portcullis serve` on port 0 with the certificate files, a header
/// timeout of a second, and `leaf` written to the files first.
async fn serve_https(storage: &Storage, files: &TlsFiles, leaf: &Leaf) -> Server {
    leaf.write(files);
    let mut cmd = portcullis_on(storage);
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(files.args())
        .env("PORTCULLIS_HEADER_TIMEOUT_SECS", "1");
    Server::start(&mut cmd).await
}

/// The status and certificate of a `/healthz` answer from `client`, or
/// the error.
async fn healthz(client: &reqwest::Client, server: &Server) -> Result<(u16, Vec<u8>), String> {
    let response = client
        .get(format!("{}/healthz", https_base(server.address)))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let certificate = peer_certificate(&response).ok_or("no certificate")?;
    let status = response.status().as_u16();
    // Read to the end, so the connection goes back to the pool.
    response.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, certificate))
}

/// A line of a PEM key's base64: text that would be in a log that leaked
/// the key.
fn key_material(leaf: &Leaf) -> String {
    leaf.key_pem.lines().nth(1).expect("a PEM body").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_and_a_sighup_reloads_the_certificate_for_new_connections() {
    let storage = Storage::new();
    let dir = tempfile::tempdir().unwrap();
    let files = TlsFiles::in_dir(dir.path());
    let (first_ca, second_ca) = (TestCa::new("First test CA"), TestCa::new("Second test CA"));
    let first = first_ca.leaf(1);
    let server = serve_https(&storage, &files, &first).await;
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let log = server.log_text();
    assert!(
        log.contains(&format!("public_url=https://{}", server.address)),
        "{log}"
    );

    // A client that trusts the first authority only.
    let kept = first_ca.client(server.address);
    assert_eq!(healthz(&kept, &server).await, Ok((200, first.der.clone())));

    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let answer = plain
        .get(format!("http://{}/healthz", server.address))
        .send()
        .await;
    assert!(answer.is_err(), "plain HTTP was answered: {answer:?}");

    // A client that never starts its handshake is cut off within the
    // header timeout, and so is one that sends half a header over TLS.
    let mut silent = TcpStream::connect(server.address).await.unwrap();
    assert_eq!(read_until_closed(&mut silent).await, "");
    let mut halfway = first_ca.connect(server.address).await;
    halfway
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut halfway).await, "");

    // A certificate from another authority, with another serial and key.
    let second = second_ca.leaf(2);
    second.write(&files);
    server.hang_up();
    let fresh = second_ca.fresh_connections_client(server.address);
    eventually_async("a new connection gets the new certificate", || async {
        let answer = healthz(&fresh, &server).await.ok()?;
        (answer == (200, second.der.clone())).then_some(())
    })
    .await;

    // The connection opened before the reload goes on with the old one: a
    // new connection from this client, which trusts the first authority
    // only, would now fail.
    assert_eq!(healthz(&kept, &server).await, Ok((200, first.der.clone())));
    let refused = healthz(&first_ca.client(server.address), &server).await;
    assert!(refused.is_err(), "{refused:?}");

    let log = server.log_text();
    assert!(log.contains("reloaded the TLS certificate"), "{log}");
    for leaf in [&first, &second] {
        assert!(!log.contains(&key_material(leaf)), "key material logged");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_pair_on_sighup_keeps_the_certificate_in_use() {
    let storage = Storage::new();
    let dir = tempfile::tempdir().unwrap();
    let files = TlsFiles::in_dir(dir.path());
    let ca = TestCa::new("Test CA");
    let (first, other) = (ca.leaf(1), ca.leaf(2));
    let server = serve_https(&storage, &files, &first).await;
    let client = ca.fresh_connections_client(server.address);

    let bad_pairs: [(&str, &dyn Fn()); 3] = [
        ("does not match the certificate", &|| {
            // Another certificate, with the first one's key.
            std::fs::write(&files.cert, &other.cert_pem).unwrap();
        }),
        ("holds no PEM private key", &|| {
            first.write(&files);
            std::fs::write(&files.key, &first.cert_pem).unwrap();
        }),
        ("cannot read the TLS certificate file", &|| {
            std::fs::remove_file(&files.cert).unwrap();
        }),
    ];
    for (refusals, (reason, break_files)) in (1..).zip(bad_pairs) {
        break_files();
        server.hang_up();
        let log = eventually("the reload is refused", || {
            let log = server.log_text();
            (log.matches("cannot reload the TLS certificate").count() >= refusals).then_some(log)
        })
        .await;
        assert!(log.contains(reason), "{reason}: {log}");
        assert_eq!(
            healthz(&client, &server).await,
            Ok((200, first.der.clone())),
            "after {reason}"
        );
    }

    // A good pair again is taken.
    other.write(&files);
    server.hang_up();
    eventually_async("the good pair is taken", || async {
        let answer = healthz(&client, &server).await.ok()?;
        (answer == (200, other.der.clone())).then_some(())
    })
    .await;
    let log = server.log_text();
    for leaf in [&first, &other] {
        assert!(!log.contains(&key_material(leaf)), "key material logged");
    }
}

#[test]
fn a_bad_certificate_or_key_stops_the_start_with_a_clear_message() {
    let storage = Storage::new();
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("Test CA");
    let (leaf, other) = (ca.leaf(1), ca.leaf(2));
    let path = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let cert = path("cert.pem", &leaf.cert_pem);
    let key = path("key.pem", &leaf.key_pem);
    let other_key = path("other-key.pem", &other.key_pem);
    let missing = dir.path().join("missing.pem").display().to_string();
    let config = path(
        "portcullis.toml",
        &format!("tls_cert = {cert:?}\ntls_key = {other_key:?}\n"),
    );
    let serve = |args: &[&str], env: &[(&str, &str)]| -> Output {
        portcullis_on(&storage)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, i32, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--tls-cert", &cert, "--tls-key", &other_key],
            vec![],
            1,
            "does not match the certificate",
        ),
        (vec!["--config", &config], vec![], 1, "does not match"),
        (
            vec![],
            vec![
                ("PORTCULLIS_TLS_CERT", cert.as_str()),
                ("PORTCULLIS_TLS_KEY", missing.as_str()),
            ],
            1,
            "cannot read the TLS key file",
        ),
        (
            vec!["--tls-cert", &key, "--tls-key", &key],
            vec![],
            1,
            "holds no PEM CERTIFICATE block",
        ),
        (
            vec!["--tls-cert", &cert, "--tls-key", &cert],
            vec![],
            1,
            "holds no PEM private key",
        ),
        (vec!["--tls-cert", &cert], vec![], 2, "tls_key"),
        (
            vec![],
            vec![("PORTCULLIS_TLS_KEY", key.as_str())],
            2,
            "tls_cert",
        ),
    ];
    for (args, env, code, expected) in cases {
        let out = serve(&args, &env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        for leaf in [&leaf, &other] {
            assert!(!stderr.contains(&key_material(leaf)), "key material shown");
        }
    }
}
