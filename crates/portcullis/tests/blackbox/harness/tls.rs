//! HTTPS in tests: a throw-away certificate authority made by `rcgen`,
//! leaf certificates for `localhost` written as the PEM files a server is
//! given (`--tls-cert`, `--tls-key`), and clients that trust only that
//! authority and report the certificate each answer came with.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A certificate authority that lives as long as the test.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate, PEM: what a client trusts.
    pub pem: String,
}

/// A leaf certificate and its key, in PEM, and the certificate's DER (what
/// a client sees in the handshake).
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        let pem = params.self_signed(&key).expect("a CA certificate").pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// A certificate for `localhost` with this serial number, on a key of
    /// its own.
    pub fn leaf(&self, serial: u64) -> Leaf {
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.serial_number = Some(serial.into());
        let key = KeyPair::generate().expect("a leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("a leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    /// A client that trusts only this authority and reaches `localhost`
    /// at `server`; each answer says which certificate it came with
    /// (`peer_certificate`). It keeps connections alive between requests.
    pub fn client(&self, server: SocketAddr) -> reqwest::Client {
        self.builder(server).build().expect("client")
    }

    /// `client`, but every request on a new connection.
    pub fn fresh_connections_client(&self, server: SocketAddr) -> reqwest::Client {
        self.builder(server)
            .pool_max_idle_per_host(0)
            .build()
            .expect("client")
    }

    /// A TLS connection to `localhost` at `server`, handshake done, that
    /// trusts only this authority: for a test that sends bytes of its own.
    pub async fn connect(&self, server: SocketAddr) -> TlsStream<TcpStream> {
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(self.pem.as_bytes()).expect("the CA's PEM");
        roots.add(ca).expect("a root");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tcp = TcpStream::connect(server).await.expect("connected");
        let name = ServerName::try_from("localhost").expect("a name");
        TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .expect("a TLS handshake")
    }

    fn builder(&self, server: SocketAddr) -> reqwest::ClientBuilder {
        let ca = reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("the CA's PEM");
        reqwest::Client::builder()
            .tls_certs_only([ca])
            .tls_info(true)
            .resolve("localhost", server)
            .timeout(Duration::from_secs(10))
    }
}

impl Leaf {
    /// Writes the certificate and key files (replacing what is there).
    pub fn write(&self, files: &TlsFiles) {
        std::fs::write(&files.cert, &self.cert_pem).expect("the certificate written");
        std::fs::write(&files.key, &self.key_pem).expect("the key written");
    }
}

/// Where a test keeps the files it gives a server.
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    pub fn in_dir(dir: &Path) -> TlsFiles {
        TlsFiles {
            cert: dir.join("tls-cert.pem"),
            key: dir.join("tls-key.pem"),
        }
    }

    /// The `serve` flags that name them.
    pub fn args(&self) -> [&std::ffi::OsStr; 4] {
        [
            "--tls-cert".as_ref(),
            self.cert.as_os_str(),
            "--tls-key".as_ref(),
            self.key.as_os_str(),
        ]
    }
}

/// The `https://localhost:PORT` base of a server listening at `server`.
pub fn https_base(server: SocketAddr) -> String {
    format!("https://localhost:{}", server.port())
}

/// The DER of the certificate an answer came with (a client with
/// `tls_info`).
pub fn peer_certificate(response: &reqwest::Response) -> Option<Vec<u8>> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()?
        .peer_certificate()
        .map(<[u8]>::to_vec)
}
