//! Reads of current grades the grade cache misses, batched. GetCustomerGrade is the hottest
//! read, and read alone
//! each one is a round trip to the database: on PostgreSQL, most of the server's time went
//! to sending and receiving those (the load benchmark read 0.16x of gRPC's own rate). So a
//! read that finds a place free (see below) reads at once, on its own task, as before; one
//! that finds every place taken queues, and a task answers the reads queued at that moment
//! with one statement (`customer_id IN (...)`) as soon as a place frees up, while the next
//! ones gather. Batching adds no wait at low load, and under load reads share statements.
//!
//! At most two statements at a time. A statement costs about the same for one read as for
//! sixty, so under load the fewest statements read the most: with one at a time the load
//! benchmark on PostgreSQL (32 callers, a book of 20,000) read 13,600/s, with two 12,200/s
//! (a place that frees up takes the first read to arrive alone), with four 9,000/s; 5,500/s
//! before batching. But with one, a read that arrives while a statement is under way waits
//! for it, and every read waits behind a slow one: at 1,000 reads/s beside 100 assessments/s
//! the p99 was 1.91 ms with one and 1.79 ms with two (every read handed to the task then),
//! against a target of 2 ms.
//!
//! A batch's statement starts after each of its reads was asked for, so a read sees every
//! write answered before it was asked for, as a read of its own would.

use std::{collections::HashMap, sync::Arc};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{
    StorageError,
    entities::{customer_grade, grade_override},
    grades::to_domain,
};
use crate::domain::{customer::CustomerId, grading::CurrentGrade};

/// The most reads one statement answers.
const MAX_BATCH: usize = 64;

/// How many statements may be under way at once (see the module's comment).
const STATEMENTS_AT_ONCE: usize = 2;

/// How many reads may wait before callers wait to hand theirs over.
const QUEUE: usize = 1024;

/// A customer's current grade, or `None` when there is none: an unknown customer, or one
/// never assessed.
type Answer = Result<Option<CurrentGrade>, StorageError>;

/// A current-grade row and the override it points at.
type GradeRow = (customer_grade::Model, Option<grade_override::Model>);

struct Waiting {
    customer: CustomerId,
    answer: oneshot::Sender<Answer>,
}

/// The handle reads go through. The task ends when every handle is dropped.
#[derive(Clone)]
pub(super) struct GradeReader {
    queue: mpsc::Sender<Waiting>,
    /// Statements under way, of reads on their own and of batches.
    places: Arc<Semaphore>,
    db: DatabaseConnection,
}

impl GradeReader {
    /// Starts the task, which reads batches through `db`.
    pub(super) fn start(db: DatabaseConnection) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let places = Arc::new(Semaphore::new(STATEMENTS_AT_ONCE));
        tokio::spawn(run(waiting, db.clone(), places.clone()));
        Self { queue, places, db }
    }

    /// The customer's current grade: read at once on the caller's task when no statement
    /// is under way, as it was before batching (handing it to the task and back costs two
    /// wake-ups of a thread, which showed in the p99 of a paced load); otherwise with the
    /// next batch. Not whenever a place is free: under load, reads that went alone there
    /// took places from batches (9,600/s against 11,600/s, 32 callers).
    pub(super) async fn read(&self, customer: CustomerId) -> Answer {
        let idle = self.places.available_permits() == STATEMENTS_AT_ONCE;
        if let Some(_place) = idle.then(|| self.places.try_acquire().ok()).flatten() {
            let mut rows = read_rows(&self.db, std::iter::once(customer)).await?;
            return rows
                .remove(&customer.to_string())
                .map(to_domain)
                .transpose();
        }
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Waiting { customer, answer })
            .await
            .map_err(|_| StorageError::Unavailable(None))?;
        answered
            .await
            .map_err(|_| StorageError::Unavailable(None))?
    }
}

async fn run(mut waiting: mpsc::Receiver<Waiting>, db: DatabaseConnection, places: Arc<Semaphore>) {
    loop {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        if waiting.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        // The semaphore hands a freed place to this waiter before a new read can take it.
        let Ok(place) = places.clone().acquire_owned().await else {
            return;
        };
        // The reads that arrived while every place was taken go in this batch too.
        while batch.len() < MAX_BATCH {
            match waiting.try_recv() {
                Ok(read) => batch.push(read),
                Err(_) => break,
            }
        }
        let db = db.clone();
        tokio::spawn(async move {
            answer(&db, batch).await;
            drop(place);
        });
    }
}

/// Reads the grades of `batch` in one statement and answers each read. A caller that gave
/// up (a deadline) no longer listens.
async fn answer(db: &DatabaseConnection, batch: Vec<Waiting>) {
    match read_rows(db, batch.iter().map(|waiting| waiting.customer)).await {
        Ok(rows) => {
            // A customer read twice in the batch has one row, and each read gets it.
            for waiting in batch {
                let row = rows.get(&waiting.customer.to_string()).cloned();
                let _ = waiting.answer.send(row.map(to_domain).transpose());
            }
        }
        Err(error) => {
            for waiting in batch {
                let _ = waiting.answer.send(Err(error.duplicate()));
            }
        }
    }
}

/// The current-grade rows of `customers`, with their overrides, by customer id, in one
/// statement; customers without a grade have no entry.
async fn read_rows(
    db: &DatabaseConnection,
    customers: impl Iterator<Item = CustomerId>,
) -> Result<HashMap<String, GradeRow>, StorageError> {
    let rows = customer_grade::Entity::find()
        .filter(customer_grade::Column::CustomerId.is_in(statement_ids(customers)))
        .find_also_related(grade_override::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.0.customer_id.clone(), row))
        .collect())
}

/// The ids a batch's statement names: each customer once, in order, and as many as the next
/// power of two (the last one repeated), so that a connection prepares at most seven shapes
/// of the statement, not one per batch size.
fn statement_ids(customers: impl Iterator<Item = CustomerId>) -> Vec<String> {
    let mut ids: Vec<String> = customers.map(|customer| customer.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    if let Some(last) = ids.last().cloned() {
        ids.resize(ids.len().next_power_of_two(), last);
    }
    ids
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_names_each_customer_once_padded_to_a_power_of_two() {
        let customers: Vec<_> = (0..5).map(|_| CustomerId::generate()).collect();
        let read = [0, 1, 2, 1, 3, 4, 0].map(|index| customers[index]);

        let ids = statement_ids(read.into_iter());

        let mut expected: Vec<_> = customers.iter().map(ToString::to_string).collect();
        expected.sort();
        let last = expected.last().cloned().unwrap();
        expected.extend([last.clone(), last.clone(), last]);
        assert_eq!(ids, expected);
    }

    #[test]
    fn a_batch_of_one_names_its_customer_alone() {
        let customer = CustomerId::generate();

        assert_eq!(
            statement_ids(std::iter::once(customer)),
            [customer.to_string()]
        );
    }
}
