//! Configuration: command-line flags, each also settable from an environment variable, with
//! defaults that serve on an embedded SQLite file so `cargo run` works with no set-up.

use std::{net::SocketAddr, str::FromStr, time::Duration};

use clap::{Parser, Subcommand, ValueEnum};

use crate::{domain::scoring::Locale, grpc::auth::ApiKeys, storage::StoreOptions};

#[derive(Debug, Parser)]
#[command(
    name = "custgrade",
    version,
    about = "Grades a company's business customers over gRPC"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve gRPC (the default when no command is given).
    Serve,
    /// Read an API key's secret from standard input and print the SHA-256 hash to put in
    /// CUSTGRADE_API_KEYS (the secret itself is never stored).
    HashKey,
    /// Work with scoring model documents offline.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Check a model document (YAML, or JSON when the name ends in .json) with the checks and
    /// messages the server uses; exits 1 when it has problems.
    Validate {
        /// The document to check.
        file: std::path::PathBuf,
    },
    /// Grade sample figures with a model document, without a server or database, and print
    /// the rationale table.
    Assess {
        /// The model document (YAML, or JSON when the name ends in .json).
        file: std::path::PathBuf,
        /// A JSON object of inputs named like the `Figures` fields, money as decimal strings,
        /// e.g. {"sales_last_12_months": "3000000", "on_time_payment_rate_percent": 96}.
        figures: std::path::PathBuf,
        /// The figures' as-of date, YYYY-MM-DD.
        #[arg(long)]
        as_of: chrono::NaiveDate,
        /// The language of the table: `en` or `zh-CN`.
        #[arg(long, default_value = "en", value_parser = Locale::from_str)]
        locale: Locale,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address to listen on for gRPC.
    #[arg(
        long,
        global = true,
        env = "CUSTGRADE_LISTEN_ADDR",
        default_value = "0.0.0.0:50051"
    )]
    pub listen_addr: SocketAddr,

    /// Database: `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://custgrade.db?mode=rwc",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Most database connections the server holds open.
    #[arg(
        long,
        global = true,
        env = "CUSTGRADE_DATABASE_MAX_CONNECTIONS",
        default_value_t = 16
    )]
    pub database_max_connections: u32,

    /// How many customers' current grades the server keeps in memory for GetCustomerGrade
    /// (about 0.5 KiB each); 0 reads every grade from the database. On PostgreSQL a grade in
    /// memory is served only once the server has heard of every change other replicas
    /// committed before the read (LISTEN/NOTIFY and a round trip per batch of reads).
    #[arg(
        long,
        global = true,
        env = "CUSTGRADE_GRADE_CACHE_ENTRIES",
        default_value_t = 50_000
    )]
    pub grade_cache_entries: usize,

    /// How long a call waits for a database connection before answering UNAVAILABLE.
    #[arg(long, global = true, env = "CUSTGRADE_DATABASE_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub database_timeout: Duration,

    /// How often the database is checked to keep the health status true.
    #[arg(long, global = true, env = "CUSTGRADE_HEALTH_CHECK_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub health_check_interval: Duration,

    /// API keys, `NAME:SHA256HEX:ROLE[,ROLE...]` separated by `;`. Empty: the server is open.
    #[arg(
        long,
        global = true,
        env = "CUSTGRADE_API_KEYS",
        default_value = "",
        hide_env_values = true
    )]
    pub api_keys: ApiKeys,

    /// Log format: `json` for machines, `pretty` for people, `auto` picks by terminal.
    #[arg(long, global = true, env = "CUSTGRADE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,

    /// Log filter in `tracing` syntax, e.g. `info` or `custgrade=debug,info`.
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// How long the server keeps serving after a shutdown signal, with health already
    /// NOT_SERVING, so load balancers stop sending calls before new ones are refused.
    #[arg(long, global = true, env = "CUSTGRADE_SHUTDOWN_DELAY", default_value = "0s", value_parser = humantime::parse_duration)]
    pub shutdown_delay: Duration,

    /// How long a shutdown waits for calls in flight before it drops them.
    #[arg(long, global = true, env = "CUSTGRADE_SHUTDOWN_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

impl Settings {
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            database_url: self.database_url.clone(),
            max_connections: self.database_max_connections,
            acquire_timeout: self.database_timeout,
            grade_cache_entries: self.grade_cache_entries,
        }
    }
}
