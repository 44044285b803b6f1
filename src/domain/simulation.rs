//! What a model version would do to the book if it graded it, without storing anything:
//! each customer's newest figures are graded with the candidate version and with the
//! champion of the customer's kind, and the results add up into the distribution the
//! candidate would give, the migration from the champion's grades, and the customers whose
//! grade would change. Both models grade the same figures, so every difference is the
//! model's, not a change in the figures since the customer was last assessed.

use rust_decimal::Decimal;

use super::{
    Refusal,
    customer::{CustomerId, CustomerKind},
    figures::FiguresSnapshot,
    grading::{ModelVersion, VersionKey, sales_and_gross_profit},
    portfolio::{Distribution, Migration, Tally},
    scoring::{Locale, ScoringModel, assess},
};

/// A customer whose grade the candidate would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeChange {
    pub customer: CustomerId,
    pub champion: VersionKey,
    pub champion_grade: String,
    pub champion_score: Decimal,
    pub grade: String,
    pub score: Decimal,
}

/// The simulation's totals and one page of the customers that would change grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationReport {
    /// The candidate's grades.
    pub distribution: Distribution,
    /// From the champion's grade to the candidate's; a customer whose kind has no champion
    /// counts as newly graded.
    pub migration: Migration,
    /// In customer order, after the page's cursor.
    pub changes: Vec<GradeChange>,
    /// More changes follow the page.
    pub has_more: bool,
}

/// Runs a candidate over customers streamed in customer order. Memory holds the counts and
/// one page of changes, whatever the book's size.
#[derive(Debug)]
pub struct Simulation<'m> {
    candidate: &'m ScoringModel,
    /// The champion of each kind that has one.
    champions: &'m [(CustomerKind, ModelVersion)],
    /// The page lists changes after this customer...
    after: Option<CustomerId>,
    /// ...and at most this many (one more is kept to tell whether others follow).
    page_size: usize,
    distribution: Tally,
    migration: Migration,
    changes: Vec<GradeChange>,
}

impl<'m> Simulation<'m> {
    /// A simulation of `candidate` against `champions`, listing at most `page_size` changes
    /// after customer `after`.
    pub fn new(
        candidate: &'m ScoringModel,
        champions: &'m [(CustomerKind, ModelVersion)],
        after: Option<CustomerId>,
        page_size: usize,
    ) -> Self {
        Self {
            candidate,
            champions,
            after,
            page_size,
            distribution: Tally::default(),
            migration: Migration::default(),
            changes: Vec::new(),
        }
    }

    /// Grades one customer's snapshot with the candidate and its kind's champion.
    pub fn add(&mut self, customer: CustomerId, kind: CustomerKind, snapshot: &FiguresSnapshot) {
        let simulated = assess(self.candidate, snapshot, Locale::En);
        let (sales, gross_profit) = sales_and_gross_profit(&snapshot.figures);
        self.distribution.add_graded(
            &simulated.grade,
            snapshot.currency.as_deref(),
            sales,
            gross_profit,
        );
        let champion = self
            .champions
            .iter()
            .find(|(population, _)| *population == kind)
            .map(|(_, version)| (version, assess(&version.definition, snapshot, Locale::En)));
        let moved = self.migration.add(
            champion.as_ref().map(|(_, graded)| graded.grade.clone()),
            Some(simulated.grade.clone()),
        );
        let listed =
            self.after.is_none_or(|after| customer > after) && self.changes.len() <= self.page_size;
        if let (true, true, Some((version, graded))) = (moved, listed, champion) {
            self.changes.push(GradeChange {
                customer,
                champion: version.key.clone(),
                champion_grade: graded.grade,
                champion_score: graded.total_score,
                grade: simulated.grade,
                score: simulated.total_score,
            });
        }
    }

    /// The report, its money in `currency` (or the only currency present).
    pub fn finish(mut self, currency: Option<&str>) -> Result<SimulationReport, Refusal> {
        let has_more = self.changes.len() > self.page_size;
        self.changes.truncate(self.page_size);
        Ok(SimulationReport {
            distribution: self.distribution.finish(currency)?,
            migration: self.migration,
            changes: self.changes,
            has_more,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::{
        grading::VersionState,
        scoring::fixture::{d, good_figures, model, snapshot},
    };

    fn published(definition: ScoringModel, version: i32) -> ModelVersion {
        ModelVersion {
            key: VersionKey {
                model: "fixture".to_owned(),
                version,
            },
            state: VersionState::Published,
            definition,
            etag_version: 1,
            create_time: DateTime::<Utc>::UNIX_EPOCH,
            update_time: DateTime::<Utc>::UNIX_EPOCH,
            publish_time: None,
        }
    }

    /// The fixture model with every grade's threshold raised by `points`: a stricter model.
    fn stricter(points: &str) -> ScoringModel {
        let mut stricter = model();
        for threshold in &mut stricter.grades {
            if !threshold.min_score.is_zero() {
                threshold.min_score += d(points);
            }
        }
        stricter
    }

    fn customers(count: usize) -> Vec<CustomerId> {
        let mut ids: Vec<CustomerId> = (0..count).map(|_| CustomerId::generate()).collect();
        ids.sort();
        ids
    }

    #[test]
    fn the_champion_against_itself_changes_nobody() {
        let champions = [(CustomerKind::Existing, published(model(), 1))];
        let candidate = model();
        let mut simulation = Simulation::new(&candidate, &champions, None, 10);
        for customer in customers(3) {
            simulation.add(customer, CustomerKind::Existing, &snapshot(good_figures()));
        }
        let report = simulation.finish(None).unwrap();
        assert_eq!(report.migration.unchanged, 3);
        assert!(report.changes.is_empty());
        assert_eq!(report.distribution.customers, 3);
    }

    #[test]
    fn a_stricter_candidate_lists_each_downgrade_with_both_grades_and_scores() {
        let champions = [(CustomerKind::Existing, published(model(), 1))];
        let candidate = stricter("100");
        let ids = customers(5);
        let mut simulation = Simulation::new(&candidate, &champions, Some(ids[1]), 2);
        for customer in &ids {
            simulation.add(*customer, CustomerKind::Existing, &snapshot(good_figures()));
        }
        let report = simulation.finish(None).unwrap();
        assert_eq!(
            report.migration.downgraded, 5,
            "every grade but the last is out of reach"
        );
        let listed: Vec<CustomerId> = report.changes.iter().map(|c| c.customer).collect();
        assert_eq!(listed, [ids[2], ids[3]], "the page after the cursor");
        assert!(report.has_more);
        let change = &report.changes[0];
        assert_eq!(
            change.score, change.champion_score,
            "same figures, same points"
        );
        assert_eq!(change.grade, candidate.grades.last().unwrap().grade);
        assert_ne!(change.champion_grade, change.grade);
        assert_eq!(change.champion.version, 1);
    }

    #[test]
    fn a_kind_without_champion_is_newly_graded_and_not_listed() {
        let champions = [(CustomerKind::Existing, published(model(), 1))];
        let candidate = stricter("100");
        let mut simulation = Simulation::new(&candidate, &champions, None, 10);
        simulation.add(
            CustomerId::generate(),
            CustomerKind::Prospect,
            &snapshot(good_figures()),
        );
        let report = simulation.finish(None).unwrap();
        assert_eq!(report.migration.newly_graded, 1);
        assert!(report.changes.is_empty());
        assert!(!report.has_more);
    }
}
