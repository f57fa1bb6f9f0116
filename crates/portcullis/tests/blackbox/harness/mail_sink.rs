//! The mail sink: a real SMTP server for the tests.

use std::sync::Arc;

use super::wait::eventually;

/// A real SMTP server (mailin-embedded) on a free loopback port that keeps
/// every message it receives.
#[derive(Clone, Default)]
pub struct SmtpSink {
    received: Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
    current: Option<ReceivedMail>,
    /// While set, every message is refused with 451 (a temporary failure).
    refusing: Arc<std::sync::atomic::AtomicBool>,
    /// Messages refused so far.
    refused: Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Clone, Debug, Default)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl mailin_embedded::Handler for SmtpSink {
    fn data_start(
        &mut self,
        _domain: &str,
        from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        use std::sync::atomic::Ordering;
        if self.refusing.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return mailin_embedded::response::INTERNAL_ERROR;
        }
        self.current = Some(ReceivedMail {
            from: from.to_string(),
            to: to.to_vec(),
            data: String::new(),
        });
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = self.current.as_mut() {
            mail.data.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        if let Some(mail) = self.current.take() {
            self.received
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(mail);
        }
        mailin_embedded::response::OK
    }
}

impl SmtpSink {
    /// Starts the server; returns the sink and its `smtp://` URL.
    pub fn start() -> (SmtpSink, String) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind SMTP");
        let url = format!("smtp://{}", listener.local_addr().expect("address"));
        let sink = SmtpSink::default();
        let mut server = mailin_embedded::Server::new(sink.clone());
        server
            .with_name("sink.test")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        (sink, url)
    }

    /// Refuses (`true`) or accepts every message from now on.
    pub fn refuse(&self, refusing: bool) {
        self.refusing
            .store(refusing, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many messages were refused so far.
    pub fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The newest message to `address`, waiting for it with a deadline.
    pub async fn wait_for(&self, address: &str) -> ReceivedMail {
        eventually("a message arrives over SMTP", || {
            self.messages()
                .into_iter()
                .rev()
                .find(|m| m.to.iter().any(|t| t == address))
        })
        .await
    }
}
