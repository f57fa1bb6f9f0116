//! HTTPS served by Portcullis itself (`--tls-cert`, `--tls-key`): the
//! certificate and key files, read at start (a bad pair stops the start)
//! and again on SIGHUP (a bad pair is logged and the old one kept); the
//! handshake, which `server.rs` runs on each accepted connection before
//! serving it as it serves plain TCP. rustls with the aws-lc-rs provider,
//! its default protocol versions (TLS 1.2 and 1.3), ALPN `http/1.1` (the
//! server speaks HTTP/1 only). docs/deployment.md, "HTTPS".
//!
//! A reload builds a new `ServerConfig`, which new handshakes take: its
//! session cache is new too, so that no client resumes a session made
//! under the previous certificate (a resumed handshake shows none).

use std::fmt;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{InconsistentKeys, ServerConfig};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::TlsFiles;

/// The TLS configuration new handshakes take (the certificate, the
/// session cache), and the files the certificate was read from. A reload
/// replaces it; connections already open keep the one they were made with.
pub struct ServerTls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<ServerConfig>>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The paths only: never the key.
        f.debug_struct("ServerTls")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Reads the pair; an error names the file and what is wrong with it,
    /// never its content.
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = server_config(&files, &provider)?;
        Ok(Arc::new(Self {
            files,
            provider,
            current: RwLock::new(config),
        }))
    }

    /// Reads the files again. On success new handshakes present the new
    /// pair; on failure the old one stays, and the error says why.
    pub fn reload(&self) -> Result<(), String> {
        let config = server_config(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = config;
        Ok(())
    }

    /// The TLS handshake on an accepted connection, with the configuration
    /// in force, due by `deadline` (the header timeout from the accept: a
    /// client that says nothing holds its slot no longer than one that
    /// sends half a header). `None` when it fails or is late; the
    /// connection is then closed.
    pub(crate) async fn handshake(
        &self,
        stream: TcpStream,
        deadline: Instant,
    ) -> Option<TlsStream<TcpStream>> {
        let config = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let accepting = TlsAcceptor::from(config).accept(stream);
        match tokio::time::timeout_at(deadline, accepting).await {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!("TLS handshake not finished within the header timeout");
                None
            }
        }
    }
}

/// HTTPS as the server runs it: the configuration, and the SIGHUP
/// reload.
pub struct Https {
    tls: Arc<ServerTls>,
    /// Registered at start, before the server says it is listening: from
    /// then on a SIGHUP reloads rather than ends the process.
    #[cfg(unix)]
    hangups: tokio::signal::unix::Signal,
}

impl Https {
    /// Reads the pair (an error stops the start) and listens for SIGHUP.
    pub fn start(files: &TlsFiles) -> Result<Self, String> {
        let tls = ServerTls::load(files.clone())?;
        #[cfg(unix)]
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| format!("cannot listen for SIGHUP: {e}"))?;
        Ok(Self {
            tls,
            #[cfg(unix)]
            hangups,
        })
    }

    /// The configuration for `server::serve`, and the task that reloads
    /// it on SIGHUP (to abort when serving ends).
    pub fn run(self) -> (Arc<ServerTls>, tokio::task::JoinHandle<()>) {
        #[cfg(unix)]
        let reload = tokio::spawn(reload_on_hangup(self.tls.clone(), self.hangups));
        #[cfg(not(unix))]
        let reload = tokio::spawn(async {});
        (self.tls, reload)
    }
}

/// Reloads `tls` on every SIGHUP, until the task is aborted.
#[cfg(unix)]
async fn reload_on_hangup(tls: Arc<ServerTls>, mut hangups: tokio::signal::unix::Signal) {
    while hangups.recv().await.is_some() {
        let reloading = tls.clone();
        let reloaded = tokio::task::spawn_blocking(move || reloading.reload())
            .await
            .unwrap_or_else(|e| Err(format!("the reload did not finish: {e}")));
        match reloaded {
            Ok(()) => tracing::info!(
                cert = %tls.files.cert.display(),
                key = %tls.files.key.display(),
                "SIGHUP: reloaded the TLS certificate; new connections use it"
            ),
            Err(e) => tracing::warn!(
                error = %e,
                "SIGHUP: cannot reload the TLS certificate; still serving the previous one"
            ),
        }
    }
}

/// A configuration with the pair in `files`: the provider's default
/// protocol versions (TLS 1.2 and 1.3), no client certificates, ALPN
/// `http/1.1`, a session cache of its own.
fn server_config(
    files: &TlsFiles,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<ServerConfig>, String> {
    let pair = read_pair(files, provider)?;
    let mut config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(pair)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pair(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let (cert_path, key_path) = (files.cert.display(), files.key.display());
    let chain = CertificateDer::pem_slice_iter(&read(&files.cert, "certificate")?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("TLS certificate file {cert_path}: {}", pem_problem(&e)))?;
    if chain.is_empty() {
        return Err(format!(
            "TLS certificate file {cert_path}: holds no PEM CERTIFICATE block"
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key, "key")?).map_err(|e| match e {
        pem::Error::NoItemsFound => {
            format!("TLS key file {key_path}: holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")
        }
        e => format!("TLS key file {key_path}: {}", pem_problem(&e)),
    })?;
    let signing_key = provider.key_provider.load_private_key(key).map_err(|_| {
        format!(
            "TLS key file {key_path}: not a usable private key (RSA, ECDSA P-256/P-384/P-521 or Ed25519)"
        )
    })?;
    let pair = CertifiedKey::new(chain, signing_key);
    match pair.keys_match() {
        Ok(()) => Ok(pair),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(format!(
            "TLS key file {key_path} does not match the certificate in {cert_path}"
        )),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Err(format!(
            "TLS key file {key_path}: cannot check that it matches the certificate in {cert_path}"
        )),
        Err(e) => Err(format!(
            "TLS certificate file {cert_path}: its first certificate is not a valid X.509 certificate ({e})"
        )),
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path)
        .map_err(|e| format!("cannot read the TLS {what} file {}: {e}", path.display()))
}

/// What is wrong with a PEM file, in words that quote none of it.
fn pem_problem(e: &pem::Error) -> &'static str {
    match e {
        pem::Error::MissingSectionEnd { .. } => "a PEM block has no END line",
        pem::Error::IllegalSectionStart { .. } => "a PEM BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "a PEM block is not valid base64",
        pem::Error::NoItemsFound => "holds no PEM block of the expected kind",
        pem::Error::SectionTooLarge => "a PEM block is too large",
        _ => "cannot be read as PEM",
    }
}
