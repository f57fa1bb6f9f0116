//! A TCP forwarder in front of a server that the test can cut: while it is
//! down, new connections are closed at once and open ones are cut, as if
//! the server were gone, and it comes back on the same address (the
//! address stays bound all along, so nothing else can take it).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Outage {
    /// `http://127.0.0.1:PORT`: the server, through the forwarder.
    pub base: String,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    down: bool,
    open: Vec<JoinHandle<()>>,
}

impl Outage {
    /// A forwarder to the server at `base` (`http://host:port`).
    pub async fn start(base: &str) -> Outage {
        let target: SocketAddr = base
            .trim_start_matches("http://")
            .parse()
            .expect("a server address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("its address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
                if state.down {
                    continue; // dropped: closed at once
                }
                state.open.push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Outage {
            base: format!("http://{address}"),
            state,
            accept,
        }
    }

    /// Cuts every connection, and refuses new ones until `restore`.
    pub fn cut(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.down = true;
        for task in state.open.drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).down = false;
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
