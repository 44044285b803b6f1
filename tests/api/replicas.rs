//! Two servers on one PostgreSQL database, as replicas behind a load balancer. Each keeps
//! current grades in memory; a grade read from one shows every change made through the other
//! before the read, at once, as a read of the database would.

use std::time::Duration;

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
    Some((first, second))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_shows_each_change_made_through_another_at_once() {
    let Some((first, second)) = replicas().await else {
        return;
    };
    each_change_shows_at_once(&first, &second).await;
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
