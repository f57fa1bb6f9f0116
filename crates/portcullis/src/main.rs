//! The `portcullis` command: `serve`, `init`, and the operator's
//! `token`, `env` and `members` commands (`portcullis::operator`).

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use portcullis::app::{self, Application};
use portcullis::clock::SystemClock;
use portcullis::config::{Config, ConfigArgs, LogFormat};
use portcullis::operator::{InitReport, Operator};
use portcullis::services::bootstrap::{self, InitOutcome};
use portcullis::services::members::MemberUpdate;
use secrecy::ExposeSecret;
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Authentication and session-security server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (creates the first organization on an empty data dir).
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Create the first organization, project and environments, or a new
    /// owner API token when they exist; print the ids and the token.
    Init {
        #[command(flatten)]
        config: ConfigArgs,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// API tokens, on the database directly (as the owner).
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Environments: list, lock, unlock (as the owner).
    Env {
        #[command(subcommand)]
        action: EnvCommand,
    },
    /// Organization members and their roles (as the owner).
    Members {
        #[command(subcommand)]
        action: MemberCommand,
    },
}

/// Where the operator's commands act, and how they answer.
#[derive(Args, Clone)]
struct Target {
    #[command(flatten)]
    config: ConfigArgs,
    /// Print JSON (the API's shapes) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret (shown once).
    Create {
        #[command(flatten)]
        target: Target,
        /// owner, admin, developer or viewer.
        #[arg(long)]
        role: String,
        /// What it is for.
        #[arg(long, default_value = "created with the portcullis command")]
        note: String,
        /// Limit it to one environment.
        #[arg(long = "environment", value_name = "ENV_ID")]
        environment_id: Option<String>,
        /// RFC 3339 time when it stops working.
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
    },
    /// List the tokens that are not revoked.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        #[command(flatten)]
        target: Target,
        token_id: String,
    },
    /// Give a token a new secret; the old one works for --grace-seconds.
    Rotate {
        #[command(flatten)]
        target: Target,
        token_id: String,
        #[arg(long, default_value_t = 0)]
        grace_seconds: i64,
    },
}

#[derive(Subcommand)]
enum EnvCommand {
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Stop all traffic to an environment (423 environment_locked).
    Lock {
        #[command(flatten)]
        target: Target,
        environment_id: String,
    },
    Unlock {
        #[command(flatten)]
        target: Target,
        environment_id: String,
    },
}

#[derive(Subcommand)]
enum MemberCommand {
    List {
        #[command(flatten)]
        target: Target,
    },
    Add {
        #[command(flatten)]
        target: Target,
        email: String,
        /// admin, developer or viewer.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Change a member; `--role owner` transfers ownership.
    Update {
        #[command(flatten)]
        target: Target,
        member_id: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    Remove {
        #[command(flatten)]
        target: Target,
        member_id: String,
    },
    /// Remove a member's dashboard TOTP (a lost authenticator); they set
    /// it up again after signing in with an e-mailed code.
    ResetTotp {
        #[command(flatten)]
        target: Target,
        member_id: String,
    },
}

impl Command {
    fn config_args(&self) -> ConfigArgs {
        match self {
            Command::Serve { config } | Command::Init { config, .. } => config.clone(),
            Command::Token { action } => match action {
                TokenCommand::Create { target, .. }
                | TokenCommand::List { target }
                | TokenCommand::Revoke { target, .. }
                | TokenCommand::Rotate { target, .. } => target.config.clone(),
            },
            Command::Env { action } => match action {
                EnvCommand::List { target }
                | EnvCommand::Lock { target, .. }
                | EnvCommand::Unlock { target, .. } => target.config.clone(),
            },
            Command::Members { action } => match action {
                MemberCommand::List { target }
                | MemberCommand::Add { target, .. }
                | MemberCommand::Update { target, .. }
                | MemberCommand::Remove { target, .. }
                | MemberCommand::ResetTotp { target, .. } => target.config.clone(),
            },
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn describe(outcome: &InitOutcome) -> String {
    format!(
        "organization: {}\nproject:      {}\nsandbox:      {}\nlive:         {}",
        outcome.organization_id,
        outcome.project_id,
        outcome.environments.sandbox,
        outcome.environments.live
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

async fn serve(config: Config) -> Result<(), String> {
    let app = Application::build(config.clone(), Arc::new(SystemClock))
        .await
        .map_err(|e| e.0)?;
    if let Some(created) = &app.created {
        // The owner token is a secret: it goes to a 0600 file, never to the log.
        let path = config.data_dir.join("owner-token");
        bootstrap::write_owner_token_file(&path, &created.api_token)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        tracing::info!(
            organization_id = %created.organization_id,
            project_id = %created.project_id,
            sandbox = %created.environments.sandbox,
            live = %created.environments.live,
            owner_token_file = %path.display(),
            "initialized a new data directory; the owner API token was written to owner_token_file (read it once, then delete it)"
        );
    }
    tracing::info!(
        address = %app.local_addr(),
        url = %app.url(),
        public_url = %app.public_url(),
        "portcullis is listening"
    );
    tracing::info!(
        dashboard = %format!("{}/dashboard/", app.public_url().trim_end_matches('/')),
        "members sign in to the dashboard with an e-mailed code (docs/dashboard.md)"
    );
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn init(config: Config, json: bool) -> Result<(), String> {
    let outcome = app::init(&config, &SystemClock).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&InitReport::of(&outcome)).map_err(|e| e.to_string())?
        );
    } else {
        let what = if outcome.created {
            "Created"
        } else {
            "Already initialized; created a new owner API token for"
        };
        println!(
            "{what}:\n{}\n\nOwner API token (shown once, stored only as a hash):\n{}",
            describe(&outcome),
            outcome.api_token.expose_secret()
        );
    }
    Ok(())
}

/// A JSON answer as text: `key: value` lines; lists one item per line.
fn text(value: &Value) -> String {
    fn scalar(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => "-".into(),
            other => other.to_string(),
        }
    }
    fn line(v: &Value) -> String {
        match v {
            Value::Object(fields) => fields
                .iter()
                .map(|(k, v)| format!("{k}={}", scalar(v)))
                .collect::<Vec<_>>()
                .join("  "),
            other => scalar(other),
        }
    }
    match value {
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| match v {
                Value::Array(items) if items.is_empty() => format!("{k}: none"),
                Value::Array(items) => items.iter().map(line).collect::<Vec<_>>().join("\n"),
                other => format!("{k}: {}", scalar(other)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => scalar(other),
    }
}

async fn operate(config: Config, command: Command) -> Result<(), String> {
    let operator = Operator::open(&config, Arc::new(SystemClock)).await?;
    let (answer, json) = match command {
        Command::Serve { .. } | Command::Init { .. } => return Ok(()),
        Command::Token { action } => match action {
            TokenCommand::Create {
                target,
                role,
                note,
                environment_id,
                expires_at,
            } => (
                operator
                    .create_token(note, role, environment_id, expires_at)
                    .await?,
                target.json,
            ),
            TokenCommand::List { target } => (operator.list_tokens().await?, target.json),
            TokenCommand::Revoke { target, token_id } => {
                (operator.revoke_token(&token_id).await?, target.json)
            }
            TokenCommand::Rotate {
                target,
                token_id,
                grace_seconds,
            } => (
                operator.rotate_token(&token_id, grace_seconds).await?,
                target.json,
            ),
        },
        Command::Env { action } => match action {
            EnvCommand::List { target } => (operator.list_environments().await?, target.json),
            EnvCommand::Lock {
                target,
                environment_id,
            } => (
                operator.set_locked(&environment_id, true).await?,
                target.json,
            ),
            EnvCommand::Unlock {
                target,
                environment_id,
            } => (
                operator.set_locked(&environment_id, false).await?,
                target.json,
            ),
        },
        Command::Members { action } => match action {
            MemberCommand::List { target } => (operator.list_members().await?, target.json),
            MemberCommand::Add {
                target,
                email,
                role,
                name,
            } => (operator.add_member(&email, name, &role).await?, target.json),
            MemberCommand::Update {
                target,
                member_id,
                role,
                email,
                name,
            } => (
                operator
                    .update_member(
                        &member_id,
                        MemberUpdate {
                            email,
                            name: name.map(Some),
                            role,
                        },
                    )
                    .await?,
                target.json,
            ),
            MemberCommand::Remove { target, member_id } => {
                (operator.remove_member(&member_id).await?, target.json)
            }
            MemberCommand::ResetTotp { target, member_id } => {
                (operator.reset_member_totp(&member_id).await?, target.json)
            }
        },
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
        );
    } else {
        println!("{}", text(&answer));
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = matches!(cli.command, Command::Init { json: true, .. });
    let config = match Config::resolve(cli.command.config_args()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("portcullis: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("portcullis: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { .. } => serve(config).await,
            Command::Init { .. } => init(config, json).await,
            other => operate(config, other).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portcullis: {e}");
            ExitCode::FAILURE
        }
    }
}
