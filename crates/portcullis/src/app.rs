//! Start-up: data directory, master key, database, first tenant, services,
//! the listening socket. `Application::build` binds (port 0 works) and
//! returns; `run_until` serves.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::{Config, SmsProvider};
use crate::http::tls::Https;
use crate::metrics::Metrics;
use crate::services::advisor::SecurityAdvisor;
use crate::services::api_tokens::ApiTokens;
use crate::services::bootstrap::{self, InitOutcome};
use crate::services::change_state::ChangeState;
use crate::services::changes::Changes;
use crate::services::code_sign_in::{CodeSignIn, CodeSignInParts};
use crate::services::email_sign_in::EmailSignIn;
use crate::services::environments::Environments;
use crate::services::eth_rpc::EthRpc;
use crate::services::events::Events;
use crate::services::lock::EnvironmentLocks;
use crate::services::maintenance::{Maintenance, MaintenanceParts};
use crate::services::member_access::{MemberAccess, MemberAccessParts};
use crate::services::member_totp::MemberTotp;
use crate::services::members::Members;
use crate::services::mfa::attempts::CodeAttempts;
use crate::services::mfa::completion::Completion;
use crate::services::mfa::devices::MfaDevices;
use crate::services::mfa::elevation::Elevation;
use crate::services::mfa::passkeys::{Passkeys, PasskeysParts};
use crate::services::mfa::recovery_codes::Recovery;
use crate::services::mfa::second_factor::{SecondFactorParts, SecondFactors};
use crate::services::mfa::totp::{TotpDevices, TotpParts};
use crate::services::notifications::Notifications;
use crate::services::origins::Origins;
use crate::services::outbox::{Outbox, OutboxParts};
use crate::services::outbox_signal::OutboxSignal;
use crate::services::readiness::Readiness;
use crate::services::revocation_feed::RevocationFeed;
use crate::services::sdk_cookies::SdkCookies;
use crate::services::session_revocation::{SessionRevocation, SessionRevocationParts};
use crate::services::sessions::Sessions;
use crate::services::settings::Settings;
use crate::services::sms_sign_in::SmsSignIn;
use crate::services::users::Users;
use crate::services::wallet_sign_in::WalletSignIn;
use crate::services::webhook_client::WebhookClient;
use crate::services::webhooks::{Webhooks, WebhooksParts};
use crate::services::{ActivityTracker, MfaServices, RateLimits, Revocations, Services, Workers};
use crate::sms::{FileSms, SmsError, SmsTransport, TwilioSms, WebhookSms};
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
        config.master_key.as_ref().map(|k| k.expose_secret()),
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

/// Every service and worker service, wired: what the server runs on,
/// and what the operator's commands (`portcullis token …`, `env …`,
/// `members …`) call directly.
pub struct Wired {
    pub services: Services,
    pub workers: Workers,
}

/// `portcullis init`: the first tenant on a fresh database, or a new owner
/// token on an initialized one.
pub async fn init(config: &Config, clock: &dyn Clock) -> Result<InitOutcome, String> {
    let (store, master_key) = open_store(config).await.map_err(|e| e.0)?;
    bootstrap::init(&store, &master_key, clock, &config.owner_email)
        .await
        .map_err(|e| e.to_string())
}

/// The services on an initialized database, for the operator's commands:
/// the first organization's id and the services, wired as `serve` wires
/// them.
pub async fn wire_initialized(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<(String, Wired), String> {
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{}://{}", scheme(config), config.listen));
    let (store, master_key) = open_store(config).await.map_err(|e| e.0)?;
    let organization_id = bootstrap::first_organization_id(&store)
        .await?
        .ok_or("this database has no organization yet; run `portcullis init` first")?;
    let wired = build_services(config, clock, store, master_key, public_url)
        .await
        .map_err(|e| e.0)?;
    Ok((organization_id, wired))
}

/// Builds every service once, each with only the store traits and
/// collaborators it needs (see docs/architecture.md).
pub async fn build_services(
    config: &Config,
    clock: Arc<dyn Clock>,
    store: Store,
    master_key: crate::crypto::MasterKey,
    public_url: String,
) -> Result<Wired, StartupError> {
    let mail = mail::transport(config.smtp_url.as_deref(), &config.data_dir.join("mail"))
        .map_err(|e| fail("mail")(e.to_string()))?;
    let sms = sms_transport(config, clock.clone()).map_err(|e| fail("sms")(e.to_string()))?;
    let revocations = Arc::new(
        Revocations::load(
            store.sessions.clone(),
            store.users.clone(),
            store.environments.clone(),
            clock.now().unix_timestamp(),
        )
        .await
        .map_err(|e| fail("loading revocations")(e.to_string()))?,
    );
    let metrics = Metrics::new().map_err(fail("metrics"))?;
    let state = Arc::new(ChangeState::new(
        crate::crypto::node_id().map_err(|e| fail("node id")(e.to_string()))?,
    ));
    let activity = Arc::new(ActivityTracker::default());
    let signal = Arc::new(OutboxSignal::default());
    let rate_limits = Arc::new(RateLimits::new(
        &config.rate_limits,
        clock.clone(),
        store.rate_limits.clone(),
    ));
    let environments = Arc::new(Environments::new(
        store.environments.clone(),
        store.origins.clone(),
        store.webhooks.clone(),
        master_key.clone(),
        public_url.clone(),
        state.clone(),
    ));
    let events = Arc::new(Events::new(
        clock.clone(),
        store.events.clone(),
        environments.clone(),
        config.event_retention_days,
    ));
    let sessions = Arc::new(Sessions::new(
        clock.clone(),
        store.sessions.clone(),
        store.mfa.clone(),
        revocations.clone(),
        state.clone(),
        activity.clone(),
    ));
    let users = Arc::new(Users::new(store.users.clone()));
    let locks = Arc::new(EnvironmentLocks::new(
        store.environments.clone(),
        environments.clone(),
        events.clone(),
        signal.clone(),
    ));
    let mfa = mfa_services(
        &clock,
        &master_key,
        &public_url,
        &store,
        &environments,
        &events,
        &sessions,
        &users,
    );
    let notifications = Arc::new(Notifications::new(
        clock.clone(),
        store.events.clone(),
        store.members.clone(),
        mail.clone(),
        config.smtp_from.clone(),
        signal.clone(),
    ));
    let member_totp = Arc::new(MemberTotp::new(
        clock.clone(),
        master_key.clone(),
        store.member_access.clone(),
        rate_limits.clone(),
    ));
    let member_access = Arc::new(MemberAccess::new(MemberAccessParts {
        clock: clock.clone(),
        master_key: master_key.clone(),
        organizations: store.organizations.clone(),
        members: store.members.clone(),
        store: store.member_access.clone(),
        totp: member_totp.clone(),
        rate_limits: rate_limits.clone(),
        mail: mail.clone(),
        mail_from: config.smtp_from.clone(),
    }));
    let codes = Arc::new(CodeSignIn::new(CodeSignInParts {
        clock: clock.clone(),
        master_key: master_key.clone(),
        verifications: store.verifications.clone(),
        users: store.users.clone(),
        sessions: sessions.clone(),
        devices: mfa.devices.clone(),
        rate_limits: rate_limits.clone(),
        metrics: metrics.clone(),
    }));
    let services = Services {
        clock: clock.clone(),
        sdk_cookies: Arc::new(SdkCookies::new(master_key.clone())),
        member_access,
        member_totp,
        settings: Arc::new(Settings::new(
            clock.clone(),
            master_key.clone(),
            store.environments.clone(),
            environments.clone(),
            events.clone(),
            config.allow_private_webhook_urls,
        )),
        origins: Arc::new(Origins::new(
            clock.clone(),
            store.origins.clone(),
            environments.clone(),
            events.clone(),
        )),
        revocation_feed: Arc::new(RevocationFeed::new(
            clock.clone(),
            store.sessions.clone(),
            revocations.clone(),
            config.stream_heartbeat_interval,
        )),
        revocation: Arc::new(SessionRevocation::new(SessionRevocationParts {
            clock: clock.clone(),
            sessions: store.sessions.clone(),
            users: store.users.clone(),
            environment_store: store.environments.clone(),
            environments: environments.clone(),
            events: events.clone(),
            revocations: revocations.clone(),
            activity: activity.clone(),
            metrics: metrics.clone(),
        })),
        email_sign_in: Arc::new(EmailSignIn::new(
            codes.clone(),
            rate_limits.clone(),
            mail,
            config.smtp_from.clone(),
        )),
        sms_sign_in: Arc::new(SmsSignIn::new(codes.clone(), rate_limits.clone(), sms)),
        wallet_sign_in: Arc::new(WalletSignIn::new(
            clock.clone(),
            codes.clone(),
            rate_limits.clone(),
            Arc::new(EthRpc::new(Arc::new(
                WebhookClient::new(config.allow_private_webhook_urls)
                    .map_err(fail("the RPC client"))?,
            ))),
            public_url.clone(),
        )),
        code_sign_in: codes,
        api_tokens: Arc::new(ApiTokens::new(
            clock.clone(),
            store.api_tokens.clone(),
            environments.clone(),
            events.clone(),
        )),
        members: Arc::new(Members::new(
            clock.clone(),
            store.members.clone(),
            events.clone(),
        )),
        webhooks: Arc::new(Webhooks::new(WebhooksParts {
            clock: clock.clone(),
            master_key: master_key.clone(),
            webhook_store: store.webhooks.clone(),
            event_store: store.events.clone(),
            environments: environments.clone(),
            events: events.clone(),
            outbox: signal.clone(),
            allow_private: config.allow_private_webhook_urls,
        })),
        advisor: Arc::new(SecurityAdvisor::new(
            clock.clone(),
            store.members.clone(),
            store.api_tokens.clone(),
        )),
        readiness: Arc::new(Readiness::new(store.health.clone(), state.clone())),
        locks: locks.clone(),
        mfa,
        users: users.clone(),
        sessions: sessions.clone(),
        events: events.clone(),
        environments: environments.clone(),
        metrics,
    };
    let workers = Workers {
        maintenance: Arc::new(Maintenance::new(MaintenanceParts {
            clock: clock.clone(),
            jobs: store.jobs.clone(),
            sessions: store.sessions.clone(),
            verifications: store.verifications.clone(),
            member_access: store.member_access.clone(),
            mfa: store.mfa.clone(),
            rate_limits,
            events: events.clone(),
            revocations: revocations.clone(),
            activity,
            state: state.clone(),
        })),
        changes: Arc::new(Changes::new(
            clock.clone(),
            store.changes.clone(),
            state,
            environments.clone(),
            revocations,
        )),
        outbox: Arc::new(Outbox::new(OutboxParts {
            clock,
            master_key,
            event_store: store.events.clone(),
            webhooks: store.webhooks.clone(),
            sessions: store.sessions.clone(),
            users: store.users.clone(),
            environments,
            events,
            notifications: notifications.clone(),
            client: WebhookClient::new(config.allow_private_webhook_urls)
                .map_err(fail("webhook client"))?,
            signal,
        })),
        notifications,
        locks,
    };
    Ok(Wired { services, workers })
}

/// The MFA services: each capability its own, built in dependency order.
#[allow(clippy::too_many_arguments)]
fn mfa_services(
    clock: &Arc<dyn Clock>,
    master_key: &crate::crypto::MasterKey,
    public_url: &str,
    store: &Store,
    environments: &Arc<Environments>,
    events: &Arc<Events>,
    sessions: &Arc<Sessions>,
    users: &Arc<Users>,
) -> MfaServices {
    let attempts = Arc::new(CodeAttempts::new(clock.clone(), store.mfa.clone()));
    let elevation = Arc::new(Elevation::new(store.mfa.clone(), sessions.clone()));
    let completion = Arc::new(Completion::new(
        store.mfa.clone(),
        sessions.clone(),
        users.clone(),
    ));
    let recovery = Arc::new(Recovery::new(
        clock.clone(),
        master_key.clone(),
        store.mfa.clone(),
        elevation.clone(),
        attempts.clone(),
    ));
    let totp = Arc::new(TotpDevices::new(TotpParts {
        clock: clock.clone(),
        master_key: master_key.clone(),
        mfa_store: store.mfa.clone(),
        events: events.clone(),
        elevation: elevation.clone(),
        recovery: recovery.clone(),
        completion: completion.clone(),
        attempts: attempts.clone(),
    }));
    let passkeys = Arc::new(Passkeys::new(PasskeysParts {
        clock: clock.clone(),
        public_url: public_url.to_string(),
        mfa_store: store.mfa.clone(),
        events: events.clone(),
        elevation: elevation.clone(),
        recovery: recovery.clone(),
        completion: completion.clone(),
    }));
    MfaServices {
        devices: Arc::new(MfaDevices::new(
            store.mfa.clone(),
            environments.clone(),
            events.clone(),
            elevation.clone(),
            users.clone(),
        )),
        second_factor: Arc::new(SecondFactors::new(SecondFactorParts {
            clock: clock.clone(),
            totp: totp.clone(),
            recovery: recovery.clone(),
            passkeys: passkeys.clone(),
            completion,
            attempts,
        })),
        totp,
        recovery,
        passkeys,
        elevation,
    }
}

/// `https` when Portcullis serves HTTPS itself, else `http`.
fn scheme(config: &Config) -> &'static str {
    if config.tls.is_some() {
        "https"
    } else {
        "http"
    }
}

pub struct Application {
    listener: TcpListener,
    tls: Option<Https>,
    services: Arc<Services>,
    workers: Workers,
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
        // Before the database: a bad certificate or key stops the start.
        let tls = config
            .tls
            .as_ref()
            .map(|files| Https::start(files).map_err(StartupError))
            .transpose()?;
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
            .unwrap_or_else(|| format!("{}://{local}", scheme(&config)));
        if tls.is_some() && public_url.starts_with("http://") {
            tracing::warn!(
                public_url,
                "Portcullis serves HTTPS but the public URL is http://: set --public-url to the https:// URL clients use"
            );
        }
        let Wired { services, workers } =
            build_services(&config, clock, store, master_key, public_url).await?;
        Ok(Self {
            listener,
            tls,
            services: Arc::new(services),
            workers,
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

    /// Where this server is reached directly: `http://` or, serving
    /// HTTPS, `https://` and the address it listens on.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr())
    }

    pub fn public_url(&self) -> &str {
        self.services.environments.public_url()
    }

    /// Serves until `shutdown` completes, then writes pending activity.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = crate::http::router(self.services.clone());
        crate::crypto::warm_up_in_background();
        let w = &self.workers;
        let maintenance = tokio::spawn(workers::maintenance::run(
            w.maintenance.clone(),
            self.flush_every,
        ));
        let changes = tokio::spawn(workers::changes::supervise(w.changes.clone()));
        let outbox = tokio::spawn(workers::outbox::run(
            w.outbox.clone(),
            w.notifications.clone(),
        ));
        let locks = tokio::spawn(workers::locks::run(w.locks.clone(), self.lock_watch_every));
        let (tls, reload) = self.tls.map(Https::run).unzip();
        let feed = self.services.revocation_feed.clone();
        let shutdown = async move {
            shutdown.await;
            feed.close();
        };
        let result =
            crate::http::server::serve(self.listener, router, self.connections, tls, shutdown)
                .await;
        if let Some(reload) = reload {
            reload.abort();
        }
        maintenance.abort();
        changes.abort();
        outbox.abort();
        locks.abort();
        self.workers.maintenance.flush_activity().await;
        result
    }
}

/// Where SMS codes go: the configured provider, or `<data-dir>/sms/`.
fn sms_transport(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn SmsTransport>, SmsError> {
    let deadline = config.sms.send_deadline;
    Ok(match &config.sms.provider {
        SmsProvider::File => Arc::new(FileSms::new(config.data_dir.join("sms"))?),
        SmsProvider::Twilio {
            base_url,
            account_sid,
            auth_token,
            sender,
        } => Arc::new(TwilioSms::new(
            base_url,
            account_sid,
            auth_token.clone(),
            sender.clone(),
            deadline,
        )?),
        SmsProvider::Webhook { url, secret } => {
            Arc::new(WebhookSms::new(url, secret, deadline, clock)?)
        }
    })
}
