//! Current grades kept in memory, so that `GetCustomerGrade`, the read backends make while a
//! user waits, costs about what gRPC itself costs instead of a trip to the database.
//!
//! On SQLite this server is the database's one user (it claims the file, see
//! [`super::sqlite_claim`]), so every change to a current grade passes through it. On
//! PostgreSQL replicas share the database: each change is also announced to the others, and a
//! grade in memory is served only once this server has heard every change committed before
//! the read was asked for (see [`super::grade_sync`]).
//!
//! How it stays true: a writer announces the customers whose grade it is about to change
//! ([`GradeCache::change`]); their entries go, and the guard it gets back is dropped only once
//! its transaction has ended, committed or not. A grade read from the database may fill the
//! cache only if no change was under way at any moment between the start of that read and
//! the fill (the epoch counts ended changes, this server's and those heard from others). So an
//! entry is always what the database held, with no write of this server's to it in flight.

use std::{
    collections::HashMap,
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicUsize, Ordering},
    },
};

use sea_orm::ConnectionTrait;

use super::{StorageError, grade_sync};
use crate::domain::{customer::CustomerId, grading::CurrentGrade};

/// The current grades of up to `capacity` customers; none when `capacity` is 0.
pub(super) struct GradeCache {
    state: Mutex<State>,
    /// Read without the lock to pass it by when 0; it only ever drops to 0.
    capacity: AtomicUsize,
    /// Whether changes are announced to the other servers on the database (PostgreSQL),
    /// whatever this server keeps: they may keep grades.
    announced: bool,
}

#[derive(Default)]
struct State {
    grades: HashMap<CustomerId, CurrentGrade>,
    /// Changes that have ended, ever.
    epoch: u64,
    /// Changes under way.
    changing: usize,
}

/// What a miss hands back: the state of the cache when the database read began.
#[must_use = "offer the grade read from the database"]
pub(super) struct Ticket {
    epoch: u64,
}

/// A change under way to some customers' grades; it ends when dropped.
#[must_use = "hold it until the transaction that changes the grades has ended"]
pub(super) struct GradeChange<'a> {
    cache: &'a GradeCache,
    /// Whether it is counted among the changes under way.
    counted: bool,
    /// The customers it changes, when changes are announced to other servers.
    customers: Vec<CustomerId>,
}

impl GradeCache {
    /// Keeps up to `capacity` grades; `announced` when other servers share the database.
    pub(super) fn new(capacity: usize, announced: bool) -> Self {
        Self {
            state: Mutex::default(),
            capacity: AtomicUsize::new(capacity),
            announced,
        }
    }

    /// Whether any grade is kept.
    pub(super) fn keeps_grades(&self) -> bool {
        self.capacity() > 0
    }

    fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Keeps nothing from now on: for a database this server cannot claim for itself.
    pub(super) fn turn_off(&self) {
        let mut state = self.state();
        self.capacity.store(0, Ordering::Relaxed);
        state.grades = HashMap::new();
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the maps are still whole.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `customer`'s grade, or the ticket to [`Self::offer`] the one read from the database.
    pub(super) fn get(&self, customer: CustomerId) -> Result<CurrentGrade, Ticket> {
        if self.capacity() == 0 {
            return Err(Ticket { epoch: 0 });
        }
        let state = self.state();
        match state.grades.get(&customer) {
            Some(grade) => Ok(grade.clone()),
            None => Err(Ticket { epoch: state.epoch }),
        }
    }

    /// The ticket of a database read that starts now, hit or miss.
    pub(super) fn ticket(&self) -> Ticket {
        Ticket {
            epoch: self.state().epoch,
        }
    }

    /// Keeps `grade`, read from the database after `ticket` was given, unless a change was
    /// under way meanwhile. When full, an arbitrary entry makes room.
    pub(super) fn offer(&self, ticket: Ticket, grade: &CurrentGrade) {
        if self.capacity() == 0 {
            return;
        }
        let mut state = self.state();
        let capacity = self.capacity();
        if state.changing > 0 || state.epoch != ticket.epoch || capacity == 0 {
            return;
        }
        if state.grades.len() >= capacity
            && let Some(evicted) = state.grades.keys().next().copied()
        {
            state.grades.remove(&evicted);
        }
        state.grades.insert(grade.customer, grade.clone());
    }

    /// Starts a change to `customers`' grades: call it before the transaction that writes
    /// them, and drop what it returns once that transaction has ended.
    pub(super) fn change(
        &self,
        customers: impl IntoIterator<Item = CustomerId>,
    ) -> GradeChange<'_> {
        let customers: Vec<CustomerId> = customers.into_iter().collect();
        let counted = self.capacity() > 0;
        if counted {
            let mut state = self.state();
            state.changing += 1;
            for customer in &customers {
                state.grades.remove(customer);
            }
        }
        GradeChange {
            cache: self,
            counted,
            customers: if self.announced {
                customers
            } else {
                Vec::new()
            },
        }
    }

    /// Another server changed `customers`' grades and its change has ended (committed): their
    /// entries go, and no read that began before now fills the cache.
    pub(super) fn changed_elsewhere(&self, customers: impl IntoIterator<Item = CustomerId>) {
        let mut state = self.state();
        for customer in customers {
            state.grades.remove(&customer);
        }
        state.epoch += 1;
    }

    /// Changes may have gone unheard (the connection that hears them was lost or is new):
    /// every entry goes, and no read that began before now fills the cache.
    pub(super) fn forget_all(&self) {
        let mut state = self.state();
        state.grades.clear();
        state.epoch += 1;
    }
}

impl GradeChange<'_> {
    /// Tells the other servers on the database which customers' grades this change writes;
    /// `txn` is the transaction that writes them, and they hear of it if it commits. Nothing
    /// on SQLite.
    pub(super) async fn announce(&self, txn: &impl ConnectionTrait) -> Result<(), StorageError> {
        grade_sync::announce(txn, &self.customers).await
    }
}

impl Drop for GradeChange<'_> {
    fn drop(&mut self) {
        if self.counted {
            let mut state = self.cache.state();
            state.changing -= 1;
            state.epoch += 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use rust_decimal::Decimal;

    use super::*;
    use crate::domain::grading::{AssessmentId, VersionKey};

    fn grade(customer: CustomerId, grade: &str) -> CurrentGrade {
        let day = NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date");
        CurrentGrade {
            customer,
            assessment: AssessmentId::generate(),
            model_version: VersionKey {
                model: "existing-customers".to_owned(),
                version: 1,
            },
            grade: grade.to_owned(),
            total_score: Decimal::new(8_250, 2),
            credit_limit: None,
            currency: None,
            payment_terms_days: 30,
            service_level: "standard".to_owned(),
            review_required: false,
            assess_time: Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap(),
            as_of: day,
            valid_until: day,
            sales: None,
            gross_profit: None,
            grade_override: None,
        }
    }

    /// A miss, then the grade read from the database offered.
    fn read_through(cache: &GradeCache, customer: CustomerId, graded: &str) {
        let ticket = cache.get(customer).expect_err("a miss");
        cache.offer(ticket, &grade(customer, graded));
    }

    fn cached(cache: &GradeCache, customer: CustomerId) -> Option<String> {
        cache.get(customer).ok().map(|found| found.grade)
    }

    #[test]
    fn a_grade_offered_after_a_miss_is_served_from_then_on() {
        let cache = GradeCache::new(10, false);
        let customer = CustomerId::generate();
        read_through(&cache, customer, "A");
        assert_eq!(cached(&cache, customer).as_deref(), Some("A"));
    }

    #[test]
    fn a_change_removes_the_customers_it_changes_and_no_other() {
        let cache = GradeCache::new(10, false);
        let (changed, kept) = (CustomerId::generate(), CustomerId::generate());
        for customer in [changed, kept] {
            read_through(&cache, customer, "B");
        }
        drop(cache.change([changed]));
        assert_eq!(cached(&cache, changed), None);
        assert_eq!(cached(&cache, kept).as_deref(), Some("B"));
    }

    #[test]
    fn a_read_that_overlapped_a_change_does_not_fill_the_cache() {
        let cache = GradeCache::new(10, false);
        let customer = CustomerId::generate();

        // Read before the change ended (the old grade), offered after it: refused.
        let ticket = cache.get(customer).expect_err("a miss");
        let change = cache.change([customer]);
        drop(change);
        cache.offer(ticket, &grade(customer, "old"));
        assert_eq!(cached(&cache, customer), None);

        // Offered while a change (to anyone) is under way: refused.
        let ticket = cache.get(customer).expect_err("a miss");
        let change = cache.change([CustomerId::generate()]);
        cache.offer(ticket, &grade(customer, "old"));
        drop(change);
        assert_eq!(cached(&cache, customer), None);

        // Read wholly after the change: kept.
        read_through(&cache, customer, "new");
        assert_eq!(cached(&cache, customer).as_deref(), Some("new"));
    }

    #[test]
    fn a_full_cache_stays_at_its_capacity() {
        let cache = GradeCache::new(3, false);
        let customers: Vec<_> = (0..5).map(|_| CustomerId::generate()).collect();
        for &customer in &customers {
            read_through(&cache, customer, "C");
        }
        let kept = customers
            .iter()
            .filter(|&&customer| cached(&cache, customer).is_some())
            .count();
        assert_eq!(kept, 3);
        let newest = customers[4];
        assert_eq!(cached(&cache, newest).as_deref(), Some("C"));
    }

    #[test]
    fn a_cache_turned_off_keeps_nothing_and_ends_the_changes_under_way() {
        let cache = GradeCache::new(10, false);
        let customer = CustomerId::generate();
        read_through(&cache, customer, "A");
        let change = cache.change([CustomerId::generate()]);
        cache.turn_off();
        drop(change);
        assert_eq!(cached(&cache, customer), None);
        read_through(&cache, customer, "A");
        assert_eq!(cached(&cache, customer), None);
    }

    #[test]
    fn a_cache_of_no_capacity_keeps_nothing() {
        let cache = GradeCache::new(0, false);
        let customer = CustomerId::generate();
        let change = cache.change([customer]);
        drop(change);
        read_through(&cache, customer, "A");
        assert_eq!(cached(&cache, customer), None);
    }

    #[test]
    fn a_change_heard_from_another_server_removes_its_customers_and_refuses_older_reads() {
        let cache = GradeCache::new(10, true);
        let (changed, kept, reading) = (
            CustomerId::generate(),
            CustomerId::generate(),
            CustomerId::generate(),
        );
        for customer in [changed, kept] {
            read_through(&cache, customer, "B");
        }
        let ticket = cache.get(reading).expect_err("a miss");

        cache.changed_elsewhere([changed]);

        assert_eq!(cached(&cache, changed), None);
        assert_eq!(cached(&cache, kept).as_deref(), Some("B"));
        cache.offer(ticket, &grade(reading, "old"));
        assert_eq!(cached(&cache, reading), None);
    }

    #[test]
    fn forgetting_all_empties_the_cache_and_refuses_older_reads() {
        let cache = GradeCache::new(10, true);
        let (kept, reading) = (CustomerId::generate(), CustomerId::generate());
        read_through(&cache, kept, "A");
        let ticket = cache.ticket();

        cache.forget_all();

        assert_eq!(cached(&cache, kept), None);
        cache.offer(ticket, &grade(reading, "old"));
        assert_eq!(cached(&cache, reading), None);
        read_through(&cache, reading, "new");
        assert_eq!(cached(&cache, reading).as_deref(), Some("new"));
    }

    #[test]
    fn a_change_keeps_its_customers_to_announce_only_when_others_share_the_database() {
        let customer = CustomerId::generate();
        let shared = GradeCache::new(0, true);
        assert_eq!(shared.change([customer]).customers, [customer]);
        let alone = GradeCache::new(10, false);
        assert!(alone.change([customer]).customers.is_empty());
    }
}
