//! The load benchmark: starts the real server binary on a fresh SQLite file, drives it over
//! gRPC from tonic clients in this process, and prints every figure beside a baseline
//! measured in the same run, as a ratio, and beside the target of issue 6.
//!
//! `cargo bench --bench load` runs it; `CUSTGRADE_BENCH_SECONDS` (default 5) sets how long
//! each phase drives load. It is bounded in time and requests and stops the server itself.
//! With `CUSTGRADE_BENCH_DATABASE_URL` naming a PostgreSQL server, it runs on a fresh
//! database there, and measures the baseline of the assessment phase: the rows an assessment
//! stores, inserted by as many clients straight over SQL.
//!
//! Phases, in order:
//! 1. the server idle, after start: resident memory;
//! 2. a book of customers registered, recorded and assessed (not timed);
//! 3. baseline: the gRPC health `Check`, the cost of gRPC itself, from many callers;
//! 4. `GetCustomerGrade` from as many callers, as a ratio of the baseline;
//! 5. `AssessCustomer` from 64 callers: durable commits, and every failure counted (on
//!    PostgreSQL, from 16 and from 64 callers, each beside the same rows inserted straight
//!    over SQL by as many clients); on PostgreSQL the database is then vacuumed (not timed);
//! 6. baseline: the health `Check` paced at 1,000/s while 100 assessments/s run beside it,
//!    the latency of gRPC itself on this machine;
//! 7. `GetCustomerGrade` paced the same way, beside that baseline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use custgrade::proto::{
    custgrade::v1::{
        AssessCustomerRequest, CreateCustomerRequest, CreditRating, Customer, CustomerKind,
        Figures, GetCustomerGradeRequest, RecordFiguresRequest,
        assessment_service_client::AssessmentServiceClient,
        customer_service_client::CustomerServiceClient,
        figures_service_client::FiguresServiceClient,
    },
    google::r#type::{Date, Money},
};
use hdrhistogram::Histogram;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};
use support::{FreshDatabase, Server, mebibytes, row, table_header, wait_until_serving};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Customers in the book the reads pick from.
const BOOK: usize = 2_000;
/// Callers of the closed-loop read phases.
const READERS: usize = 32;
/// Callers of the assessment phase: the figure (its upper end on PostgreSQL).
const WRITERS: usize = 64;
/// The lower end of the range of callers for the PostgreSQL assessment phase.
const FEW_WRITERS: usize = 16;
/// How long the SQL baseline's closed connections are given to end before the next phase.
const SETTLE: Duration = Duration::from_secs(1);

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds: u64 = std::env::var("CUSTGRADE_BENCH_SECONDS")
        .ok()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or(5);
    let phase = Duration::from_secs(seconds);
    let database = FreshDatabase::new("load").await;
    let server = Server::start(&database.url);
    let channel = server.channel().await;
    let clients = Clients::new(channel);
    wait_until_serving(clients.health.clone()).await;
    let idle = server.resident();

    let book = load_book(&clients).await;
    println!(
        "custgrade load benchmark: {}, {BOOK} customers, {seconds} s per phase, {} cores\n",
        if database.is_postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        std::thread::available_parallelism().map_or(0, usize::from)
    );

    let health = closed_loop(READERS, phase, check_health(&clients)).await;
    let book = Arc::new(book);
    let reads = closed_loop(READERS, phase, round_the_book(&clients, &book, read_grade)).await;
    let writes = closed_loop(
        WRITERS,
        phase,
        round_the_book(&clients, &book, assess_again),
    )
    .await;
    let loaded_peak = server.peak_resident();
    // On PostgreSQL, both ends of the range of callers, each beside its SQL baseline.
    let postgres = if database.is_postgres {
        let few = closed_loop(
            FEW_WRITERS,
            phase,
            round_the_book(&clients, &book, assess_again),
        )
        .await;
        Some([
            (
                FEW_WRITERS,
                few,
                direct_inserts(&database.url, FEW_WRITERS, phase).await,
            ),
            (
                WRITERS,
                writes.clone(),
                direct_inserts(&database.url, WRITERS, phase).await,
            ),
        ])
    } else {
        None
    };
    // The paced phases measure reads beside a steady trickle of assessments, not PostgreSQL
    // cleaning up after the write phases.
    if database.is_postgres {
        vacuum(&database.url).await;
    }
    let (paced_health, paced_health_writes) =
        beside_assessments(&clients, &book, phase, check_health(&clients)).await;
    let (paced_reads, paced_writes) = beside_assessments(
        &clients,
        &book,
        phase,
        round_the_book(&clients, &book, read_grade),
    )
    .await;

    table_header();
    let ratio = reads.rate() / health.rate();
    row(
        "health Check, 32 callers (baseline: the cost of gRPC)",
        &health.describe(),
        "-",
        "-",
        "-",
        None,
    );
    row(
        "GetCustomerGrade, 32 callers",
        &reads.describe(),
        &format!("{:.0}/s", health.rate()),
        &format!("{ratio:.2}x"),
        "at least 0.5x",
        Some(ratio >= 0.5),
    );
    match &postgres {
        None => row(
            "AssessCustomer, SQLite, 64 callers",
            &writes.describe(),
            "-",
            "-",
            "at least 5,000/s, no failure",
            Some(writes.rate() >= 5_000.0 && writes.failures == 0),
        ),
        Some(phases) => {
            for (callers, writes, direct) in phases {
                row(
                    &format!("baseline: an assessment's rows inserted over SQL, {callers} clients"),
                    &direct.describe(),
                    "-",
                    "-",
                    "-",
                    None,
                );
                let ratio = writes.rate() / direct.rate();
                row(
                    &format!("AssessCustomer, PostgreSQL, {callers} callers"),
                    &writes.describe(),
                    &format!("{:.0}/s", direct.rate()),
                    &format!("{ratio:.2}x"),
                    "at least 0.5x, p99 under 30 ms",
                    Some(ratio >= 0.5 && writes.p99_ms() < 30.0 && writes.failures == 0),
                );
            }
        }
    }
    row(
        "baseline: health Check at 1,000/s beside 100 assessments/s",
        &format!(
            "{} (assessments: {})",
            paced_health.describe(),
            paced_health_writes.describe()
        ),
        "-",
        "-",
        "-",
        None,
    );
    let p99_ms = paced_reads.calls.p99_ms();
    row(
        "GetCustomerGrade at 1,000/s beside 100 assessments/s",
        &format!(
            "{} (assessments: {})",
            paced_reads.describe(),
            paced_writes.describe()
        ),
        &format!("p99 {:.2} ms", paced_health.calls.p99_ms()),
        &format!("{:.2}x", p99_ms / paced_health.calls.p99_ms()),
        "p99 under 2 ms",
        Some(p99_ms < 2.0 && paced_reads.calls.failures == 0),
    );
    row(
        "server resident memory, idle",
        &mebibytes(idle),
        "-",
        "-",
        "under 50 MiB",
        Some(idle < 50 << 20),
    );
    row(
        "server peak resident memory, up to 64 callers",
        &mebibytes(loaded_peak),
        "-",
        "-",
        "under 200 MiB",
        Some(loaded_peak < 200 << 20),
    );
    drop(server);
    database.drop_database().await;
}

/// The baseline of the assessment phase on PostgreSQL: what one `AssessCustomer` stores (an
/// assessment row, and the customer's current grade pointed at it) in one transaction,
/// straight over SQL from `callers` clients back to back. The rows copy the book's stored
/// assessments under new ids, so they are the same size as the server's.
async fn direct_inserts(database_url: &str, callers: usize, phase: Duration) -> Measured {
    let mut options = ConnectOptions::new(database_url.to_owned());
    options
        .max_connections(u32::try_from(callers).unwrap())
        .sqlx_logging(false);
    let db = Database::connect(options).await.expect("the database");
    let templates: Vec<String> = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT id FROM assessments ORDER BY id",
        ))
        .await
        .expect("the book's assessments")
        .into_iter()
        .map(|row| row.try_get_by_index(0).unwrap())
        .collect();
    let templates = Arc::new(templates);
    let pool = db.clone();
    let measured = closed_loop(callers, phase, move |n| {
        let db = db.clone();
        let template = templates[n % templates.len()].clone();
        async move {
            insert_like(&db, &template)
                .await
                .map_err(|error| tonic::Status::internal(error.to_string()))
        }
    })
    .await;
    // Up to 64 PostgreSQL backends end when their connections close, and ending takes the
    // machine's cores for about a tenth of a second: done here, not in the next phase's time.
    pool.close()
        .await
        .expect("the baseline's connections close");
    tokio::time::sleep(SETTLE).await;
    measured
}

/// What autovacuum does a while after the write phases, done before the paced phases: those
/// phases leave tens of thousands of dead rows, and autovacuum was seen cleaning them up for
/// 8 s in the middle of a paced phase. (The paced p99 still moves as much from run to run
/// with it: most of its spread is the machine's.)
async fn vacuum(database_url: &str) {
    let db = Database::connect(database_url).await.expect("the database");
    db.execute_unprepared("VACUUM ANALYZE")
        .await
        .expect("the database is vacuumed");
    db.close().await.expect("the connection closes");
}

/// Inserts a copy of assessment `template` under a new id and makes it its customer's current
/// grade, in one transaction.
async fn insert_like(db: &DatabaseConnection, template: &str) -> Result<(), sea_orm::DbErr> {
    let id = uuid::Uuid::now_v7().to_string();
    let txn = db.begin().await?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO assessments (id, customer_id, figures_id, figures_revision, \
         model_version_id, assess_time, as_of_date, valid_until, currency, total_score, grade, \
         document, operation_id, rationale) \
         SELECT $1, customer_id, figures_id, figures_revision, model_version_id, now(), \
         as_of_date, valid_until, currency, total_score, grade, document, NULL, rationale \
         FROM assessments WHERE id = $2",
        [id.clone().into(), template.into()],
    ))
    .await?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE customer_grades SET assessment_id = $1, assess_time = now() \
         WHERE customer_id = (SELECT customer_id FROM assessments WHERE id = $1)",
        [id.into()],
    ))
    .await?;
    txn.commit().await
}

/// Health checks of the whole server.
fn check_health(clients: &Clients) -> impl Fn(usize) -> BoxedCall + Clone + Send + 'static {
    let health = clients.health.clone();
    move |_| {
        let mut health = health.clone();
        Box::pin(async move {
            health
                .check(HealthCheckRequest::default())
                .await
                .map(|_| ())
        })
    }
}

/// Calls of `call` on the book's customers in turn (the `n`-th call on customer `n`, round
/// the book).
fn round_the_book(
    clients: &Clients,
    book: &Arc<Vec<String>>,
    call: fn(AssessmentServiceClient<Channel>, String) -> BoxedCall,
) -> impl Fn(usize) -> BoxedCall + Clone + Send + 'static {
    let (client, book) = (clients.assessments.clone(), book.clone());
    move |n| call(client.clone(), book[n % book.len()].clone())
}

fn read_grade(mut client: AssessmentServiceClient<Channel>, customer: String) -> BoxedCall {
    Box::pin(async move {
        client
            .get_customer_grade(GetCustomerGradeRequest { customer })
            .await
            .map(|_| ())
    })
}

/// Assesses with the champion.
fn assess_again(mut client: AssessmentServiceClient<Channel>, customer: String) -> BoxedCall {
    Box::pin(async move { client.assess_customer(assess(&customer)).await.map(|_| ()) })
}

/// One gRPC call of a phase, its response dropped.
type BoxedCall =
    std::pin::Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send + 'static>>;

#[derive(Clone)]
struct Clients {
    health: HealthClient<Channel>,
    customers: CustomerServiceClient<Channel>,
    figures: FiguresServiceClient<Channel>,
    assessments: AssessmentServiceClient<Channel>,
}

impl Clients {
    fn new(channel: Channel) -> Self {
        Self {
            health: HealthClient::new(channel.clone()),
            customers: CustomerServiceClient::new(channel.clone()),
            figures: FiguresServiceClient::new(channel.clone()),
            assessments: AssessmentServiceClient::new(channel),
        }
    }
}

/// Registers, records and assesses the book, 16 customers at a time; returns their names.
async fn load_book(clients: &Clients) -> Vec<String> {
    let mut names = Vec::with_capacity(BOOK);
    for chunk in (0..BOOK).collect::<Vec<_>>().chunks(16) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|index| {
                let clients = clients.clone();
                let index = *index;
                tokio::spawn(async move { register(&clients, index).await })
            })
            .collect();
        for task in tasks {
            names.push(task.await.expect("the task ran"));
        }
    }
    names
}

async fn register(clients: &Clients, index: usize) -> String {
    let customer = clients
        .customers
        .clone()
        .create_customer(CreateCustomerRequest {
            customer: Some(Customer {
                external_id: format!("BENCH-{index}"),
                display_name: format!("Bench customer {index}"),
                kind: CustomerKind::Existing.into(),
                industry: "machinery".to_owned(),
                region: "east-china".to_owned(),
                ..Customer::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("created")
        .into_inner();
    clients
        .figures
        .clone()
        .record_figures(RecordFiguresRequest {
            parent: customer.name.clone(),
            figures: Some(figures(index)),
            supersede: false,
            request_id: String::new(),
        })
        .await
        .expect("recorded");
    clients
        .assessments
        .clone()
        .assess_customer(assess(&customer.name))
        .await
        .expect("assessed");
    customer.name
}

/// A sound customer's figures, its sales varied by `index`.
fn figures(index: usize) -> Figures {
    let cny = |units: i64| {
        Some(Money {
            currency_code: "CNY".to_owned(),
            units,
            nanos: 0,
        })
    };
    Figures {
        as_of_date: Some(Date {
            year: 2026,
            month: 9,
            day: 30,
        }),
        sales_last_12_months: cny(1_000_000 + i64::try_from(index).unwrap() * 3_000),
        gross_margin_percent: Some(25.0),
        on_time_payment_rate_percent: Some(96.5),
        longest_overdue_days: Some(10),
        cooperation_years: Some(4.0),
        credit_rating: CreditRating::Aa.into(),
        revenue_growth_percent: Some(5.0),
        financial_statements_provided: Some(true),
        net_assets: cny(10_000_000),
        annual_revenue: cny(50_000_000),
        net_profit_margin_percent: Some(5.0),
        ..Figures::default()
    }
}

fn assess(customer: &str) -> AssessCustomerRequest {
    AssessCustomerRequest {
        parent: customer.to_owned(),
        ..AssessCustomerRequest::default()
    }
}

/// A histogram of durations in microseconds, up to a minute.
fn micros_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// What a phase measured: calls, failures by gRPC code, latencies in microseconds.
#[derive(Clone)]
struct Measured {
    elapsed: Duration,
    latency: Histogram<u64>,
    failures: u64,
    failure_codes: Vec<tonic::Code>,
}

impl Measured {
    fn new() -> Self {
        Self {
            elapsed: Duration::ZERO,
            latency: micros_histogram(),
            failures: 0,
            failure_codes: Vec::new(),
        }
    }

    fn record(&mut self, latency: Duration, result: Result<(), tonic::Status>) {
        self.latency.saturating_record(micros(latency).max(1));
        if let Err(status) = result {
            self.failures += 1;
            if !self.failure_codes.contains(&status.code()) {
                self.failure_codes.push(status.code());
            }
        }
    }

    fn merge(&mut self, other: Self) {
        self.latency.add(other.latency).unwrap();
        self.failures += other.failures;
        for code in other.failure_codes {
            if !self.failure_codes.contains(&code) {
                self.failure_codes.push(code);
            }
        }
    }

    fn rate(&self) -> f64 {
        self.latency.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn p99_ms(&self) -> f64 {
        self.latency.value_at_quantile(0.99) as f64 / 1_000.0
    }

    fn describe(&self) -> String {
        let failures = if self.failures == 0 {
            "no failure".to_owned()
        } else {
            format!("{} failed ({:?})", self.failures, self.failure_codes)
        };
        format!(
            "{:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {failures}",
            self.rate(),
            self.latency.value_at_quantile(0.5) as f64 / 1_000.0,
            self.p99_ms()
        )
    }
}

/// `callers` tasks each calling `call` back to back until `phase` is over.
async fn closed_loop<F, Fut>(callers: usize, phase: Duration, call: F) -> Measured
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send,
{
    let started = Instant::now();
    let deadline = started + phase;
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut measured = Measured::new();
                let mut index = caller;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let result = call(index).await;
                    measured.record(sent.elapsed(), result);
                    index += callers;
                }
                measured
            })
        })
        .collect();
    collect(tasks, started).await
}

/// `call` paced at 1,000/s while 100 assessments/s run beside it, for `phase`: what each
/// measured.
async fn beside_assessments<F, Fut>(
    clients: &Clients,
    book: &Arc<Vec<String>>,
    phase: Duration,
    call: F,
) -> (Paced, Paced)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send + 'static,
{
    tokio::join!(
        paced(1_000, phase, call),
        paced(100, phase, round_the_book(clients, book, assess_again)),
    )
}

/// What an open-loop phase measured: its calls, and how late the pacer released them.
struct Paced {
    /// Latency from when the pacer released each call.
    calls: Measured,
    /// Microseconds from each call's due time to its release: how late the pacer's thread
    /// woke, which is the machine's scheduling, not the server.
    late: Histogram<u64>,
}

impl Paced {
    fn describe(&self) -> String {
        format!(
            "{}; pacer late by p99 {:.2} ms",
            self.calls.describe(),
            self.late.value_at_quantile(0.99) as f64 / 1_000.0
        )
    }
}

/// `call` issued at `per_second` calls a second for `phase`, each on its own task, whatever
/// the latency of the others: an open loop, so a slow server shows as latency, not as a
/// lower rate.
async fn paced<F, Fut>(per_second: u32, phase: Duration, call: F) -> Paced
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send + 'static,
{
    let started = Instant::now();
    let period = Duration::from_secs(1) / per_second;
    // tokio's timers fire on the next whole millisecond, up to one late, which would count as
    // the server's latency below; a thread that sleeps to each due time sends it on time.
    let pacer = tokio::task::spawn_blocking(move || {
        let mut tasks = Vec::new();
        let mut due = started;
        let mut index = 0;
        while due - started < phase {
            if let Some(early) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(early);
            }
            let call = call.clone();
            // Latency counts from the release. The pacer never waits for an answer, so a
            // server that falls behind still shows as latency (no coordinated omission). How
            // late this thread woke is the instrument's own error: on this virtual machine a
            // thread sleeping to a 1 ms clock wakes over 1 ms late about once in 200 ticks
            // even when the machine is idle. It is measured and printed beside.
            let released = Instant::now();
            let late = released.saturating_duration_since(due);
            tasks.push(tokio::spawn(async move {
                let result = call(index).await;
                (late, released.elapsed(), result)
            }));
            index += 1;
            due += period;
        }
        tasks
    });
    let mut calls = Measured::new();
    let mut late_by = micros_histogram();
    for task in pacer.await.expect("the pacer ran") {
        let (late, latency, result) = task.await.expect("the call ran");
        calls.record(latency, result);
        late_by.saturating_record(micros(late));
    }
    calls.elapsed = started.elapsed();
    Paced {
        calls,
        late: late_by,
    }
}

async fn collect(tasks: Vec<tokio::task::JoinHandle<Measured>>, started: Instant) -> Measured {
    let mut total = Measured::new();
    for task in tasks {
        total.merge(task.await.expect("the caller ran"));
    }
    total.elapsed = started.elapsed();
    total
}
