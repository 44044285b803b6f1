//! A portfolio re-grade as a run: where it is, how far it got, which customers it skipped
//! and why, and how fast it may go. Storage keeps a run's progress with every batch it
//! commits; this module holds the arithmetic, so it is tested without a database.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{customer::CustomerId, id::server_id};

server_id!(
    /// The server-assigned identity of a long-running operation: a UUIDv7.
    OperationId,
    "an operation id"
);

/// The most customers one batch grades: big enough that the commit's flush to disk is shared
/// by many customers, small enough that a batch's transaction holds SQLite's write lock for
/// a fraction of a second and a cancel or shutdown takes effect quickly.
pub const MAX_BATCH: usize = 2000;

/// How many skipped customers a run names per reason; the rest are only counted.
pub const SKIP_SAMPLE: usize = 10;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegradeState {
    Running,
    Succeeded,
    Cancelled,
    Failed,
}

impl RegradeState {
    /// The stable lowercase word used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "running" => Some(Self::Running),
            "succeeded" => Some(Self::Succeeded),
            "cancelled" => Some(Self::Cancelled),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    /// The run is over, whichever way it ended.
    pub fn is_done(self) -> bool {
        self != Self::Running
    }
}

/// Why a run skipped a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The customer has no figures to grade.
    NoFigures,
    /// No version was named and the customer's kind has no champion.
    NoChampion,
}

/// The customers skipped for one reason: all counted, the first few named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipCount {
    pub count: u64,
    pub sample: Vec<CustomerId>,
}

/// The customers a run skipped, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Skips(BTreeMap<SkipReason, SkipCount>);

impl Skips {
    pub fn add(&mut self, reason: SkipReason, customer: CustomerId) {
        let entry = self.0.entry(reason).or_default();
        entry.count += 1;
        if entry.sample.len() < SKIP_SAMPLE {
            entry.sample.push(customer);
        }
    }

    /// Adds another batch's skips to these.
    pub fn merge(&mut self, other: Self) {
        for (reason, skipped) in other.0 {
            let entry = self.0.entry(reason).or_default();
            entry.count += skipped.count;
            let room = SKIP_SAMPLE.saturating_sub(entry.sample.len());
            entry.sample.extend(skipped.sample.into_iter().take(room));
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().map(|skipped| skipped.count).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (SkipReason, &SkipCount)> {
        self.0.iter().map(|(reason, skipped)| (*reason, skipped))
    }
}

/// How far a run got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegradeProgress {
    pub state: RegradeState,
    /// The customers selected when the run started.
    pub total: u64,
    /// Assessed plus skipped.
    pub processed: u64,
    pub assessed: u64,
    pub skips: Skips,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
}

impl RegradeProgress {
    /// Customers processed per second from the start to the last progress (or the end).
    pub fn customers_per_second(&self) -> f64 {
        let until = self.end_time.unwrap_or(self.update_time);
        let seconds = (until - self.create_time)
            .to_std()
            .map_or(0.0, |elapsed| elapsed.as_secs_f64());
        if seconds <= 0.0 {
            return 0.0;
        }
        // Counts stay far below 2^52, where f64 is exact.
        self.processed as f64 / seconds
    }
}

/// How fast a run may grade: unlimited, or at most a number of customers per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pace {
    /// 0 means as fast as the database allows.
    pub max_per_second: u32,
}

impl Pace {
    /// Customers per batch: [`MAX_BATCH`] at full speed; about five batches a second when
    /// paced, so the pace is smooth and the first progress shows soon.
    pub fn batch_size(self) -> usize {
        match self.max_per_second {
            0 => MAX_BATCH,
            rate => usize::try_from(rate / 5)
                .unwrap_or(MAX_BATCH)
                .clamp(1, MAX_BATCH),
        }
    }

    /// How long to wait before the next batch, when `processed` customers took `elapsed`
    /// since this server took the run up: the time the pace allows them, minus the time spent.
    pub fn wait_before_next(self, processed: u64, elapsed: Duration) -> Duration {
        if self.max_per_second == 0 {
            return Duration::ZERO;
        }
        let allowed = Duration::from_secs_f64(processed as f64 / f64::from(self.max_per_second));
        allowed.saturating_sub(elapsed)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use chrono::TimeDelta;
    use proptest::prelude::*;
    use rstest::rstest;

    use super::*;

    fn customer() -> CustomerId {
        CustomerId::generate()
    }

    #[test]
    fn skips_count_every_customer_and_name_the_first_ten() {
        let mut skips = Skips::default();
        let first: Vec<_> = (0..12).map(|_| customer()).collect();
        for id in &first {
            skips.add(SkipReason::NoFigures, *id);
        }
        skips.add(SkipReason::NoChampion, customer());
        assert_eq!(skips.total(), 13);
        let (reason, no_figures) = skips.iter().next().expect("a reason");
        assert_eq!(reason, SkipReason::NoFigures);
        assert_eq!(no_figures.count, 12);
        assert_eq!(no_figures.sample, first[..SKIP_SAMPLE]);
    }

    #[test]
    fn merging_batches_keeps_the_earliest_samples() {
        let mut run = Skips::default();
        let earlier: Vec<_> = (0..7).map(|_| customer()).collect();
        earlier
            .iter()
            .for_each(|id| run.add(SkipReason::NoFigures, *id));
        let mut batch = Skips::default();
        let later: Vec<_> = (0..7).map(|_| customer()).collect();
        later
            .iter()
            .for_each(|id| batch.add(SkipReason::NoFigures, *id));
        run.merge(batch);
        let (_, skipped) = run.iter().next().expect("a reason");
        assert_eq!(skipped.count, 14);
        assert_eq!(skipped.sample[..7], earlier[..]);
        assert_eq!(skipped.sample[7..], later[..3]);
    }

    #[test]
    fn skips_read_back_from_their_stored_form() {
        let mut skips = Skips::default();
        skips.add(SkipReason::NoChampion, customer());
        let stored = serde_json::to_string(&skips).expect("serializes");
        assert!(stored.starts_with("{\"no_champion\":"), "{stored}");
        let read: Skips = serde_json::from_str(&stored).expect("deserializes");
        assert_eq!(read, skips);
    }

    #[rstest]
    #[case::unpaced(0, MAX_BATCH)]
    #[case::slow(3, 1)]
    #[case::five_batches_a_second(1000, 200)]
    #[case::largest_paced(10_000, MAX_BATCH)]
    #[case::capped(1_000_000, MAX_BATCH)]
    fn a_batch_is_a_fifth_of_a_second_of_the_pace(#[case] rate: u32, #[case] expected: usize) {
        assert_eq!(
            Pace {
                max_per_second: rate
            }
            .batch_size(),
            expected
        );
    }

    #[test]
    fn a_paced_run_waits_until_its_customers_were_due() {
        let pace = Pace {
            max_per_second: 100,
        };
        assert_eq!(
            pace.wait_before_next(50, Duration::from_millis(200)),
            Duration::from_millis(300)
        );
        assert_eq!(
            pace.wait_before_next(50, Duration::from_secs(1)),
            Duration::ZERO
        );
        let unpaced = Pace { max_per_second: 0 };
        assert_eq!(
            unpaced.wait_before_next(1_000_000, Duration::ZERO),
            Duration::ZERO
        );
    }

    #[test]
    fn the_rate_counts_from_the_start_to_the_end() {
        let start = Utc::now();
        let progress = RegradeProgress {
            state: RegradeState::Succeeded,
            total: 100,
            processed: 100,
            assessed: 90,
            skips: Skips::default(),
            create_time: start,
            update_time: start + TimeDelta::seconds(30),
            end_time: Some(start + TimeDelta::seconds(4)),
        };
        assert!((progress.customers_per_second() - 25.0).abs() < 1e-9);
        let just_started = RegradeProgress {
            end_time: None,
            update_time: start,
            ..progress
        };
        assert_eq!(just_started.customers_per_second(), 0.0);
    }

    #[test]
    fn states_read_back_from_their_stored_words() {
        for state in [
            RegradeState::Running,
            RegradeState::Succeeded,
            RegradeState::Cancelled,
            RegradeState::Failed,
        ] {
            assert_eq!(RegradeState::parse(state.as_str()), Some(state));
            assert_eq!(state.is_done(), state != RegradeState::Running);
        }
        assert_eq!(RegradeState::parse("paused"), None);
    }

    proptest! {
        #[test]
        fn a_paced_run_never_goes_faster_than_its_pace(
            rate in 1u32..100_000,
            processed in 0u64..10_000_000,
            elapsed_ms in 0u64..1_000_000,
        ) {
            let pace = Pace { max_per_second: rate };
            let elapsed = Duration::from_millis(elapsed_ms);
            let next_start = elapsed + pace.wait_before_next(processed, elapsed);
            let achieved = processed as f64 / next_start.as_secs_f64().max(f64::MIN_POSITIVE);
            prop_assert!(processed == 0 || achieved <= f64::from(rate) * (1.0 + 1e-9));
        }
    }
}
