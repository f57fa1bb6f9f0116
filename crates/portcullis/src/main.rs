//! The `portcullis` command: `serve` and `init`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use portcullis::app::{Application, open_store};
use portcullis::clock::SystemClock;
use portcullis::config::{Config, ConfigArgs, LogFormat};
use portcullis::services::bootstrap::{self, InitOutcome};

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
    tracing::info!(address = %app.local_addr(), public_url = %app.public_url(), "portcullis is listening");
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn init(config: Config, json: bool) -> Result<(), String> {
    let (store, master_key) = open_store(&config).await.map_err(|e| e.0)?;
    let outcome = bootstrap::init(&store, &master_key, &SystemClock)
        .await
        .map_err(|e| e.to_string())?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcome).map_err(|e| e.to_string())?
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
            outcome.api_token
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (args, json) = match &cli.command {
        Command::Serve { config } => (config.clone(), false),
        Command::Init { config, json } => (config.clone(), *json),
    };
    let config = match Config::resolve(args) {
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
