//! What the benchmarks share: the real server binary as a process of its own (started on a
//! database, stopped as SIGTERM or a crash would), its memory, and the table they print.

#![allow(dead_code)] // Each benchmark uses part of it.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// One row of a benchmark's table: the figure, its baseline, their ratio and the target.
pub fn row(
    figure: &str,
    measured: &str,
    baseline: &str,
    ratio: &str,
    target: &str,
    met: Option<bool>,
) {
    let met = match met {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "-",
    };
    println!("| {figure} | {measured} | {baseline} | {ratio} | {target} | {met} |");
}

pub fn table_header() {
    println!("| figure | measured | baseline | ratio | target | met |\n|---|---|---|---|---|---|");
}

pub fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// The server binary this package builds, running as its own process.
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    /// Starts the server on `database_url` at a free loopback port, and reads the port from
    /// its log line.
    pub fn start(database_url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_custgrade"))
            .env("DATABASE_URL", database_url)
            .env("CUSTGRADE_LISTEN_ADDR", "127.0.0.1:0")
            .env("CUSTGRADE_LOG_FORMAT", "json")
            // The line that names the port, and warnings; no access log.
            .env("RUST_LOG", "warn,custgrade::startup=info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the server binary starts");
        let mut lines = BufReader::new(child.stdout.take().expect("a stdout")).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server logs where it serves")
                .expect("a log line");
            let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if let Some(addr) = entry.get("addr").and_then(|a| a.as_str()) {
                break addr.to_owned();
            }
        };
        // Keep draining the log, so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, addr }
    }

    /// A channel to the server, connected.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .expect("a valid uri")
            .connect()
            .await
            .expect("the server accepts connections")
    }

    /// The server's resident memory now.
    pub fn resident(&self) -> u64 {
        self.status_kib("VmRSS:") * 1024
    }

    /// The most the server has been resident since it started.
    pub fn peak_resident(&self) -> u64 {
        self.status_kib("VmHWM:") * 1024
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Stops the server as Kubernetes does (SIGTERM) and waits until it has exited.
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    /// A benchmark that fails half-way still stops its server.
    fn drop(&mut self) {
        self.stop();
    }
}

pub async fn wait_until_serving(health: HealthClient<Channel>) {
    for _ in 0..300 {
        let status = health.clone().check(HealthCheckRequest::default()).await;
        if status.is_ok_and(|response| response.into_inner().status == 1) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server never reported SERVING");
}

/// The database a benchmark runs on: a fresh SQLite file in a temporary directory, or, with
/// `CUSTGRADE_BENCH_DATABASE_URL` naming a PostgreSQL server, a fresh database there.
pub struct FreshDatabase {
    pub url: String,
    pub is_postgres: bool,
    /// The server's own database, to drop the fresh one from at the end.
    admin: Option<(DatabaseConnection, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl FreshDatabase {
    /// Makes the database; `purpose` goes into the PostgreSQL database's name.
    pub async fn new(purpose: &str) -> Self {
        let Ok(server_url) = std::env::var("CUSTGRADE_BENCH_DATABASE_URL") else {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            );
            return Self {
                url,
                is_postgres: false,
                admin: None,
                _dir: Some(dir),
            };
        };
        let name = format!("custgrade_{purpose}_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(server_url.as_str())
            .await
            .expect("CUSTGRADE_BENCH_DATABASE_URL is reachable");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("the role may create databases");
        let (base, _) = server_url
            .rsplit_once('/')
            .expect("a url ending in /DATABASE");
        Self {
            url: format!("{base}/{name}"),
            is_postgres: true,
            admin: Some((admin, name)),
            _dir: None,
        }
    }

    /// Drops a PostgreSQL database; a SQLite file goes with its directory.
    pub async fn drop_database(self) {
        let Some((admin, name)) = &self.admin else {
            return;
        };
        // FORCE ends our own leftover sessions, but may not end an autovacuum worker's; then
        // a plain drop once the worker is done.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("DROP DATABASE IF EXISTS {name}"),
        ] {
            match admin.execute_unprepared(&statement).await {
                Ok(_) => return,
                Err(error) => {
                    eprintln!("dropping the benchmark database {name}: {error}");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }
}
