//! Population stability: whether a model version's scores, and each criterion's points, are
//! spread in a recent period as they were in a base period. The population stability index
//! (PSI) sums, over bins, (compare share − base share) × ln(compare share / base share); the
//! usual reading is under 0.1 stable, 0.1 to 0.25 worth watching, above 0.25 shifted. Scores
//! are cut at the base period's deciles; criterion points are banded, so each value is a bin.
//! Pure: the storage streams each period's assessments in, the base period first.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy, prelude::FromPrimitive};

use super::{portfolio::percent, scoring::Assessment};

/// The share, as a fraction, that a bin empty in one period counts with, so that its logarithm
/// is defined. 0.0001 is the usual practice: small enough that an empty bin weighs heavily.
pub const EMPTY_BIN_SHARE: f64 = 0.0001;

/// How many bins the scores are cut into at most: deciles.
const SCORE_BINS: usize = 10;

/// The usual reading of a PSI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Under 0.1: the population is spread as before.
    Stable,
    /// 0.1 to 0.25: a shift worth watching.
    Watch,
    /// Above 0.25: the population has shifted; the model may need recalibrating.
    Shifted,
}

impl Reading {
    /// Reads the PSI as reported (four decimals), so the reading agrees with the number shown.
    pub fn of(psi: Decimal) -> Self {
        if psi < Decimal::new(1, 1) {
            Self::Stable
        } else if psi <= Decimal::new(25, 2) {
            Self::Watch
        } else {
            Self::Shifted
        }
    }
}

/// The scores a bin holds: from `lower` (inclusive) to `upper` (exclusive); `None` is no
/// bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreRange {
    pub lower: Option<Decimal>,
    pub upper: Option<Decimal>,
}

/// One bin: the values it holds (a score range, a criterion's points) and its customers in
/// each period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin<V> {
    pub holds: V,
    pub base_customers: u64,
    pub compare_customers: u64,
    /// Of the base period's customers, in percent, two decimals.
    pub base_share_percent: Decimal,
    /// Of the compare period's customers, in percent, two decimals.
    pub compare_share_percent: Decimal,
}

/// How one figure is spread in both periods, and how far the spreads are apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison<V> {
    /// Four decimals; `None` when either period has no customers, so nothing is compared.
    pub psi: Option<Decimal>,
    pub bins: Vec<Bin<V>>,
}

impl<V> Comparison<V> {
    /// `None` when there is no PSI.
    pub fn reading(&self) -> Option<Reading> {
        self.psi.map(Reading::of)
    }
}

/// A criterion's points compared, each value a bin, lowest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionStability {
    pub key: String,
    pub points: Comparison<Decimal>,
}

/// The stability of a model version's scores and criteria from a base period to a compare
/// period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StabilityReport {
    pub base_customers: u64,
    pub compare_customers: u64,
    /// Cut at the base period's deciles, lowest first.
    pub score: Comparison<ScoreRange>,
    /// In the model's order.
    pub criteria: Vec<CriterionStability>,
}

/// The base period as it streams in. Its scores are all kept: the deciles need them.
#[derive(Debug, Default)]
pub struct BaseTally {
    scores: Vec<Decimal>,
    points: PointsTally,
}

impl BaseTally {
    /// Counts one customer of the base period, by its assessment.
    pub fn add(&mut self, assessment: &Assessment) {
        self.record(assessment.total_score, lines(assessment));
    }

    /// [`Self::add`] on what it reads of an assessment: the score and each criterion's points.
    fn record<'a>(&mut self, score: Decimal, points: impl IntoIterator<Item = (&'a str, Decimal)>) {
        self.scores.push(score);
        self.points.add(points, Period::Base);
    }

    /// Cuts the base scores at their deciles, ready for the compare period to be counted into
    /// the same bins.
    pub fn into_compare(mut self) -> CompareTally {
        self.scores.sort_unstable();
        let edges = decile_edges(&self.scores);
        let mut scores = vec![Counts::default(); edges.len() + 1];
        for score in &self.scores {
            scores[bin_of(&edges, *score)].add(Period::Base);
        }
        CompareTally {
            customers: Counts {
                base: self.scores.len() as u64,
                compare: 0,
            },
            edges,
            scores,
            points: self.points,
        }
    }
}

/// The compare period as it streams in, counted into the base period's bins.
#[derive(Debug)]
pub struct CompareTally {
    customers: Counts,
    edges: Vec<Decimal>,
    scores: Vec<Counts>,
    points: PointsTally,
}

impl CompareTally {
    /// Counts one customer of the compare period, by its assessment.
    pub fn add(&mut self, assessment: &Assessment) {
        self.record(assessment.total_score, lines(assessment));
    }

    /// [`Self::add`] on what it reads of an assessment: the score and each criterion's points.
    fn record<'a>(&mut self, score: Decimal, points: impl IntoIterator<Item = (&'a str, Decimal)>) {
        self.customers.add(Period::Compare);
        self.scores[bin_of(&self.edges, score)].add(Period::Compare);
        self.points.add(points, Period::Compare);
    }

    /// Both periods are in: the shares and the PSI of every bin.
    pub fn finish(self) -> StabilityReport {
        let customers = self.customers;
        StabilityReport {
            base_customers: customers.base,
            compare_customers: customers.compare,
            score: compare(score_ranges(&self.edges).zip(self.scores), customers),
            criteria: self
                .points
                .0
                .into_iter()
                .map(|(key, by_points)| CriterionStability {
                    key,
                    points: compare(by_points, customers),
                })
                .collect(),
        }
    }
}

fn lines(assessment: &Assessment) -> impl Iterator<Item = (&str, Decimal)> {
    assessment
        .criteria
        .iter()
        .map(|line| (line.key.as_str(), line.points))
}

#[derive(Debug, Clone, Copy)]
enum Period {
    Base,
    Compare,
}

/// Customers of each period (in a bin, or in all).
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    base: u64,
    compare: u64,
}

impl Counts {
    fn add(&mut self, period: Period) {
        match period {
            Period::Base => self.base += 1,
            Period::Compare => self.compare += 1,
        }
    }
}

/// Each criterion's customers per points value, the criteria in the order first seen: the
/// model's, since every assessment by one version lists its criteria in the model's order.
#[derive(Debug, Default)]
struct PointsTally(Vec<(String, BTreeMap<Decimal, Counts>)>);

impl PointsTally {
    fn add<'a>(&mut self, points: impl IntoIterator<Item = (&'a str, Decimal)>, period: Period) {
        for (key, value) in points {
            let index = match self.0.iter().position(|(known, _)| known == key) {
                Some(index) => index,
                None => {
                    self.0.push((key.to_owned(), BTreeMap::new()));
                    self.0.len() - 1
                }
            };
            self.0[index].1.entry(value).or_default().add(period);
        }
    }
}

/// The edges that cut ascending `sorted` scores into deciles: the score at rank ⌊k·n/10⌋
/// (counted from 0) for k = 1 to 9, so that k tenths of the scores lie below the k-th edge
/// when none tie. Ties make equal edges, which collapse into one, and an edge at the lowest
/// score is left out: every bin holds base customers, and tied scores give fewer bins.
fn decile_edges(sorted: &[Decimal]) -> Vec<Decimal> {
    let mut edges: Vec<Decimal> = Vec::new();
    for tenth in 1..SCORE_BINS {
        let Some(&edge) = sorted.get(tenth * sorted.len() / SCORE_BINS) else {
            continue;
        };
        let above_lowest = sorted.first().is_some_and(|lowest| edge > *lowest);
        if above_lowest && edges.last().is_none_or(|last| edge > *last) {
            edges.push(edge);
        }
    }
    edges
}

/// The bin of `score`: how many edges are at or below it.
fn bin_of(edges: &[Decimal], score: Decimal) -> usize {
    edges.partition_point(|edge| *edge <= score)
}

/// What each score bin holds: up to the first edge, from one edge to the next, from the last
/// edge on.
fn score_ranges(edges: &[Decimal]) -> impl Iterator<Item = ScoreRange> + '_ {
    (0..=edges.len()).map(|bin| ScoreRange {
        lower: bin
            .checked_sub(1)
            .and_then(|below| edges.get(below))
            .copied(),
        upper: edges.get(bin).copied(),
    })
}

fn compare<V>(bins: impl IntoIterator<Item = (V, Counts)>, customers: Counts) -> Comparison<V> {
    let bins: Vec<(V, Counts)> = bins.into_iter().collect();
    Comparison {
        psi: psi(bins.iter().map(|(_, counts)| *counts), customers),
        bins: bins
            .into_iter()
            .map(|(holds, counts)| Bin {
                holds,
                base_customers: counts.base,
                compare_customers: counts.compare,
                base_share_percent: percent(counts.base.into(), customers.base.into()),
                compare_share_percent: percent(counts.compare.into(), customers.compare.into()),
            })
            .collect(),
    }
}

/// PSI = Σ (c − b) × ln(c / b) over the bins, with b and c the bin's share of each period's
/// customers as fractions, and [`EMPTY_BIN_SHARE`] for a bin empty in a period. A logarithm,
/// so computed in `f64`, then rounded to four decimals. `None` when a period has no customers.
fn psi(bins: impl Iterator<Item = Counts>, customers: Counts) -> Option<Decimal> {
    if customers.base == 0 || customers.compare == 0 {
        return None;
    }
    let share = |count: u64, total: u64| {
        if count == 0 {
            EMPTY_BIN_SHARE
        } else {
            count as f64 / total as f64
        }
    };
    // Each term is ≥ 0 (its two factors share a sign); folding from +0.0 keeps a sum of zero
    // terms from printing as "-0.0000".
    let index = bins
        .map(|counts| {
            let base = share(counts.base, customers.base);
            let compare = share(counts.compare, customers.compare);
            (compare - base) * (compare / base).ln()
        })
        .fold(0.0, |sum, term| sum + term);
    Decimal::from_f64(index)
        .map(|exact| exact.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use rstest::rstest;

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// A report over two periods of (score, points of criterion `c`) per customer.
    fn report(base: &[(i64, i64)], compare: &[(i64, i64)]) -> StabilityReport {
        let mut base_tally = BaseTally::default();
        for (score, points) in base {
            base_tally.record(Decimal::from(*score), [("c", Decimal::from(*points))]);
        }
        let mut compare_tally = base_tally.into_compare();
        for (score, points) in compare {
            compare_tally.record(Decimal::from(*score), [("c", Decimal::from(*points))]);
        }
        compare_tally.finish()
    }

    fn ranges(comparison: &Comparison<ScoreRange>) -> Vec<(Option<i64>, Option<i64>, u64)> {
        let whole = |bound: Option<Decimal>| bound.map(|b| i64::try_from(b).unwrap());
        comparison
            .bins
            .iter()
            .map(|bin| {
                (
                    whole(bin.holds.lower),
                    whole(bin.holds.upper),
                    bin.base_customers,
                )
            })
            .collect()
    }

    #[test]
    fn twenty_distinct_scores_make_ten_bins_of_two() {
        let base: Vec<(i64, i64)> = (1..=20).map(|score| (score, 0)).collect();
        let found = report(&base, &base);
        let bins = ranges(&found.score);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins[0], (None, Some(3), 2));
        assert_eq!(bins[1], (Some(3), Some(5), 2));
        assert_eq!(bins[9], (Some(19), None, 2));
        assert_eq!(found.score.psi, Some(Decimal::ZERO));
        assert_eq!(found.score.reading(), Some(Reading::Stable));
        assert_eq!(found.score.bins[0].base_share_percent, d("10"));
    }

    #[test]
    fn tied_scores_collapse_their_edges() {
        // Ranks 1-9 of ten scores: 50 ×6, then 60, 70, 80, 90. Edges at ranks 1-5 are the
        // lowest score (left out); 6 to 9 give 60, 70, 80, 90.
        let base: Vec<(i64, i64)> = [50, 50, 50, 50, 50, 50, 60, 70, 80, 90]
            .into_iter()
            .map(|score| (score, 0))
            .collect();
        let found = report(&base, &[(10, 0), (95, 0)]);
        assert_eq!(
            ranges(&found.score),
            vec![
                (None, Some(60), 6),
                (Some(60), Some(70), 1),
                (Some(70), Some(80), 1),
                (Some(80), Some(90), 1),
                (Some(90), None, 1),
            ]
        );
        let compare: Vec<u64> = found
            .score
            .bins
            .iter()
            .map(|b| b.compare_customers)
            .collect();
        assert_eq!(compare, vec![1, 0, 0, 0, 1]);
    }

    #[test]
    fn a_hand_worked_psi_with_an_empty_bin() {
        // Criterion points: base 40 ×3, 80 ×1; compare 40 ×1, 80 ×2, 100 ×1.
        // b = (0.75, 0.25, 0.0001), c = (0.25, 0.5, 0.25):
        // (0.25 − 0.75) ln(1/3) + (0.5 − 0.25) ln 2 + (0.25 − 0.0001) ln 2500
        // = 0.549306 + 0.173287 + 1.955229 = 2.677822.
        let found = report(
            &[(1, 40), (2, 40), (3, 40), (4, 80)],
            &[(1, 40), (2, 80), (3, 80), (4, 100)],
        );
        let points = &found.criteria[0].points;
        assert_eq!(found.criteria[0].key, "c");
        assert_eq!(points.psi, Some(d("2.6778")));
        assert_eq!(points.reading(), Some(Reading::Shifted));
        let bins: Vec<(Decimal, u64, u64, Decimal)> = points
            .bins
            .iter()
            .map(|b| {
                (
                    b.holds,
                    b.base_customers,
                    b.compare_customers,
                    b.base_share_percent,
                )
            })
            .collect();
        assert_eq!(
            bins,
            vec![
                (d("40"), 3, 1, d("75")),
                (d("80"), 1, 2, d("25")),
                (d("100"), 0, 1, d("0")),
            ]
        );
    }

    #[test]
    fn an_empty_period_has_no_psi_and_no_reading() {
        let found = report(&[(50, 40)], &[]);
        assert_eq!((found.base_customers, found.compare_customers), (1, 0));
        assert_eq!(found.score.psi, None);
        assert_eq!(found.criteria[0].points.reading(), None);
        let nothing = report(&[], &[]);
        assert_eq!(nothing.score.bins.len(), 1);
        assert!(nothing.criteria.is_empty());
    }

    #[rstest]
    #[case("0", Reading::Stable)]
    #[case("0.0999", Reading::Stable)]
    #[case("0.1", Reading::Watch)]
    #[case("0.25", Reading::Watch)]
    #[case("0.2501", Reading::Shifted)]
    fn the_reading_follows_the_usual_thresholds(#[case] psi: &str, #[case] reading: Reading) {
        assert_eq!(Reading::of(d(psi)), reading);
    }

    /// Customers as (score, points), small ranges so that ties and empty bins are common.
    fn population() -> impl Strategy<Value = Vec<(i64, i64)>> {
        proptest::collection::vec((0i64..30, 0i64..4), 1..60)
    }

    proptest! {
        /// The same customers in both periods are spread the same: PSI 0, every bin of the
        /// scores holds base customers, and the counts add up.
        #[test]
        fn identical_periods_have_a_psi_of_zero(base in population()) {
            let found = report(&base, &base);
            prop_assert_eq!(found.score.psi, Some(Decimal::ZERO));
            prop_assert_eq!(found.criteria[0].points.psi, Some(Decimal::ZERO));
            prop_assert!(found.score.bins.len() <= SCORE_BINS);
            prop_assert!(found.score.bins.iter().all(|bin| bin.base_customers > 0));
            let counted: u64 = found.score.bins.iter().map(|bin| bin.base_customers).sum();
            prop_assert_eq!(counted, base.len() as u64);
        }

        /// PSI is never negative; the criterion's, whose bins do not depend on which period
        /// is the base, is the same both ways (the score's is not: its bins are the base's
        /// deciles).
        #[test]
        fn psi_is_not_negative_and_symmetric_on_shared_bins(
            base in population(),
            compare in population(),
        ) {
            let forward = report(&base, &compare);
            let backward = report(&compare, &base);
            prop_assert!(forward.score.psi.unwrap() >= Decimal::ZERO);
            let there = forward.criteria[0].points.psi.unwrap();
            let back = backward.criteria[0].points.psi.unwrap();
            prop_assert!(there >= Decimal::ZERO);
            // Rounding to four decimals may split two values a hair apart.
            prop_assert!((there - back).abs() <= d("0.0001"), "{} vs {}", there, back);
            let compared: u64 =
                forward.score.bins.iter().map(|bin| bin.compare_customers).sum();
            prop_assert_eq!(compared, compare.len() as u64);
        }
    }
}
