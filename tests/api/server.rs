//! The server around the services: health per service that follows the database, reflection
//! in both its versions, UNAVAILABLE while the database is down, and a clean shutdown.

use std::{collections::BTreeSet, time::Duration};

use custgrade::proto::custgrade::v1::{CreateCustomerRequest, Customer, ListCustomersRequest};
use sea_orm::{
    ConnectionTrait, Database, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_reflection::pb::{v1, v1alpha};

use crate::{
    assessments::{assess, current_grade, record, sound_figures},
    customers::customer,
    figures::create_customer,
    helpers::{Backend, TestApp, spawn_app, spawn_app_with, start, test_settings},
};

const SERVICES: [&str; 8] = [
    "",
    "custgrade.v1.CustomerService",
    "custgrade.v1.FiguresService",
    "custgrade.v1.AssessmentService",
    "custgrade.v1.ScoringModelService",
    "custgrade.v1.PortfolioService",
    "custgrade.v1.OutcomeService",
    "google.longrunning.Operations",
];

/// The services a reflection client of protocol `$version` (`v1` or `v1alpha`) is told of.
/// A macro because the two versions are distinct generated types of the same shape.
macro_rules! listed_services {
    ($version:ident, $channel:expr) => {{
        use $version::{
            server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let request = $version::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = ServerReflectionClient::new($channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        let response = responses.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
            panic!("reflection did not list services: {response:?}");
        };
        list.service
            .into_iter()
            .map(|service| service.name)
            .collect::<BTreeSet<String>>()
    }};
}

crate::on_every_backend!(
    every_service_reports_serving_once_the_database_is_ready,
    reflection_lists_every_service_in_v1_and_v1alpha,
    a_shutdown_drains_and_stops_the_server,
);

async fn every_service_reports_serving_once_the_database_is_ready(app: TestApp) {
    for service in SERVICES {
        assert_eq!(
            app.health_of(service).await,
            ServingStatus::Serving,
            "{service:?}"
        );
    }
}

async fn reflection_lists_every_service_in_v1_and_v1alpha(app: TestApp) {
    let expected: BTreeSet<String> = [
        "custgrade.v1.AssessmentService",
        "custgrade.v1.CustomerService",
        "custgrade.v1.FiguresService",
        "custgrade.v1.OutcomeService",
        "custgrade.v1.PortfolioService",
        "custgrade.v1.ScoringModelService",
        "google.longrunning.Operations",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();

    assert_eq!(listed_services!(v1, app.channel.clone()), expected);
    assert_eq!(listed_services!(v1alpha, app.channel.clone()), expected);
}

async fn a_shutdown_drains_and_stops_the_server(app: TestApp) {
    let mut customers = app.customers.clone();
    app.shut_down().await;
    let after = customers
        .list_customers(ListCustomersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::Unavailable, "{after:?}");
}

/// A second server started on a SQLite file another server uses stays NOT_SERVING (it would
/// not see the first one's writes, and the first answers grades from memory) until the first
/// stops; then it serves the same data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_a_sqlite_file_serves_once_the_first_stops() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("custgrade.db").display()
    );
    let first = start(test_settings(url.clone()), None).await;
    wait_for_health(&first, ServingStatus::Serving).await;
    let customer = create_customer(&first).await;
    record(&first, &customer, sound_figures(), false).await;
    let assessment = assess(&first, &customer).await;
    assert_eq!(
        current_grade(&first, &customer).await.assessment,
        assessment.name
    );

    let second = start(test_settings(url), Some(dir)).await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_ne!(second.health_of("").await, ServingStatus::Serving);
    }
    assert_eq!(first.health_of("").await, ServingStatus::Serving);

    first.shut_down().await;
    wait_for_health(&second, ServingStatus::Serving).await;
    assert_eq!(
        current_grade(&second, &customer).await.assessment,
        assessment.name
    );
    second.shut_down().await;
}

/// On an in-memory SQLite database every connection of the server, the group commit's own
/// included, reaches the same database: an assessment is stored and read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_sqlite_database_stores_and_reads_assessments() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.database_url = "sqlite::memory:".to_owned();
    })
    .await
    .unwrap();
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    let assessment = assess(&app, &customer).await;
    assert_eq!(
        current_grade(&app, &customer).await.assessment,
        assessment.name
    );
    app.shut_down().await;
}

/// SIGTERM with calls in flight: health turns NOT_SERVING while the server still serves for
/// the shutdown delay, then a call that was waiting (here on SQLite's write lock, held from
/// outside) still completes during the drain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_reports_not_serving_first_and_lets_calls_in_flight_finish() {
    let delay = Duration::from_millis(400);
    let mut app = spawn_app_with(Backend::Sqlite, |settings| settings.shutdown_delay = delay)
        .await
        .unwrap();
    let outsider = Database::connect(app.database_url.as_str()).await.unwrap();
    let write_lock = outsider
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
        .unwrap();

    let mut customers = app.customers.clone();
    let in_flight = tokio::spawn(async move {
        customers
            .create_customer(CreateCustomerRequest {
                customer: Some(customer("machinery")),
                request_id: String::new(),
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;

    app.begin_shutdown();
    wait_for_health(&app, ServingStatus::NotServing).await;
    tokio::time::sleep(delay).await;
    write_lock.rollback().await.unwrap();

    let created = in_flight
        .await
        .unwrap()
        .expect("the call in flight completes");
    assert!(created.into_inner().name.starts_with("customers/"));
    app.shut_down().await;
}

/// Registers a valid customer; the outcome is the point.
async fn try_create(app: &TestApp) -> Result<tonic::Response<Customer>, tonic::Status> {
    app.customers
        .clone()
        .create_customer(CreateCustomerRequest {
            customer: Some(customer("machinery")),
            request_id: String::new(),
        })
        .await
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn wait_for_health(app: &TestApp, expected: ServingStatus) {
    for _ in 0..100 {
        if app.health_of("").await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("health did not become {expected:?} within 5 s");
}

#[tokio::test]
async fn a_server_whose_database_cannot_be_reached_is_not_serving_and_answers_unavailable() {
    let mut settings = test_settings(format!(
        "postgres://custgrade:custgrade@127.0.0.1:{}/custgrade",
        closed_port()
    ));
    settings.database_timeout = Duration::from_millis(500);
    let app = start(settings, None).await;

    for service in SERVICES {
        assert_eq!(
            app.health_of(service).await,
            ServingStatus::NotServing,
            "{service:?}"
        );
    }
    let status = try_create(&app).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(
        !status.message().contains("postgres"),
        "{}",
        status.message()
    );
}

/// A real outage: the test's database stops accepting connections and its sessions are
/// killed, then it comes back, and calls, assessments included, work again. PostgreSQL only:
/// SQLite is a file and cannot go away.
#[tokio::test]
async fn health_and_calls_follow_a_postgres_outage_and_recovery() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let base_url = std::env::var("CUSTGRADE_TEST_DATABASE_URL").unwrap();
    let database = app.database_url.rsplit('/').next().unwrap().to_owned();
    let admin = Database::connect(base_url.as_str()).await.unwrap();
    // An assessment before the outage, so the group commit's connection is open when it dies.
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    assess(&app, &customer).await;

    admin
        .execute_unprepared(&format!(
            "ALTER DATABASE {database} ALLOW_CONNECTIONS false"
        ))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        ))
        .await
        .unwrap();
    wait_for_health(&app, ServingStatus::NotServing).await;
    let during = try_create(&app).await.unwrap_err();
    assert_eq!(during.code(), Code::Unavailable, "{during:?}");

    admin
        .execute_unprepared(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    wait_for_health(&app, ServingStatus::Serving).await;
    try_create(&app).await.unwrap();
    let after = assess(&app, &customer).await;
    assert_eq!(current_grade(&app, &customer).await.assessment, after.name);
}
