//! How people overrode the model: the overrides set in a period by author, by reason and by
//! direction against the computed grade, the share of the book an override applies to now,
//! and, once outcomes exist, how the overridden customers fared beside the customers the
//! model graded alike and nobody overrode. Credit-risk governance reads it to see whether
//! judgement improved on the model or only disagreed with it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{
    accuracy::{GradeRate, rate_percent},
    customer::CustomerId,
    grading::{CurrentGrade, GradeOverride},
    portfolio::percent,
};

/// Which way an override moved the grade, by name (A is better than B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    /// The same grade: the override changed only the credit limit.
    Same,
}

impl Direction {
    pub fn of(computed: &str, grade: &str) -> Self {
        match grade.cmp(computed) {
            std::cmp::Ordering::Less => Self::Up,
            std::cmp::Ordering::Greater => Self::Down,
            std::cmp::Ordering::Equal => Self::Same,
        }
    }
}

/// Overrides counted by direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionCounts {
    pub overrides: u64,
    pub up: u64,
    pub down: u64,
    pub same: u64,
}

impl DirectionCounts {
    fn add(&mut self, direction: Direction) {
        self.overrides += 1;
        match direction {
            Direction::Up => self.up += 1,
            Direction::Down => self.down += 1,
            Direction::Same => self.same += 1,
        }
    }
}

/// The overrides from one computed grade to one overriding grade, and how many the outcome
/// followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideCell {
    pub computed_grade: String,
    pub grade: String,
    pub overrides: u64,
    pub outcomes: u64,
    pub rate_percent: Decimal,
}

/// How overridden customers fared against the model's own record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Performance {
    /// By (computed grade, overriding grade).
    pub cells: Vec<OverrideCell>,
    /// The outcome rate of the customers graded in the period that nobody overrode in it,
    /// by computed grade: what the overridden customers would be expected to do had the
    /// model been left alone.
    pub not_overridden: Vec<GradeRate>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideReport {
    pub totals: DirectionCounts,
    /// Of the overrides counted, those revoked since.
    pub revoked: u64,
    pub by_author: BTreeMap<String, DirectionCounts>,
    pub by_reason: BTreeMap<String, DirectionCounts>,
    /// Selected customers with a current grade.
    pub graded_customers: u64,
    /// Of them, those an override applies to now.
    pub overridden_customers: u64,
    pub overridden_share_percent: Decimal,
    /// `None` unless an outcome was asked for.
    pub performance: Option<Performance>,
}

/// Adds the report up as overrides, current grades and gradings stream in.
#[derive(Debug, Default)]
pub struct OverrideTally {
    now: DateTime<Utc>,
    totals: DirectionCounts,
    revoked: u64,
    by_author: BTreeMap<String, DirectionCounts>,
    by_reason: BTreeMap<String, DirectionCounts>,
    overridden_in_period: BTreeSet<CustomerId>,
    graded_customers: u64,
    overridden_customers: u64,
    /// (computed grade, grade) -> (overrides, outcomes).
    cells: BTreeMap<(String, String), (u64, u64)>,
    /// computed grade -> (customers, outcomes).
    not_overridden: BTreeMap<String, (u64, u64)>,
}

impl OverrideTally {
    /// A tally whose "applies now" and "revoked since" are judged at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now,
            ..Self::default()
        }
    }

    /// An override set in the period; `outcome` says whether the outcome followed it, when
    /// outcomes are judged.
    pub fn add_override(&mut self, set: &GradeOverride, outcome: Option<bool>) {
        let direction = Direction::of(&set.computed_grade, &set.grade);
        self.totals.add(direction);
        self.by_author
            .entry(set.author.clone())
            .or_default()
            .add(direction);
        self.by_reason
            .entry(set.reason.clone())
            .or_default()
            .add(direction);
        self.revoked += u64::from(set.revocation.is_some());
        self.overridden_in_period.insert(set.customer);
        if let Some(outcome) = outcome {
            let cell = self
                .cells
                .entry((set.computed_grade.clone(), set.grade.clone()))
                .or_default();
            cell.0 += 1;
            cell.1 += u64::from(outcome);
        }
    }

    /// A customer of the book as it is now.
    pub fn add_current(&mut self, grade: &CurrentGrade) {
        self.graded_customers += 1;
        self.overridden_customers += u64::from(grade.active_override(self.now).is_some());
    }

    /// A customer graded in the period with `computed_grade`, and whether the outcome
    /// followed. Customers overridden in the period are left out: add every override first.
    pub fn add_grading(&mut self, customer: CustomerId, computed_grade: &str, outcome: bool) {
        if self.overridden_in_period.contains(&customer) {
            return;
        }
        let entry = self
            .not_overridden
            .entry(computed_grade.to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += u64::from(outcome);
    }

    /// The report; `judged` when outcomes were added.
    pub fn finish(self, judged: bool) -> OverrideReport {
        let performance = judged.then(|| Performance {
            cells: self
                .cells
                .into_iter()
                .map(
                    |((computed_grade, grade), (overrides, outcomes))| OverrideCell {
                        computed_grade,
                        grade,
                        overrides,
                        outcomes,
                        rate_percent: rate_percent(outcomes, overrides),
                    },
                )
                .collect(),
            not_overridden: self
                .not_overridden
                .into_iter()
                .map(|(grade, (customers, outcomes))| GradeRate {
                    grade,
                    customers,
                    outcomes,
                    rate_percent: rate_percent(outcomes, customers),
                })
                .collect(),
        });
        OverrideReport {
            totals: self.totals,
            revoked: self.revoked,
            by_author: self.by_author,
            by_reason: self.by_reason,
            graded_customers: self.graded_customers,
            overridden_customers: self.overridden_customers,
            overridden_share_percent: percent(
                self.overridden_customers.into(),
                self.graded_customers.into(),
            ),
            performance,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::grading::{AssessmentId, OverrideId, Revocation};

    fn set(customer: CustomerId, author: &str, computed: &str, grade: &str) -> GradeOverride {
        GradeOverride {
            id: OverrideId::generate(),
            customer,
            grade: grade.to_owned(),
            credit_limit: None,
            currency: None,
            reason: format!("{computed} to {grade}"),
            author: author.to_owned(),
            create_time: DateTime::<Utc>::UNIX_EPOCH,
            expire_time: DateTime::<Utc>::UNIX_EPOCH + Duration::days(30),
            computed_grade: computed.to_owned(),
            assessment: AssessmentId::generate(),
            revocation: None,
        }
    }

    #[test]
    fn directions_compare_grade_names() {
        assert_eq!(Direction::of("C", "A"), Direction::Up);
        assert_eq!(Direction::of("A", "B"), Direction::Down);
        assert_eq!(Direction::of("B", "B"), Direction::Same);
    }

    #[test]
    fn overrides_count_by_author_reason_and_direction() {
        let mut tally = OverrideTally::default();
        let [a, b, c] = [0; 3].map(|_| CustomerId::generate());
        tally.add_override(&set(a, "li", "C", "A"), None);
        tally.add_override(&set(b, "li", "B", "D"), None);
        let mut revoked = set(c, "wang", "C", "A");
        revoked.revocation = Some(Revocation {
            time: DateTime::<Utc>::UNIX_EPOCH,
            by: "wang".to_owned(),
            reason: "paid".to_owned(),
        });
        tally.add_override(&revoked, None);
        let report = tally.finish(false);
        assert_eq!(
            report.totals,
            DirectionCounts {
                overrides: 3,
                up: 2,
                down: 1,
                same: 0
            }
        );
        assert_eq!(report.revoked, 1);
        assert_eq!(report.by_author["li"].overrides, 2);
        assert_eq!(report.by_reason["C to A"].up, 2);
        assert_eq!(report.performance, None);
    }

    #[test]
    fn overridden_customers_are_judged_apart_from_the_models_record() {
        let mut tally = OverrideTally::default();
        let [raised, kept, other] = [0; 3].map(|_| CustomerId::generate());
        tally.add_override(&set(raised, "li", "C", "A"), Some(true));
        tally.add_grading(raised, "C", true);
        tally.add_grading(kept, "C", false);
        tally.add_grading(other, "C", true);
        let performance = tally.finish(true).performance.unwrap();
        assert_eq!(
            performance.cells,
            [OverrideCell {
                computed_grade: "C".to_owned(),
                grade: "A".to_owned(),
                overrides: 1,
                outcomes: 1,
                rate_percent: Decimal::ONE_HUNDRED,
            }]
        );
        let c = &performance.not_overridden[0];
        assert_eq!(
            (c.customers, c.outcomes, c.rate_percent),
            (2, 1, Decimal::from(50))
        );
    }
}
