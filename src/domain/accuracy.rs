//! How well scores predicted what happened: for customers graded in a period, whether an
//! outcome (a default, a late payment, churn) followed, and the figures a credit analyst
//! reads: the outcome rate per grade (lower grades should have higher rates), the AUC, the
//! Gini coefficient (2 × AUC − 1) and the Kolmogorov-Smirnov statistic of the score. All
//! computed exactly, with ties handled the standard way (a tie counts half in the AUC; the
//! KS compares the two distributions after each distinct score).

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

/// One graded customer: its score and grade, and whether the outcome followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub score: Decimal,
    pub grade: String,
    pub outcome: bool,
}

/// A grade's customers and how many had the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeRate {
    pub grade: String,
    pub customers: u64,
    pub outcomes: u64,
    /// outcomes / customers, in percent, two decimals.
    pub rate_percent: Decimal,
}

/// The accuracy of a set of observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccuracyReport {
    pub customers: u64,
    pub outcomes: u64,
    /// By grade name, which for the usual A-D is best first.
    pub grades: Vec<GradeRate>,
    /// Pairs of grades (better, worse) where the better grade has the higher rate.
    pub inversions: Vec<(String, String)>,
    /// `None` unless both customers with and without the outcome exist.
    pub discrimination: Option<Discrimination>,
}

/// How well the score separates customers with the outcome from those without, to four
/// decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discrimination {
    /// The chance that a customer without the outcome scored higher than one with it.
    pub auc: Decimal,
    pub gini: Decimal,
    pub ks: Decimal,
}

/// Rates per grade, inversions and discrimination of `observations`.
pub fn accuracy(observations: &[Observation]) -> AccuracyReport {
    let mut by_grade: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for observation in observations {
        let entry = by_grade.entry(observation.grade.as_str()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(observation.outcome);
    }
    let grades: Vec<GradeRate> = by_grade
        .iter()
        .map(|(grade, (customers, outcomes))| GradeRate {
            grade: (*grade).to_owned(),
            customers: *customers,
            outcomes: *outcomes,
            rate_percent: rate_percent(*outcomes, *customers),
        })
        .collect();
    let mut inversions = Vec::new();
    for (index, better) in grades.iter().enumerate() {
        for worse in &grades[index + 1..] {
            // better.outcomes / better.customers > worse.outcomes / worse.customers
            if u128::from(better.outcomes) * u128::from(worse.customers)
                > u128::from(worse.outcomes) * u128::from(better.customers)
            {
                inversions.push((better.grade.clone(), worse.grade.clone()));
            }
        }
    }
    let outcomes = observations.iter().filter(|o| o.outcome).count() as u64;
    AccuracyReport {
        customers: observations.len() as u64,
        outcomes,
        grades,
        inversions,
        discrimination: discrimination(observations),
    }
}

/// `outcomes` of `customers` in percent, two decimals; 0 of nobody is 0.
pub fn rate_percent(outcomes: u64, customers: u64) -> Decimal {
    ratio(i128::from(outcomes), u128::from(customers), 100, 2)
}

fn discrimination(observations: &[Observation]) -> Option<Discrimination> {
    let bad = observations.iter().filter(|o| o.outcome).count() as u128;
    let good = observations.len() as u128 - bad;
    if bad == 0 || good == 0 {
        return None;
    }
    // Scores ascending, each distinct score with its count of goods and bads.
    let mut at_score: BTreeMap<Decimal, (u128, u128)> = BTreeMap::new();
    for observation in observations {
        let entry = at_score.entry(observation.score).or_default();
        if observation.outcome {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
    // AUC = P(good score > bad score) + P(equal) / 2, counted in half-pairs to stay whole.
    let mut half_pairs: u128 = 0;
    let mut bads_below: u128 = 0;
    // KS = max |F_good - F_bad| after each distinct score, compared as fractions over
    // good × bad.
    let (mut goods_so_far, mut bads_so_far, mut widest) = (0_u128, 0_u128, 0_u128);
    for (goods, bads) in at_score.values() {
        half_pairs += goods * (2 * bads_below + bads);
        bads_below += bads;
        goods_so_far += goods;
        bads_so_far += bads;
        widest = widest.max((goods_so_far * bad).abs_diff(bads_so_far * good));
    }
    let pairs = good * bad;
    // Gini = 2 × AUC − 1 = (half_pairs − pairs) / pairs, negative for a score worse than
    // chance.
    let gini_numerator = to_signed(half_pairs) - to_signed(pairs);
    Some(Discrimination {
        auc: ratio(to_signed(half_pairs), 2 * pairs, 1, 4),
        gini: ratio(gini_numerator, pairs, 1, 4),
        ks: ratio(to_signed(widest), pairs, 1, 4),
    })
}

fn to_signed(count: u128) -> i128 {
    i128::try_from(count).unwrap_or(i128::MAX)
}

/// `numerator / denominator × scale`, rounded half away from zero to `dp` decimals. Counts
/// of customers and pairs stay far below what a decimal holds.
fn ratio(numerator: i128, denominator: u128, scale: i128, dp: u32) -> Decimal {
    if denominator == 0 {
        return Decimal::ZERO;
    }
    let exact = Decimal::from_i128_with_scale(numerator.saturating_mul(scale), 0)
        / Decimal::from_i128_with_scale(to_signed(denominator), 0);
    exact.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn seen(score: i64, grade: &str, outcome: bool) -> Observation {
        Observation {
            score: Decimal::from(score),
            grade: grade.to_owned(),
            outcome,
        }
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn a_perfect_score_has_auc_1_and_ks_1() {
        let report = accuracy(&[
            seen(90, "A", false),
            seen(80, "A", false),
            seen(40, "D", true),
        ]);
        let found = report.discrimination.unwrap();
        assert_eq!((found.auc, found.gini, found.ks), (d("1"), d("1"), d("1")));
    }

    #[test]
    fn ties_count_half() {
        // One good and one bad with the same score: AUC 0.5, Gini 0, KS 0.
        let report = accuracy(&[seen(50, "C", false), seen(50, "C", true)]);
        let found = report.discrimination.unwrap();
        assert_eq!(
            (found.auc, found.gini, found.ks),
            (d("0.5"), d("0"), d("0"))
        );
    }

    #[test]
    fn a_hand_worked_case() {
        // Goods 90, 70, 50; bads 70, 30. Pairs good > bad: (90,70) (90,30) (70,30) (50,30)
        // = 4, ties (70,70) = 1 half: AUC = 4.5 / 6 = 0.75, Gini 0.5. After 30: F_bad 1/2,
        // F_good 0; after 50: 1/2, 1/3; after 70: 1, 2/3; so KS = 1/2.
        let report = accuracy(&[
            seen(90, "A", false),
            seen(70, "B", false),
            seen(50, "C", false),
            seen(70, "B", true),
            seen(30, "D", true),
        ]);
        let found = report.discrimination.unwrap();
        assert_eq!(
            (found.auc, found.gini, found.ks),
            (d("0.75"), d("0.5"), d("0.5"))
        );
        let rates: Vec<(&str, u64, u64, Decimal)> = report
            .grades
            .iter()
            .map(|g| (g.grade.as_str(), g.customers, g.outcomes, g.rate_percent))
            .collect();
        assert_eq!(
            rates,
            vec![
                ("A", 1, 0, d("0")),
                ("B", 2, 1, d("50")),
                ("C", 1, 0, d("0")),
                ("D", 1, 1, d("100"))
            ]
        );
        assert_eq!(report.inversions, vec![("B".to_owned(), "C".to_owned())]);
    }

    #[test]
    fn without_both_kinds_there_is_no_discrimination() {
        assert!(accuracy(&[seen(50, "C", false)]).discrimination.is_none());
        assert!(accuracy(&[]).discrimination.is_none());
    }

    proptest! {
        /// The AUC equals its pairwise definition, and stays within 0-1 with KS.
        #[test]
        fn the_auc_is_the_share_of_pairs_ordered_right(
            cases in proptest::collection::vec((0i64..20, any::<bool>()), 2..40)
        ) {
            let observations: Vec<Observation> =
                cases.iter().map(|(score, outcome)| seen(*score, "A", *outcome)).collect();
            let report = accuracy(&observations);
            let goods: Vec<i64> = cases.iter().filter(|c| !c.1).map(|c| c.0).collect();
            let bads: Vec<i64> = cases.iter().filter(|c| c.1).map(|c| c.0).collect();
            match report.discrimination {
                None => prop_assert!(goods.is_empty() || bads.is_empty()),
                Some(found) => {
                    let mut half = 0_u128;
                    for good in &goods {
                        for bad in &bads {
                            half += match good.cmp(bad) {
                                std::cmp::Ordering::Greater => 2,
                                std::cmp::Ordering::Equal => 1,
                                std::cmp::Ordering::Less => 0,
                            };
                        }
                    }
                    let pairs = (goods.len() * bads.len()) as u128;
                    prop_assert_eq!(found.auc, ratio(to_signed(half), 2 * pairs, 1, 4));
                    // Gini is 2 × AUC − 1 of the exact AUC; each is rounded on its own.
                    let from_auc = found.auc * Decimal::TWO - Decimal::ONE;
                    prop_assert!((found.gini - from_auc).abs() <= d("0.0002"));
                    prop_assert!(found.ks >= Decimal::ZERO && found.ks <= Decimal::ONE);
                }
            }
        }
    }
}
