//! Current grades kept in memory, so that `GetCustomerGrade`, the read backends make while a
//! user waits, costs about what gRPC itself costs instead of a trip to the database.
//!
//! On SQLite this server is the database's one user (it claims the file, see
//! [`super::sqlite_claim`]), so every change to a current grade passes through it. On
//! PostgreSQL replicas share the database: each change is also announced to the others, and a
//! grade in memory is served only once this server has heard every change answered before
//! the read was asked for (see [`super::grade_sync`]).
//!
//! How it stays true: a writer announces the customers whose grade it is about to change
//! ([`GradeCache::change`]); their entries go, and the guard it gets back is dropped only once
//! its transaction has ended, committed or not. A grade read from the database may fill the
//! cache only if no change to that customer was under way at any moment between the start of
//! that read and the fill. So an entry is always what the database held, with no write of
//! this server's to it in flight.
//!
//! A change writes through: the grades it committed replace those it dropped, for the
//! customers whose grade was in memory, without an override, when it started, and only if
//! no other change to a customer of their stripe was under way or ended meanwhile, nor the
//! cache forgot everything (the test a fill passes, from the change's start). A grade read
//! often stays in memory while it is reassessed; with 100 assessments a second beside 1,000
//! reads, every assessed customer's next read missed before.
//!
//! Changes are counted by stripe, not by customer: customers share [`STRIPES`] counters by a
//! hash of their id, so the count stays small whatever the book's size, and a change refuses
//! only the fills of customers that share a counter with one it changes. Counted for the
//! whole cache, with 100 assessments a second beside 1,000 reads, about a third of the fills
//! were refused and those reads missed again on their next turn (the load benchmark on
//! PostgreSQL: 38 % of its paced reads missed).

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicUsize, Ordering},
    },
};

use super::{StorageError, write::WriteTxn};
use crate::domain::{customer::CustomerId, grading::CurrentGrade};

/// How many counters of changes customers share (see the module's comment): a change to a
/// few customers refuses about that many in 1,024 of the fills made meanwhile.
const STRIPES: usize = 1024;

/// The current grades of up to `capacity` customers; none when `capacity` is 0.
pub(super) struct GradeCache {
    state: Mutex<State>,
    /// Read without the lock to pass it by when 0; it only ever drops to 0.
    capacity: AtomicUsize,
    /// Which stripe a customer is counted in.
    stripes: RandomState,
}

struct State {
    grades: HashMap<CustomerId, CurrentGrade>,
    /// By stripe: changes to its customers that have ended, ever.
    ended: Vec<u64>,
    /// By stripe: changes to its customers under way.
    changing: Vec<usize>,
    /// How many times every grade was forgotten.
    forgotten: u64,
}

impl State {
    /// Whether a grade read when `stripe` had seen `ended` changes end and the cache had been
    /// forgotten `forgotten` times may be kept: no change to the stripe is under way or has
    /// ended since, and nothing was forgotten.
    fn untouched(&self, stripe: usize, ended: u64, forgotten: u64) -> bool {
        self.changing[stripe] == 0 && self.ended[stripe] == ended && self.forgotten == forgotten
    }
}

/// What a miss hands back: the customer read, and the state of its stripe when the database
/// read began.
#[must_use = "offer the grade read from the database"]
pub(super) struct Ticket {
    customer: CustomerId,
    stripe: usize,
    ended: u64,
    forgotten: u64,
}

/// A change under way to some customers' grades; it ends when dropped.
#[must_use = "hold it until the transaction that changes the grades has ended"]
pub(super) struct GradeChange<'a> {
    cache: &'a GradeCache,
    /// Whether it is counted among the changes under way.
    counted: bool,
    /// The customers it changes.
    customers: Vec<CustomerId>,
    /// The customers it writes through, each with the changes ended in its stripe when it
    /// started.
    through: HashMap<CustomerId, u64>,
    /// How many times every grade had been forgotten when it started.
    forgotten: u64,
    written: Mutex<Written>,
}

/// The grades a change wrote, as far as its transactions went.
#[derive(Default)]
struct Written {
    /// By the transaction under way.
    pending: Vec<CurrentGrade>,
    /// By transactions that committed.
    committed: Vec<CurrentGrade>,
}

impl GradeCache {
    /// Keeps up to `capacity` grades.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                grades: HashMap::new(),
                ended: vec![0; STRIPES],
                changing: vec![0; STRIPES],
                forgotten: 0,
            }),
            capacity: AtomicUsize::new(capacity),
            stripes: RandomState::new(),
        }
    }

    fn stripe(&self, customer: CustomerId) -> usize {
        // The remainder is below STRIPES, which fits a usize.
        #[allow(clippy::cast_possible_truncation)]
        let stripe = (self.stripes.hash_one(customer) % STRIPES as u64) as usize;
        stripe
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
            return Err(Ticket {
                customer,
                stripe: 0,
                ended: 0,
                forgotten: 0,
            });
        }
        let state = self.state();
        match state.grades.get(&customer) {
            Some(grade) => Ok(grade.clone()),
            None => Err(self.ticket_in(&state, customer)),
        }
    }

    /// The ticket of a database read of `customer`'s grade that starts now, hit or miss.
    pub(super) fn ticket(&self, customer: CustomerId) -> Ticket {
        self.ticket_in(&self.state(), customer)
    }

    fn ticket_in(&self, state: &State, customer: CustomerId) -> Ticket {
        let stripe = self.stripe(customer);
        Ticket {
            customer,
            stripe,
            ended: state.ended[stripe],
            forgotten: state.forgotten,
        }
    }

    /// Keeps `grade`, read from the database after `ticket` was given for its customer,
    /// unless a change to a customer of its stripe was under way meanwhile. When full, an
    /// arbitrary entry makes room.
    pub(super) fn offer(&self, ticket: Ticket, grade: &CurrentGrade) {
        if self.capacity() == 0 {
            return;
        }
        let mut state = self.state();
        let capacity = self.capacity();
        let Ticket {
            customer,
            stripe,
            ended,
            forgotten,
        } = ticket;
        if !state.untouched(stripe, ended, forgotten) || capacity == 0 || customer != grade.customer
        {
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
        let mut through = HashMap::new();
        let mut forgotten = 0;
        if counted {
            let mut state = self.state();
            forgotten = state.forgotten;
            for &customer in &customers {
                let stripe = self.stripe(customer);
                state.changing[stripe] += 1;
                let kept = state.grades.remove(&customer);
                if kept.is_some_and(|grade| grade.grade_override.is_none()) {
                    through.insert(customer, state.ended[stripe]);
                }
            }
        }
        GradeChange {
            cache: self,
            counted,
            customers,
            through,
            forgotten,
            written: Mutex::default(),
        }
    }

    /// Another server changed `customers`' grades and its change has ended (committed): their
    /// entries go, and no read of them that began before now fills the cache.
    pub(super) fn changed_elsewhere(&self, customers: impl IntoIterator<Item = CustomerId>) {
        let mut state = self.state();
        for customer in customers {
            state.grades.remove(&customer);
            state.ended[self.stripe(customer)] += 1;
        }
    }

    /// Changes may have gone unheard (the connection that hears them was lost or is new):
    /// every entry goes, and no read that began before now fills the cache.
    pub(super) fn forget_all(&self) {
        let mut state = self.state();
        state.grades.clear();
        state.forgotten += 1;
    }
}

impl GradeChange<'_> {
    /// Tells the other servers on the database which customers' grades this change writes;
    /// `txn` is the transaction that writes them, and they hear of it if it commits. Nothing
    /// on SQLite.
    pub(super) async fn announce(&self, txn: &WriteTxn) -> Result<(), StorageError> {
        txn.announce(&self.customers).await
    }

    /// Whether the change writes `customer`'s grade through to the cache: whether its
    /// transaction should tell which of its grades it wrote.
    pub(super) fn writes_through(&self, customer: CustomerId) -> bool {
        self.through.contains_key(&customer)
    }

    /// The grades the transaction under way wrote (as the database holds them, with no
    /// override), replacing those of an earlier one that did not commit.
    pub(super) fn written(&self, grades: Vec<CurrentGrade>) {
        self.written_lock().pending = grades;
    }

    /// The transaction under way committed: what it wrote is kept once the change ends.
    pub(super) fn committed(&self) {
        let mut written = self.written_lock();
        let pending = std::mem::take(&mut written.pending);
        written.committed.extend(pending);
    }

    fn written_lock(&self) -> MutexGuard<'_, Written> {
        self.written
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for GradeChange<'_> {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let committed = std::mem::take(&mut self.written_lock().committed);
        let mut state = self.cache.state();
        for &customer in &self.customers {
            state.changing[self.cache.stripe(customer)] -= 1;
        }
        // Before this change counts as ended: a fill's test, from the change's start.
        let capacity = self.cache.capacity();
        for grade in committed {
            let stripe = self.cache.stripe(grade.customer);
            let untouched = self
                .through
                .get(&grade.customer)
                .is_some_and(|&ended| state.untouched(stripe, ended, self.forgotten));
            if untouched && state.grades.len() < capacity {
                state.grades.insert(grade.customer, grade);
            }
        }
        for &customer in &self.customers {
            state.ended[self.cache.stripe(customer)] += 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use rust_decimal::Decimal;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::grading::{AssessmentId, GradeOverride, OverrideId, VersionKey};

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
        let cache = GradeCache::new(10);
        let customer = CustomerId::generate();
        read_through(&cache, customer, "A");
        assert_eq!(cached(&cache, customer).as_deref(), Some("A"));
    }

    #[test]
    fn a_change_removes_the_customers_it_changes_and_no_other() {
        let cache = GradeCache::new(10);
        let (changed, kept) = (CustomerId::generate(), CustomerId::generate());
        for customer in [changed, kept] {
            read_through(&cache, customer, "B");
        }
        drop(cache.change([changed]));
        assert_eq!(cached(&cache, changed), None);
        assert_eq!(cached(&cache, kept).as_deref(), Some("B"));
    }

    #[test]
    fn a_read_that_overlapped_a_change_to_its_customer_does_not_fill_the_cache() {
        let cache = GradeCache::new(10);
        let customer = CustomerId::generate();

        // Read before the change ended (the old grade), offered after it: refused.
        let ticket = cache.get(customer).expect_err("a miss");
        let change = cache.change([customer]);
        drop(change);
        cache.offer(ticket, &grade(customer, "old"));
        assert_eq!(cached(&cache, customer), None);

        // Offered while a change to it is under way: refused.
        let ticket = cache.get(customer).expect_err("a miss");
        let change = cache.change([customer]);
        cache.offer(ticket, &grade(customer, "old"));
        drop(change);
        assert_eq!(cached(&cache, customer), None);

        // Read wholly after the change: kept.
        read_through(&cache, customer, "new");
        assert_eq!(cached(&cache, customer).as_deref(), Some("new"));
    }

    #[test]
    fn a_change_refuses_the_fills_of_the_customers_that_share_its_stripe_and_no_other() {
        let cache = GradeCache::new(10);
        let changed = CustomerId::generate();
        let other_stripe = std::iter::repeat_with(CustomerId::generate)
            .find(|&customer| cache.stripe(customer) != cache.stripe(changed))
            .unwrap();
        let same_stripe = std::iter::repeat_with(CustomerId::generate)
            .find(|&customer| cache.stripe(customer) == cache.stripe(changed))
            .unwrap();

        let tickets = [other_stripe, same_stripe].map(|customer| cache.ticket(customer));
        let change = cache.change([changed]);
        for (ticket, customer) in tickets.into_iter().zip([other_stripe, same_stripe]) {
            cache.offer(ticket, &grade(customer, "B"));
        }

        assert_eq!(cached(&cache, other_stripe).as_deref(), Some("B"));
        assert_eq!(cached(&cache, same_stripe), None);
        drop(change);
    }

    #[test]
    fn a_ticket_fills_only_its_own_customers_entry() {
        let cache = GradeCache::new(10);
        let (asked, other) = (CustomerId::generate(), CustomerId::generate());
        let ticket = cache.ticket(asked);
        cache.offer(ticket, &grade(other, "A"));
        assert_eq!(cached(&cache, other), None);
    }

    #[test]
    fn a_full_cache_stays_at_its_capacity() {
        let cache = GradeCache::new(3);
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
        let cache = GradeCache::new(10);
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
        let cache = GradeCache::new(0);
        let customer = CustomerId::generate();
        let change = cache.change([customer]);
        drop(change);
        read_through(&cache, customer, "A");
        assert_eq!(cached(&cache, customer), None);
    }

    #[test]
    fn a_change_heard_from_another_server_removes_its_customers_and_refuses_older_reads() {
        let cache = GradeCache::new(10);
        let (changed, kept) = (CustomerId::generate(), CustomerId::generate());
        for customer in [changed, kept] {
            read_through(&cache, customer, "B");
        }
        // A read of the changed customer that began before the change was heard.
        let ticket = cache.ticket(changed);

        cache.changed_elsewhere([changed]);

        assert_eq!(cached(&cache, changed), None);
        assert_eq!(cached(&cache, kept).as_deref(), Some("B"));
        cache.offer(ticket, &grade(changed, "old"));
        assert_eq!(cached(&cache, changed), None);
        read_through(&cache, changed, "new");
        assert_eq!(cached(&cache, changed).as_deref(), Some("new"));
    }

    #[test]
    fn forgetting_all_empties_the_cache_and_refuses_older_reads() {
        let cache = GradeCache::new(10);
        let (kept, reading) = (CustomerId::generate(), CustomerId::generate());
        read_through(&cache, kept, "A");
        let ticket = cache.ticket(reading);

        cache.forget_all();

        assert_eq!(cached(&cache, kept), None);
        cache.offer(ticket, &grade(reading, "old"));
        assert_eq!(cached(&cache, reading), None);
        read_through(&cache, reading, "new");
        assert_eq!(cached(&cache, reading).as_deref(), Some("new"));
    }

    /// A committed change to `customer`'s grade that wrote `graded`.
    fn commit(change: &GradeChange<'_>, customer: CustomerId, graded: &str) {
        change.written(vec![grade(customer, graded)]);
        change.committed();
    }

    #[test]
    fn a_committed_change_writes_a_kept_grade_through() {
        let cache = GradeCache::new(10);
        let (kept, other) = (CustomerId::generate(), CustomerId::generate());
        read_through(&cache, kept, "B");

        let change = cache.change([kept, other]);
        assert!(change.writes_through(kept));
        assert!(
            !change.writes_through(other),
            "not kept: not written through"
        );
        assert_eq!(cached(&cache, kept), None, "while under way");
        change.written(vec![grade(kept, "A"), grade(other, "C")]);
        change.committed();
        drop(change);

        assert_eq!(cached(&cache, kept).as_deref(), Some("A"));
        assert_eq!(cached(&cache, other), None);
    }

    #[test]
    fn a_change_that_did_not_commit_writes_nothing_through() {
        let cache = GradeCache::new(10);
        let customer = CustomerId::generate();
        read_through(&cache, customer, "B");

        let change = cache.change([customer]);
        change.written(vec![grade(customer, "A")]);
        drop(change);

        assert_eq!(cached(&cache, customer), None);
    }

    #[test]
    fn a_grade_with_an_override_is_not_written_through() {
        let cache = GradeCache::new(10);
        let customer = CustomerId::generate();
        let ticket = cache.get(customer).expect_err("a miss");
        let mut overridden = grade(customer, "B");
        let time = Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0).unwrap();
        overridden.grade_override = Some(GradeOverride {
            id: OverrideId::generate(),
            customer,
            grade: "A".to_owned(),
            credit_limit: None,
            currency: None,
            reason: "guaranteed".to_owned(),
            author: "risk".to_owned(),
            create_time: time,
            expire_time: time,
            computed_grade: "B".to_owned(),
            assessment: overridden.assessment,
            revocation: None,
        });
        cache.offer(ticket, &overridden);

        let change = cache.change([customer]);

        assert!(!change.writes_through(customer));
    }

    #[test]
    fn a_change_is_not_written_through_past_another_to_its_stripe() {
        let cache = GradeCache::new(10);
        let customer = CustomerId::generate();

        // Another server's change, heard while this one was under way.
        read_through(&cache, customer, "B");
        let change = cache.change([customer]);
        commit(&change, customer, "A");
        cache.changed_elsewhere([customer]);
        drop(change);
        assert_eq!(cached(&cache, customer), None);

        // Another change of this server's, still under way when this one ends.
        read_through(&cache, customer, "B");
        let first = cache.change([customer]);
        let second = cache.change([customer]);
        commit(&first, customer, "A");
        drop(first);
        assert_eq!(cached(&cache, customer), None);
        drop(second);

        // Everything forgotten meanwhile.
        read_through(&cache, customer, "B");
        let change = cache.change([customer]);
        commit(&change, customer, "A");
        cache.forget_all();
        drop(change);
        assert_eq!(cached(&cache, customer), None);
    }

    /// A step of the model below, on one of a few customers.
    #[derive(Debug, Clone)]
    enum Step {
        /// This server starts a change to a customer's grade.
        Change(usize),
        /// The oldest change under way commits (writing its grade if it is the newest, and
        /// telling the cache what it wrote), or rolls back and ends.
        End {
            committed: bool,
        },
        /// The oldest committed change ends.
        Ended,
        /// A read misses (or hits: then what it gets must be what the database holds).
        Read(usize),
        /// The oldest read under way reads the database.
        Observe,
        /// The oldest read that has read the database offers what it read.
        Offer,
        /// Another server commits a change to a customer's grade, not heard yet.
        Elsewhere(usize),
        /// The notifications of the changes made elsewhere are heard.
        Hear,
        Forget,
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        let customer = 0..4_usize;
        let step = prop_oneof![
            customer.clone().prop_map(Step::Change),
            any::<bool>().prop_map(|committed| Step::End { committed }),
            Just(Step::Ended),
            customer.clone().prop_map(Step::Read),
            Just(Step::Observe),
            Just(Step::Offer),
            customer.prop_map(Step::Elsewhere),
            Just(Step::Hear),
            Just(Step::Forget),
        ];
        proptest::collection::vec(step, 1..60)
    }

    proptest! {
        /// Whatever the interleaving of changes, reads and notifications, a grade served from
        /// memory once every notification is heard (what a sync ensures) is the one the
        /// database holds, whether a read filled it or a change wrote it through.
        #[test]
        fn a_kept_grade_is_the_one_the_database_holds_once_every_change_is_heard(
            steps in steps(),
        ) {
            let cache = GradeCache::new(3);
            let customers: Vec<_> = (0..4).map(|_| CustomerId::generate()).collect();
            let mut database = vec![0_u32; customers.len()];
            let mut written = 0;
            let mut changes = Vec::new();
            let mut committed = std::collections::VecDeque::new();
            let mut reads = std::collections::VecDeque::new();
            let mut observed = std::collections::VecDeque::new();
            let mut unheard = Vec::new();
            for step in steps {
                match step {
                    Step::Change(index) => {
                        written += 1;
                        changes.push((index, written, cache.change([customers[index]])));
                    }
                    Step::End { committed: commits } => {
                        if !changes.is_empty() {
                            let (index, value, change) = changes.remove(0);
                            // The newest grade wins, as the upsert's condition on the
                            // assessment time has it; one it did not write is not told.
                            let newest = value > database[index];
                            let written = grade(customers[index], &value.to_string());
                            change.written(if newest { vec![written] } else { vec![] });
                            if commits {
                                if newest {
                                    database[index] = value;
                                }
                                change.committed();
                                committed.push_back(change);
                            }
                        }
                    }
                    Step::Ended => drop(committed.pop_front()),
                    Step::Read(index) => {
                        if let Err(ticket) = cache.get(customers[index]) {
                            reads.push_back((index, ticket));
                        }
                    }
                    Step::Observe => {
                        if let Some((index, ticket)) = reads.pop_front() {
                            observed.push_back((index, ticket, database[index]));
                        }
                    }
                    Step::Offer => {
                        if let Some((index, ticket, value)) = observed.pop_front() {
                            cache.offer(ticket, &grade(customers[index], &value.to_string()));
                        }
                    }
                    Step::Elsewhere(index) => {
                        written += 1;
                        database[index] = written;
                        unheard.push(customers[index]);
                    }
                    Step::Hear => cache.changed_elsewhere(unheard.drain(..)),
                    Step::Forget => cache.forget_all(),
                }
                if unheard.is_empty() {
                    for (index, &customer) in customers.iter().enumerate() {
                        if let Some(kept) = cached(&cache, customer) {
                            prop_assert_eq!(kept, database[index].to_string());
                        }
                    }
                }
            }
        }
    }
}
