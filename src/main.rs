//! The `custgrade` binary: reads configuration, sets up logging and serves until SIGTERM or
//! Ctrl-C.

use std::{io::BufRead, process::ExitCode};

use clap::Parser;
use custgrade::{
    config::{Cli, Command, ModelCommand},
    grpc::auth::hash_secret,
    startup::Application,
    telemetry,
};

/// mimalloc, not the system allocator: an assessment allocates and frees hundreds of small
/// values on two busy threads (statements, rows, the response), and glibc's malloc and free
/// were a sixth of the server's time under load; with mimalloc, AssessCustomer on SQLite
/// went 15-30 % faster in the load benchmark. Built without transparent huge pages
/// (`no_thp`): with them each thread's heap takes a whole 2 MiB page and the idle server
/// doubles to ~46 MiB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::HashKey => hash_key(),
        Command::Model { command } => {
            let report = match command {
                ModelCommand::Validate { file } => custgrade::model_file::check(&file),
                ModelCommand::Assess {
                    file,
                    figures,
                    as_of,
                    locale,
                } => custgrade::model_file::assess_sample(&file, &figures, as_of, locale),
            };
            print!("{}", report.text);
            if report.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Serve => {
            telemetry::init(cli.settings.log_format, &cli.settings.log_filter);
            match serve(cli.settings).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "custgrade failed");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn serve(
    settings: custgrade::config::Settings,
) -> Result<(), custgrade::startup::StartupError> {
    let application = Application::build(settings).await?;
    application.run_until(shutdown_signal()).await
}

fn hash_key() -> ExitCode {
    let mut secret = String::new();
    if std::io::stdin().lock().read_line(&mut secret).is_err() {
        eprintln!("cannot read the secret from standard input");
        return ExitCode::FAILURE;
    }
    println!("{}", hash_secret(secret.trim_end_matches(['\r', '\n'])));
    ExitCode::SUCCESS
}

/// Completes on SIGTERM (how Kubernetes stops a pod) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
