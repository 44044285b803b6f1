//! The re-grade benchmark: a book of a million customers re-graded by `RegradePortfolio`
//! through the real server binary, beside a plain bulk insert of the same rows in the same
//! run, with the server's peak memory at two book sizes and a restart in the middle of a run.
//!
//! `cargo bench --bench regrade` runs it on a fresh SQLite file. With
//! `CUSTGRADE_BENCH_DATABASE_URL` set to a PostgreSQL server (a role that may create
//! databases), it runs on a fresh database there instead, dropped at the end.
//! `CUSTGRADE_BENCH_CUSTOMERS` (default 1,000,000) sets the book's size; the small book is a
//! tenth of it.
//!
//! Phases, in order:
//! 1. the small book, made directly in SQL (not timed), re-graded by a fresh server: the
//!    time and that server's peak resident memory;
//! 2. the book grown to full size, re-graded by a fresh server: the rate and peak memory;
//! 3. the full book re-graded again, the server stopped (SIGTERM) in the middle and a new one
//!    started: the run ends with exactly one assessment per customer (counted in SQL);
//! 4. baseline: the rows phase 3 stored (its assessments and the current grades) copied with
//!    one `INSERT ... SELECT` each into tables of the same columns, indexes and foreign keys.
//!
//! On PostgreSQL the book is vacuumed and analysed each time it is made or grown (not timed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use custgrade::proto::{
    custgrade::v1::{
        RegradePortfolioMetadata, RegradePortfolioRequest, RegradeState,
        portfolio_service_client::PortfolioServiceClient,
    },
    google::longrunning::{GetOperationRequest, Operation, operations_client::OperationsClient},
};
use prost::Message;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};
use support::{FreshDatabase, Server, mebibytes, row, table_header, wait_until_serving};
use tonic_health::pb::health_client::HealthClient;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let customers: u64 = std::env::var("CUSTGRADE_BENCH_CUSTOMERS")
        .ok()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or(1_000_000);
    let small = customers / 10;
    let fresh = FreshDatabase::new("regrade").await;
    let database_url = fresh.url.clone();
    let db = Database::connect(database_url.as_str())
        .await
        .expect("the benchmark database");
    let backend = db.get_database_backend();

    // The schema and the default models come from a first start of the server.
    let server = Server::start(&database_url);
    wait_until_serving(HealthClient::new(server.channel().await)).await;
    server.terminate();

    seed(&db, 0, small).await;
    let (small_time, small_peak) = regrade_with_fresh_server(&database_url).await;
    seed(&db, small, customers).await;
    let (full_time, full_peak) = regrade_with_fresh_server(&database_url).await;
    let (operation, restarted_time, restarted_at) =
        regrade_across_a_restart(&database_url, customers).await;
    let (assessments, distinct) = assessments_of(&db, &operation).await;
    let baseline = bulk_insert(&db, &operation).await;

    println!(
        "custgrade re-grade benchmark: {backend:?}, {customers} customers, {} cores\n",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    table_header();
    let rate = |time: Duration, count: u64| count as f64 / time.as_secs_f64();
    let baseline_rate = rate(baseline, customers);
    row(
        "baseline: INSERT ... SELECT of the same rows (assessments + current grades)",
        &format!(
            "{:.1} s, {:.0} customers/s",
            baseline.as_secs_f64(),
            baseline_rate
        ),
        "-",
        "-",
        "-",
        None,
    );
    let full_rate = rate(full_time, customers);
    row(
        &format!("RegradePortfolio, {customers} customers"),
        &format!(
            "{:.1} s, {full_rate:.0} customers/s",
            full_time.as_secs_f64()
        ),
        &format!("{baseline_rate:.0}/s"),
        &format!("{:.2}x", full_rate / baseline_rate),
        "under 60 s, at least 0.5x",
        Some(full_time < Duration::from_secs(60) && full_rate >= 0.5 * baseline_rate),
    );
    row(
        &format!("RegradePortfolio, {small} customers"),
        &format!(
            "{:.1} s, {:.0} customers/s",
            small_time.as_secs_f64(),
            rate(small_time, small)
        ),
        "-",
        "-",
        "-",
        None,
    );
    let memory_ratio = full_peak as f64 / small_peak as f64;
    row(
        "server peak resident memory, full book (baseline: the small book's)",
        &mebibytes(full_peak),
        &mebibytes(small_peak),
        &format!("{memory_ratio:.2}x"),
        "under 256 MiB, within 1.25x",
        Some(full_peak < 256 << 20 && memory_ratio <= 1.25),
    );
    let exactly_once = assessments == customers && distinct == customers;
    row(
        "re-grade with a restart in the middle",
        &format!(
            "stopped at {restarted_at} customers; {:.1} s in all; {assessments} assessments \
             of {distinct} customers",
            restarted_time.as_secs_f64()
        ),
        "-",
        "-",
        "exactly one assessment per customer",
        Some(exactly_once),
    );
    let _ = db.close().await;
    fresh.drop_database().await;
}

/// Registers customers `from..to` with one snapshot each, straight in SQL. Their figures vary
/// with the index, so grades spread over the scale.
async fn seed(db: &DatabaseConnection, from: u64, to: u64) {
    let (series, id, boolean_false, date, time) = match db.get_database_backend() {
        DbBackend::Postgres => (
            format!("generate_series({from}::bigint, {}) AS n(i)", to - 1),
            "'01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0')",
            "false",
            "DATE '2026-09-30'",
            "TIMESTAMPTZ '2026-10-01 00:00:00+00'",
        ),
        _ => (
            format!(
                "(WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n \
                 WHERE i < {}) SELECT i FROM n)",
                to - 1
            ),
            "printf('01900000-0000-7000-8000-%012x', i)",
            "0",
            "'2026-09-30'",
            "'2026-10-01T00:00:00+00:00'",
        ),
    };
    let customers = format!(
        "INSERT INTO customers (id, external_id, display_name, kind, industry, region, \
         parent_id, corporate_group, version, create_time, update_time, delete_time) \
         SELECT {id}, 'BENCH-' || i, 'Bench customer ' || i, 'existing', 'bench', '', NULL, \
         '', 1, {time}, {time}, NULL FROM {series}"
    );
    let figures = format!(
        "INSERT INTO figures (customer_id, as_of_date, revision, superseded, record_time, \
         source, currency, inputs) \
         SELECT {id}, {date}, 1, {boolean_false}, {time}, 'bench', 'CNY', \
         '{{\"credit_rating\":\"' || (CASE i % 4 WHEN 0 THEN 'AAA' WHEN 1 THEN 'AA' \
         WHEN 2 THEN 'A' ELSE 'BBB' END) || '\",\"sales_last_12_months\":\"' || \
         (500000 + (i * 7919) % 9000000) || '\",\"gross_margin_percent\":' || (i % 40) || \
         '.5,\"cooperation_years\":' || (i % 9) || '.0,\"on_time_payment_rate_percent\":' || \
         (80 + i % 20) || '.5,\"longest_overdue_days\":' || (i % 120) || '}}' FROM {series}"
    );
    for statement in [customers, figures] {
        db.execute_unprepared(&statement)
            .await
            .expect("the book is seeded");
    }
    // What autovacuum does a while after a bulk load, done before the clock starts: without
    // it the first re-grade of a freshly grown book raced autovacuum for the disk and the
    // first reads of each new row wrote its hint bits, and its time moved between 52 and
    // 108 s from run to run. A production book was not bulk-loaded a moment before.
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared("VACUUM ANALYZE customers, figures")
            .await
            .expect("the book is vacuumed");
    }
}

/// Starts a server, re-grades the whole book, and returns the time from the call to the
/// end and the server's peak resident memory.
async fn regrade_with_fresh_server(database_url: &str) -> (Duration, u64) {
    let server = Server::start(database_url);
    let channel = server.channel().await;
    wait_until_serving(HealthClient::new(channel.clone())).await;
    let started = Instant::now();
    let operation = start_regrade(&channel).await;
    wait_done(&channel, &operation.name, |_| false).await;
    let time = started.elapsed();
    let peak = server.peak_resident();
    server.terminate();
    (time, peak)
}

/// Re-grades the whole book, stopping the server once 40 % is done and starting a new one;
/// returns the operation's name, the time in all, and how far the first server got.
async fn regrade_across_a_restart(database_url: &str, customers: u64) -> (String, Duration, i64) {
    let server = Server::start(database_url);
    let channel = server.channel().await;
    wait_until_serving(HealthClient::new(channel.clone())).await;
    let started = Instant::now();
    let operation = start_regrade(&channel).await;
    let threshold = i64::try_from(customers * 2 / 5).unwrap();
    let progress = wait_done(&channel, &operation.name, |progress| {
        progress.processed_customer_count >= threshold
    })
    .await;
    server.terminate();
    let reached = progress.processed_customer_count;

    let server = Server::start(database_url);
    let channel = server.channel().await;
    wait_until_serving(HealthClient::new(channel.clone())).await;
    let progress = wait_done(&channel, &operation.name, |_| false).await;
    assert_eq!(
        progress.processed_customer_count,
        i64::try_from(customers).unwrap()
    );
    let time = started.elapsed();
    server.terminate();
    (operation.name, time, reached)
}

async fn start_regrade(channel: &tonic::transport::Channel) -> Operation {
    PortfolioServiceClient::new(channel.clone())
        .regrade_portfolio(RegradePortfolioRequest::default())
        .await
        .expect("the re-grade starts")
        .into_inner()
}

/// Polls the operation until it is done or `enough` says so; returns its last progress.
async fn wait_done(
    channel: &tonic::transport::Channel,
    name: &str,
    enough: impl Fn(&RegradePortfolioMetadata) -> bool,
) -> RegradePortfolioMetadata {
    let mut operations = OperationsClient::new(channel.clone());
    loop {
        let operation = operations
            .get_operation(GetOperationRequest {
                name: name.to_owned(),
            })
            .await
            .expect("the operation is read")
            .into_inner();
        let progress = RegradePortfolioMetadata::decode(
            operation.metadata.expect("metadata").value.as_slice(),
        )
        .expect("progress decodes");
        if operation.done || enough(&progress) {
            assert!(
                operation.result.is_none() || progress.state() == RegradeState::Succeeded,
                "{progress:?}"
            );
            return progress;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many assessments the operation stored, and of how many customers.
async fn assessments_of(db: &DatabaseConnection, operation: &str) -> (u64, u64) {
    let id = operation.trim_start_matches("operations/");
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM assessments \
                 WHERE operation_id = '{id}'"
            ),
        ))
        .await
        .expect("counted")
        .expect("a row");
    let count = |index: usize| -> u64 {
        let value: i64 = row.try_get_by_index(index).expect("a count");
        u64::try_from(value).unwrap()
    };
    (count(0), count(1))
}

/// Copies the operation's assessments and the current grades into tables of the same shape
/// and indexes, one `INSERT ... SELECT` each in one transaction; returns the time it took.
async fn bulk_insert(db: &DatabaseConnection, operation: &str) -> Duration {
    let id = operation.trim_start_matches("operations/");
    for table in ["assessments", "customer_grades"] {
        for statement in copy_of(db, table).await {
            db.execute_unprepared(&statement)
                .await
                .expect("the copy's table is made");
        }
    }
    let started = Instant::now();
    db.execute_unprepared(&format!(
        "BEGIN; \
         INSERT INTO bench_assessments SELECT * FROM assessments WHERE operation_id = '{id}'; \
         INSERT INTO bench_customer_grades SELECT * FROM customer_grades; \
         COMMIT;"
    ))
    .await
    .expect("the rows are copied");
    started.elapsed()
}

/// The statements that make `bench_{table}`: `table`'s columns and indexes.
async fn copy_of(db: &DatabaseConnection, table: &str) -> Vec<String> {
    if db.get_database_backend() == DbBackend::Postgres {
        // LIKE copies columns, defaults and indexes but not foreign keys; those are checked
        // on every row the server writes, so the copy gets them too.
        let foreign_keys = db
            .query_all_raw(sea_orm::Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint \
                     WHERE conrelid = '{table}'::regclass AND contype = 'f'"
                ),
            ))
            .await
            .expect("the foreign keys are read");
        let mut statements = vec![format!(
            "CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)"
        )];
        statements.extend(foreign_keys.into_iter().map(|row| {
            let definition: String = row.try_get_by_index(0).expect("a definition");
            format!("ALTER TABLE bench_{table} ADD {definition}")
        }));
        return statements;
    }
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT sql FROM sqlite_master WHERE tbl_name = '{table}' AND sql IS NOT NULL"),
        ))
        .await
        .expect("the schema is read");
    rows.into_iter()
        .map(|row| {
            let sql: String = row.try_get_by_index(0).expect("a statement");
            sql.replacen(&format!("\"{table}\""), &format!("\"bench_{table}\""), 1)
                .replacen(&format!(" {table} "), &format!(" bench_{table} "), 1)
                .replace("INDEX \"", "INDEX \"bench_")
                .replace("INDEX idx", "INDEX bench_idx")
        })
        .collect()
}
