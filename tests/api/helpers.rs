//! Starting a real custgrade server for a test: on 127.0.0.1 port 0, on a fresh SQLite file or
//! a fresh PostgreSQL database, with generated tonic clients connected to it. The server stops
//! when the test's `TestApp` is dropped.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use custgrade::{
    config::{LogFormat, Settings},
    grpc::auth::ApiKeys,
    proto::custgrade::v1::{
        assessment_service_client::AssessmentServiceClient,
        customer_service_client::CustomerServiceClient,
        figures_service_client::FiguresServiceClient, outcome_service_client::OutcomeServiceClient,
        portfolio_service_client::PortfolioServiceClient,
        scoring_model_service_client::ScoringModelServiceClient,
    },
    proto::google::longrunning::operations_client::OperationsClient,
    startup::Application,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_types::StatusExt;

/// The database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub database_url: String,
    pub customers: CustomerServiceClient<Channel>,
    pub figures: FiguresServiceClient<Channel>,
    pub assessments: AssessmentServiceClient<Channel>,
    pub models: ScoringModelServiceClient<Channel>,
    pub portfolio: PortfolioServiceClient<Channel>,
    pub outcomes: OutcomeServiceClient<Channel>,
    pub operations: OperationsClient<Channel>,
    pub health: HealthClient<Channel>,
    pub channel: Channel,
    stop: Option<oneshot::Sender<()>>,
    stopped: Option<tokio::task::JoinHandle<()>>,
    _sqlite_dir: Option<tempfile::TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.begin_shutdown();
    }
}

impl TestApp {
    /// Another handle on the same server, for tasks that call it concurrently; dropping it
    /// leaves the server running.
    pub fn clone_clients(&self) -> TestApp {
        TestApp {
            addr: self.addr,
            database_url: self.database_url.clone(),
            customers: self.customers.clone(),
            figures: self.figures.clone(),
            assessments: self.assessments.clone(),
            models: self.models.clone(),
            portfolio: self.portfolio.clone(),
            outcomes: self.outcomes.clone(),
            operations: self.operations.clone(),
            health: self.health.clone(),
            channel: self.channel.clone(),
            stop: None,
            stopped: None,
            _sqlite_dir: None,
        }
    }

    /// Tells the server to shut down, as SIGTERM would, without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and waits until it has drained and returned.
    pub async fn shut_down(mut self) {
        self.begin_shutdown();
        if let Some(stopped) = self.stopped.take() {
            tokio::time::timeout(Duration::from_secs(10), stopped)
                .await
                .expect("the server did not stop within 10 s")
                .expect("the server task panicked");
        }
    }

    /// Stops the server as SIGTERM would and starts a new one on the same database, as a
    /// redeploy does; the new one is ready to serve.
    pub async fn restart(mut self) -> TestApp {
        let sqlite_dir = self._sqlite_dir.take();
        let database_url = self.database_url.clone();
        self.shut_down().await;
        let app = start(test_settings(database_url), sqlite_dir).await;
        app.wait_until_serving().await;
        app
    }

    /// The serving status the health service reports for `service`.
    pub async fn health_of(&self, service: &str) -> ServingStatus {
        let response = self
            .health
            .clone()
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check failed");
        response.into_inner().status()
    }
}

/// Settings for a test server: loopback, port 0, quick health checks, quiet logs.
pub fn test_settings(database_url: String) -> Settings {
    Settings {
        listen_addr: "127.0.0.1:0".parse().expect("a loopback address"),
        database_url,
        database_max_connections: 8,
        grade_cache_entries: 10_000,
        database_timeout: Duration::from_secs(5),
        health_check_interval: Duration::from_millis(100),
        api_keys: ApiKeys::default(),
        log_format: LogFormat::Pretty,
        log_filter: "error".to_owned(),
        shutdown_delay: Duration::ZERO,
        shutdown_timeout: Duration::from_secs(5),
    }
}

/// A server on `backend`, ready to serve; `None` when that backend is not configured here
/// (PostgreSQL runs only with `CUSTGRADE_TEST_DATABASE_URL`).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let (database_url, sqlite_dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("custgrade.db").display()
            );
            (url, Some(dir))
        }
        Backend::Postgres => (fresh_postgres_database().await?, None),
    };
    let mut settings = test_settings(database_url);
    adjust(&mut settings);
    let app = start(settings, sqlite_dir).await;
    app.wait_until_serving().await;
    Some(app)
}

/// Starts a server without waiting for its database.
pub async fn start(settings: Settings, sqlite_dir: Option<tempfile::TempDir>) -> TestApp {
    custgrade::telemetry::init(settings.log_format, &settings.log_filter);
    let settings_url = settings.database_url.clone();
    let application = Application::build(settings)
        .await
        .expect("the server builds");
    let addr = application.local_addr();
    let database_url = settings_url;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        application
            .run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("the server ran and stopped cleanly");
    });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("a valid uri")
        .connect_lazy();
    TestApp {
        addr,
        database_url,
        customers: CustomerServiceClient::new(channel.clone()),
        figures: FiguresServiceClient::new(channel.clone()),
        assessments: AssessmentServiceClient::new(channel.clone()),
        models: ScoringModelServiceClient::new(channel.clone()),
        portfolio: PortfolioServiceClient::new(channel.clone()),
        outcomes: OutcomeServiceClient::new(channel.clone()),
        operations: OperationsClient::new(channel.clone()),
        health: HealthClient::new(channel.clone()),
        channel,
        stop: Some(stop),
        stopped: Some(server),
        _sqlite_dir: sqlite_dir,
    }
}

impl TestApp {
    pub async fn wait_until_serving(&self) {
        for _ in 0..200 {
            let status = self
                .health
                .clone()
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await;
            if matches!(status, Ok(ref response) if response.get_ref().status() == ServingStatus::Serving)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not report SERVING within 10 s");
    }
}

/// A new, empty PostgreSQL database on the server `CUSTGRADE_TEST_DATABASE_URL` points at, so
/// each test starts from a clean schema.
async fn fresh_postgres_database() -> Option<String> {
    let base_url = optional_env("CUSTGRADE_TEST_DATABASE_URL", "the PostgreSQL variant")?;
    let name = format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(base_url.as_str())
        .await
        .expect("CUSTGRADE_TEST_DATABASE_URL is reachable");
    if !STALE_DATABASES_DROPPED.swap(true, Ordering::SeqCst) {
        drop_stale_databases(&admin).await;
    }
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("the test role may create databases");
    let _ = admin.close().await;
    Some(with_database(&base_url, &name))
}

/// What every test database's name starts with; a UUIDv7, whose first 48 bits are the time it
/// was made, follows.
const TEST_DATABASE_PREFIX: &str = "custgrade_test_";
/// How old a test database is before a later run drops it: older than any run, so a run going
/// on beside this one keeps its databases.
const STALE_AFTER: Duration = Duration::from_secs(3600);
/// Whether this run has dropped the databases earlier runs left.
static STALE_DATABASES_DROPPED: AtomicBool = AtomicBool::new(false);

/// Drops the test databases runs made over [`STALE_AFTER`] ago. A test leaves its database
/// behind (to look at when it failed), so without this every run would add a hundred.
async fn drop_stale_databases(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            [TEST_DATABASE_PREFIX.into()],
        ))
        .await
        .expect("the test role may list databases");
    let now = std::time::SystemTime::now();
    for row in rows {
        let name: String = row.try_get_by_index(0).expect("a database name");
        let made = name
            .strip_prefix(TEST_DATABASE_PREFIX)
            .and_then(|id| uuid::Uuid::try_parse(id).ok())
            .and_then(|id| id.get_timestamp())
            .map(|time| {
                let (seconds, nanos) = time.to_unix();
                std::time::UNIX_EPOCH + Duration::new(seconds, nanos)
            });
        let stale = made
            .and_then(|made| now.duration_since(made).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if stale {
            // Best effort: a database still in use elsewhere stays, to be dropped next time.
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await;
        }
    }
}

/// `base_url` with its database name replaced by `name`.
fn with_database(base_url: &str, name: &str) -> String {
    let (without_query, query) = match base_url.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (base_url, None),
    };
    let (server, _) = without_query
        .rsplit_once('/')
        .expect("a database url ends with /DATABASE");
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// The fields a `google.rpc.BadRequest` detail names, after checking that `status` is
/// INVALID_ARGUMENT.
pub fn bad_request_fields(status: &tonic::Status) -> BTreeSet<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .expect("INVALID_ARGUMENT carries a BadRequest detail")
        .field_violations
        .into_iter()
        .map(|violation| violation.field)
        .collect()
}

/// The set of `fields`, to compare with `bad_request_fields`.
pub fn fields(fields: &[&str]) -> BTreeSet<String> {
    fields.iter().map(|field| (*field).to_owned()).collect()
}

/// An environment variable that enables part of the suite. Unset, that part is skipped with
/// a note, except in CI (`CI` set), where a missing variable is a broken set-up and fails.
pub fn optional_env(name: &str, enables: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("{name} must be set in CI: it enables {enables}")
        }
        Err(_) => {
            eprintln!("{name} is not set: skipping {enables}");
            None
        }
    }
}

/// A value unique to this test run, for external ids and filters that must not collide.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// Declares each scenario as two tests, `NAME::on_sqlite` and `NAME::on_postgres`, on a
/// multi-threaded runtime so that calls a scenario spawns really run in parallel.
#[macro_export]
macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await {
                        super::$scenario(app).await;
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                        super::$scenario(app).await;
                    }
                }
            }
        )*
    };
}
