//! Start-up: data directory, master key, database, first tenant, services,
//! the listening socket. `Application::build` binds (port 0 works) and
//! returns; `run_until` serves.

use crate::services::outbox::WebhookSettings;
use crate::services::webhook_client::WebhookClient;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::services::bootstrap::{self, InitOutcome};
use crate::services::changes::ChangeState;
use crate::services::{ActivityTracker, EnvironmentCache, RateLimits, Revocations, Services};
use crate::store::Store;
use crate::{mail, workers};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartupError(pub String);

fn fail(context: &str) -> impl Fn(String) -> StartupError + '_ {
    move |reason| StartupError(format!("{context}: {reason}"))
}

/// Opens the database and checks the master key: what both `serve` and
/// `init` need.
pub async fn open_store(
    config: &Config,
) -> Result<(Store, crate::crypto::MasterKey), StartupError> {
    crate::private_files::create_dir(&config.data_dir).map_err(|e| {
        fail("cannot create the data directory")(format!("{}: {e}", config.data_dir.display()))
    })?;
    let master_key = bootstrap::load_master_key(
        config.master_key.as_deref(),
        config.master_key_file.as_deref(),
        &config.data_dir,
    )
    .map_err(fail("master key"))?;
    let store = Store::open(&config.database_url)
        .await
        .map_err(|e| fail("database")(e.to_string()))?;
    bootstrap::check_master_key(&store, &master_key)
        .await
        .map_err(fail("master key"))?;
    Ok((store, master_key))
}

/// Every service, wired: what the server runs on, and what the operator's
/// commands (`portcullis token …`, `env …`, `members …`) call directly.
pub async fn build_services(
    config: &Config,
    clock: Arc<dyn Clock>,
    store: Store,
    master_key: crate::crypto::MasterKey,
    public_url: String,
) -> Result<Services, StartupError> {
    let mail = mail::transport(config.smtp_url.as_deref(), &config.data_dir.join("mail"))
        .map_err(|e| fail("mail")(e.to_string()))?;
    let revocations = Revocations::load(&store, clock.now().unix_timestamp())
        .await
        .map_err(|e| fail("loading revocations")(e.to_string()))?;
    Ok(Services {
        rate_limits: RateLimits::new(
            &config.rate_limits,
            clock.clone(),
            store.rate_limits.clone(),
        ),
        clock,
        store,
        master_key,
        public_url,
        mail,
        mail_from: config.smtp_from.clone(),
        environments: EnvironmentCache::default(),
        revocations,
        changes: ChangeState::new(
            crate::crypto::node_id().map_err(|e| fail("node id")(e.to_string()))?,
        ),
        activity: ActivityTracker::default(),
        metrics: Metrics::new().map_err(fail("metrics"))?,
        outbox: Default::default(),
        webhook_settings: WebhookSettings {
            allow_private: config.allow_private_webhook_urls,
            client: WebhookClient::new(config.allow_private_webhook_urls)
                .map_err(fail("webhook client"))?,
        },
        event_retention_days: config.event_retention_days,
    })
}

pub struct Application {
    listener: TcpListener,
    services: Arc<Services>,
    flush_every: std::time::Duration,
    lock_watch_every: std::time::Duration,
    connections: crate::config::ConnectionLimits,
    /// Set when this start created the first tenant.
    pub created: Option<InitOutcome>,
}

impl Application {
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let open_files = crate::http::server::raise_open_file_limit();
        let mut connections = config.connections;
        connections.max_connections =
            crate::http::server::connection_cap(connections.max_connections, open_files);
        if connections.max_connections < config.connections.max_connections {
            tracing::warn!(
                configured = config.connections.max_connections,
                in_force = connections.max_connections,
                open_file_limit = open_files,
                "max_connections lowered to fit the open-file limit"
            );
        }
        let (store, master_key) = open_store(&config).await?;
        let created = match store.organizations.first_tenant().await {
            Ok(Some(_)) => None,
            // None too when another node created it at the same moment.
            Ok(None) => bootstrap::create_first_tenant(
                &store,
                &master_key,
                clock.as_ref(),
                &config.owner_email,
            )
            .await
            .map_err(|e| fail("initialization")(e.to_string()))?,
            Err(e) => return Err(fail("database")(e.to_string())),
        };
        let listener = crate::http::server::listen(config.listen)
            .map_err(|e| fail("cannot listen")(format!("{}: {e}", config.listen)))?;
        let local = listener
            .local_addr()
            .map_err(|e| fail("cannot listen")(e.to_string()))?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local}"));
        let services =
            Arc::new(build_services(&config, clock, store, master_key, public_url).await?);
        Ok(Self {
            listener,
            services,
            flush_every: config.activity_flush_interval,
            lock_watch_every: config.lock_watch_interval,
            connections,
            created,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn public_url(&self) -> &str {
        &self.services.public_url
    }

    /// Serves until `shutdown` completes, then writes pending activity.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = crate::http::router(self.services.clone());
        crate::crypto::warm_up_in_background();
        let maintenance = tokio::spawn(workers::maintenance::run(
            self.services.clone(),
            self.flush_every,
        ));
        let changes = tokio::spawn(workers::changes::supervise(self.services.clone()));
        let outbox = tokio::spawn(workers::outbox::run(self.services.clone()));
        let locks = tokio::spawn(workers::locks::run(
            self.services.clone(),
            self.lock_watch_every,
        ));
        let result =
            crate::http::server::serve(self.listener, router, self.connections, shutdown).await;
        maintenance.abort();
        changes.abort();
        outbox.abort();
        locks.abort();
        workers::maintenance::flush_activity(&self.services).await;
        result
    }
}
