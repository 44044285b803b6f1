//! Two servers on one PostgreSQL database, as replicas behind a load balancer. Each keeps
//! current grades in memory; a grade read from one shows every change made through the other
//! before the read, at once, as a read of the database would. Each holds a read lease, and
//! serves grades from memory while it does: a writer waits for every lease holder to hear
//! its change before answering.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

use crate::{
    assessments::{assess, current_grade},
    helpers::{Backend, TestApp, spawn_app, start, test_settings},
    overrides::{each_change_shows_at_once, graded_b},
};

/// A second server on the first one's database, ready to serve; `None` without PostgreSQL.
async fn replicas() -> Option<(TestApp, TestApp)> {
    let first = spawn_app(Backend::Postgres).await?;
    let second = start(test_settings(first.database_url.clone()), None).await;
    second.wait_until_serving().await;
    wait_for_leases(&first.database_url, 2).await;
    Some((first, second))
}

/// Waits until `count` servers hold a read lease, and a moment more for them to join (they
/// wait for the transactions in progress, of which the test has none).
async fn wait_for_leases(database_url: &str, count: i64) {
    let admin = Database::connect(database_url).await.unwrap();
    for _ in 0..100 {
        if held_leases(&admin).await == count {
            tokio::time::sleep(Duration::from_millis(100)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{count} servers never held read leases");
}

/// A server with a customer graded B, beside a read lease `id` of `length` that no server
/// holds, so nothing ever acknowledges a change; and a connection to its database.
async fn beside_a_silent_lease(
    id: &str,
    length: &str,
) -> Option<(TestApp, String, sea_orm::DatabaseConnection)> {
    let app = spawn_app(Backend::Postgres).await?;
    let (customer, _) = graded_b(&app).await;
    let admin = Database::connect(app.database_url.as_str()).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "INSERT INTO grade_readers (id, server, lease_until) \
             VALUES ('{id}', 'gone', clock_timestamp() + interval '{length}')"
        ))
        .await
        .unwrap();
    Some((app, customer, admin))
}

async fn held_leases(admin: &sea_orm::DatabaseConnection) -> i64 {
    admin
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS held FROM grade_readers WHERE lease_until > clock_timestamp()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "held")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_shows_each_change_made_through_another_at_once() {
    let Some((first, second)) = replicas().await else {
        return;
    };
    let started = Instant::now();
    each_change_shows_at_once(&first, &second).await;
    // Four changes, each acknowledged by the replica that holds a lease: were a writer to
    // wait for the lease to run out instead, each would take a second.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// A replica whose listening connection is cut (a database restart, a proxy timing it out)
/// may have missed changes: it reads from the database until it listens again, and then
/// forgets what it kept. Here the change is missed while no read comes: the replica finds
/// the connection gone and listens again by itself (it syncs every 200 ms when idle).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_lost_its_listening_connection_still_shows_each_change() {
    let Some((first, second)) = replicas().await else {
        return;
    };
    let (customer, _) = graded_b(&first).await;
    let kept = current_grade(&second, &customer).await;
    assert_eq!(current_grade(&second, &customer).await, kept, "read again");

    let admin = Database::connect(first.database_url.as_str())
        .await
        .unwrap();
    let cut = admin
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'custgrade-grade-sync' AND datname = current_database()",
        )
        .await
        .unwrap();
    assert!(cut.rows_affected() >= 1, "the second server listens");
    let reassessed = assess(&first, &customer).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    for _ in 0..3 {
        assert_eq!(
            current_grade(&second, &customer).await.assessment,
            reassessed.name
        );
    }
    let again = assess(&first, &customer).await;
    assert_eq!(
        current_grade(&second, &customer).await.assessment,
        again.name
    );
}

/// A server that took a lease and stopped answering (killed, cut off) holds writers up until
/// its lease runs out, and no longer: the writer cannot tell it from a slow one, which may
/// still serve from memory until then.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_a_lease_that_goes_unanswered_until_it_runs_out() {
    let Some((app, customer, _)) = beside_a_silent_lease("stalled", "1500 milliseconds").await
    else {
        return;
    };

    let started = Instant::now();
    let reassessed = assess(&app, &customer).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1_200), "waited {waited:?}");
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert_eq!(
        current_grade(&app, &customer).await.assessment,
        reassessed.name
    );

    let started = Instant::now();
    assess(&app, &customer).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the lease ran out"
    );
}

/// A server that shuts down gives its lease back, so writers do not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_shuts_down_gives_its_lease_back() {
    let Some((first, second)) = replicas().await else {
        return;
    };
    let admin = Database::connect(first.database_url.as_str())
        .await
        .unwrap();
    assert_eq!(held_leases(&admin).await, 2);

    second.shut_down().await;

    assert_eq!(held_leases(&admin).await, 1);
    let (customer, _) = graded_b(&first).await;
    let started = Instant::now();
    assess(&first, &customer).await;
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// A server that keeps renewing its lease but never acknowledges (it hears nothing, or its
/// acknowledgements are lost) would hold every writer up for good: after a few seconds the
/// writer revokes its lease, waits out the time the server may still serve from memory, and
/// answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_renewed_without_acknowledging_is_revoked() {
    let Some((app, customer, admin)) = beside_a_silent_lease("deaf", "1 second").await else {
        return;
    };
    let renewing = admin.clone();
    let renewer = tokio::spawn(async move {
        loop {
            renewing
                .execute_unprepared(
                    "UPDATE grade_readers SET lease_until = clock_timestamp() + interval '1 second' \
                     WHERE id = 'deaf' AND lease_until > clock_timestamp()",
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    let started = Instant::now();
    let reassessed = assess(&app, &customer).await;
    let waited = started.elapsed();
    renewer.abort();
    assert!(waited >= Duration::from_secs(3), "waited {waited:?}");
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
    assert_eq!(
        current_grade(&app, &customer).await.assessment,
        reassessed.name
    );
    assert_eq!(
        held_leases(&admin).await,
        1,
        "only the server's own lease is held"
    );
}

/// A server keeps in memory the grade an assessment through it wrote, for a customer whose
/// grade it kept: what it serves then is what another server reads from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grade_kept_through_an_assessment_is_the_one_the_database_holds() {
    let Some((first, second)) = replicas().await else {
        return;
    };
    let (customer, _) = graded_b(&first).await;
    current_grade(&first, &customer).await;

    let reassessed = assess(&first, &customer).await;

    let kept = current_grade(&first, &customer).await;
    assert_eq!(kept.assessment, reassessed.name);
    assert_eq!(kept, current_grade(&second, &customer).await);
}
