//! Group commit of assessments: one task stores the assessments callers have finished
//! grading, as many as are waiting at that moment, in one transaction (multi-row inserts,
//! one commit). A durable commit costs about the same for one assessment as for a hundred,
//! so concurrent assessments are no longer bounded by how many commits the database makes a
//! second (SQLite's one writer: ~3,700/s on this machine).
//!
//! A caller waits for the commit of its group, so an answered assessment is stored. When a
//! group fails (a request id taken by a concurrent call, say), each of its assessments is
//! stored again on its own, so one caller's conflict is not another's error.

use std::{collections::BTreeMap, sync::Arc};

use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::{mpsc, oneshot};

use super::{
    ROWS_PER_INSERT, StorageError,
    assessments::insert_all,
    entities::{assessment, idempotency_key},
    grade_cache::{GradeCache, GradeChange},
    grades::save_all,
    write::WriteTurns,
};
use crate::domain::grading::CurrentGrade;

/// The most assessments one transaction stores: one INSERT statement's worth.
const MAX_GROUP: usize = ROWS_PER_INSERT;

/// How many graded assessments may wait for the writer before callers wait to hand theirs
/// over.
const QUEUE: usize = 2048;

/// What storing one assessment writes.
pub(super) struct AssessmentRows {
    pub assessment: assessment::ActiveModel,
    pub grade: CurrentGrade,
    /// The request id that made it, when the call carried one.
    pub request_key: Option<idempotency_key::ActiveModel>,
}

struct Waiting {
    rows: AssessmentRows,
    stored: oneshot::Sender<Result<(), StorageError>>,
}

/// The handle callers store their assessments through. The task ends when every handle is
/// dropped.
#[derive(Clone)]
pub(super) struct AssessmentWriter {
    queue: mpsc::Sender<Waiting>,
    db: DatabaseConnection,
}

impl AssessmentWriter {
    /// Starts the task, which stores through `db` and tells `grades` what it changes.
    pub(super) fn start(
        db: DatabaseConnection,
        turns: WriteTurns,
        grades: Arc<GradeCache>,
    ) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(waiting, db.clone(), turns, grades));
        Self { queue, db }
    }

    /// The connection the task stores through: on SQLite, every write's (see
    /// `Store::begin_write`); closed at shutdown.
    pub(super) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Stores `rows` with the next group; returns once that group committed.
    pub(super) async fn store(&self, rows: AssessmentRows) -> Result<(), StorageError> {
        let (stored, committed) = oneshot::channel();
        self.queue
            .send(Waiting { rows, stored })
            .await
            .map_err(|_| StorageError::Unavailable(None))?;
        committed
            .await
            .map_err(|_| StorageError::Unavailable(None))?
    }
}

async fn run(
    mut waiting: mpsc::Receiver<Waiting>,
    db: DatabaseConnection,
    turns: WriteTurns,
    grades: Arc<GradeCache>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let rows: Vec<&AssessmentRows> = group.iter().map(|waiting| &waiting.rows).collect();
        // The change ends before any caller hears back, so a caller's next read sees its
        // assessment's grade.
        let change = grades.change(rows.iter().map(|rows| rows.grade.customer));
        let outcomes = store(&db, &turns, &rows, &change).await;
        drop(change);
        // A caller that gave up no longer listens; what it handed over is stored anyway.
        for (waiting, outcome) in group.drain(..).zip(outcomes) {
            let _ = waiting.stored.send(outcome);
        }
    }
}

/// Stores `group` and says how it went for each of its assessments: in one transaction, or,
/// when that fails, one transaction each.
async fn store(
    db: &DatabaseConnection,
    turns: &WriteTurns,
    group: &[&AssessmentRows],
    change: &GradeChange<'_>,
) -> Vec<Result<(), StorageError>> {
    let mut outcome = store_group(db, turns, group, change).await;
    // A connection the database dropped (a restart, an outage) fails the first group that
    // uses it, and is then replaced: that group is stored again, on the new connection.
    if matches!(outcome, Err(StorageError::Unavailable(Some(_)))) {
        outcome = store_group(db, turns, group, change).await;
    }
    match outcome {
        Ok(()) => group.iter().map(|_| Ok(())).collect(),
        Err(error) if group.len() == 1 => vec![Err(error)],
        Err(_) => {
            tracing::debug!(
                size = group.len(),
                "group commit failed; storing one at a time"
            );
            let mut outcomes = Vec::with_capacity(group.len());
            for &rows in group {
                outcomes.push(store_group(db, turns, &[rows], change).await);
            }
            outcomes
        }
    }
}

/// Stores `group` in one transaction.
async fn store_group(
    db: &DatabaseConnection,
    turns: &WriteTurns,
    group: &[&AssessmentRows],
    change: &GradeChange<'_>,
) -> Result<(), StorageError> {
    let txn = turns.begin(db).await?;
    let assessments: Vec<_> = group.iter().map(|rows| &rows.assessment).collect();
    insert_all(&txn, assessments).await?;
    save_all(
        &txn,
        &newest_per_customer(group.iter().map(|rows| &rows.grade)),
        change,
    )
    .await?;
    let keys: Vec<_> = group
        .iter()
        .filter_map(|rows| rows.request_key.clone())
        .collect();
    if !keys.is_empty() {
        idempotency_key::Entity::insert_many(keys)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    change.committed();
    Ok(())
}

/// The current grade each customer of `group` ends with: its newest, the later one on a tie,
/// as one upsert after another would leave it. One upsert statement may not touch a row
/// twice (PostgreSQL refuses it), so a customer assessed twice in a group appears once. In
/// customer order, the order a re-grade batch writes in: two transactions that lock the same
/// grades lock them in the same order, so they wait for each other and never deadlock.
fn newest_per_customer<'a>(grades: impl Iterator<Item = &'a CurrentGrade>) -> Vec<CurrentGrade> {
    let mut newest: BTreeMap<_, &CurrentGrade> = BTreeMap::new();
    for grade in grades {
        newest
            .entry(grade.customer)
            .and_modify(|kept| {
                if grade.assess_time >= kept.assess_time {
                    *kept = grade;
                }
            })
            .or_insert(grade);
    }
    newest.into_values().cloned().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::domain::customer::CustomerId;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, second).unwrap()
    }

    #[test]
    fn each_customer_keeps_its_newest_grade_the_later_on_a_tie_in_customer_order() {
        let (first, second) = (CustomerId::generate(), CustomerId::generate());
        let group = [
            CurrentGrade::example(second, at(5)),
            CurrentGrade::example(first, at(9)),
            CurrentGrade::example(second, at(7)),
            CurrentGrade::example(first, at(3)),
            CurrentGrade::example(second, at(7)),
        ];

        let kept = newest_per_customer(group.iter());

        let mut expected = [&group[1], &group[4]];
        expected.sort_by_key(|grade| grade.customer);
        let kept: Vec<_> = kept.iter().map(|grade| grade.assessment).collect();
        let expected: Vec<_> = expected.iter().map(|grade| grade.assessment).collect();
        assert_eq!(kept, expected);
    }
}
