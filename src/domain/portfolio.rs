//! Book-wide figures over customers' current grades: how the book is spread across grades,
//! by count and by the sales and gross profit each grade holds. Pure: the storage streams the
//! grades in, this adds them up exactly.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::{Decimal, RoundingStrategy};

use super::{Refusal, grading::CurrentGrade};

/// What one grade holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GradeShare {
    pub customers: u64,
    pub customer_share_percent: Decimal,
    pub sales: Decimal,
    pub sales_share_percent: Decimal,
    pub gross_profit: Decimal,
    pub gross_profit_share_percent: Decimal,
}

/// The book's spread across grades. Money sums are in one currency: customers whose figures
/// are in another count, but add no money.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distribution {
    pub customers: u64,
    /// `None` when no customer has a currency (no money figures at all).
    pub currency: Option<String>,
    pub sales: Decimal,
    pub gross_profit: Decimal,
    /// By grade name.
    pub grades: BTreeMap<String, GradeShare>,
}

/// Adds grades up as they stream in; [`Tally::finish`] picks the currency and the shares.
#[derive(Debug, Default)]
pub struct Tally {
    customers: BTreeMap<String, u64>,
    /// (grade, currency) -> (sales, gross profit).
    money: BTreeMap<(String, String), (Decimal, Decimal)>,
}

impl Tally {
    pub fn add(&mut self, grade: &CurrentGrade) {
        *self.customers.entry(grade.grade.clone()).or_default() += 1;
        if let Some(currency) = &grade.currency {
            let sums = self
                .money
                .entry((grade.grade.clone(), currency.clone()))
                .or_default();
            sums.0 += grade.sales.unwrap_or_default();
            sums.1 += grade.gross_profit.unwrap_or_default();
        }
    }

    /// The distribution, its money in `currency`, or in the book's only currency when none is
    /// asked for. A book in several currencies needs one chosen.
    pub fn finish(self, currency: Option<&str>) -> Result<Distribution, Refusal> {
        let present: BTreeSet<&String> = self.money.keys().map(|(_, currency)| currency).collect();
        let chosen = match currency {
            Some(asked) => Some(asked.to_owned()),
            None if present.len() > 1 => {
                let listed: Vec<&str> = present.iter().map(|c| c.as_str()).collect();
                return Err(Refusal(format!(
                    "the selected customers' figures are in {}; choose one currency for the \
                     money sums",
                    listed.join(", ")
                )));
            }
            None => present.iter().next().map(|only| (*only).clone()),
        };
        let money_of = |grade: &str| {
            chosen
                .as_ref()
                .and_then(|currency| self.money.get(&(grade.to_owned(), currency.clone())))
                .copied()
                .unwrap_or_default()
        };
        let customers: u64 = self.customers.values().sum();
        let (sales, gross_profit) = self
            .customers
            .keys()
            .map(|grade| money_of(grade))
            .fold((Decimal::ZERO, Decimal::ZERO), |(sales, profit), (s, p)| {
                (sales + s, profit + p)
            });
        let grades = self
            .customers
            .iter()
            .map(|(grade, count)| {
                let (grade_sales, grade_profit) = money_of(grade);
                let share = GradeShare {
                    customers: *count,
                    customer_share_percent: percent(
                        Decimal::from(*count),
                        Decimal::from(customers),
                    ),
                    sales: grade_sales,
                    sales_share_percent: percent(grade_sales, sales),
                    gross_profit: grade_profit,
                    gross_profit_share_percent: percent(grade_profit, gross_profit),
                };
                (grade.clone(), share)
            })
            .collect();
        Ok(Distribution {
            customers,
            currency: chosen,
            sales,
            gross_profit,
            grades,
        })
    }
}

/// `part` of `whole` in percent, two decimals half away from zero; 0 of nothing is 0.
pub fn percent(part: Decimal, whole: Decimal) -> Decimal {
    if whole.is_zero() {
        return Decimal::ZERO;
    }
    (part * Decimal::ONE_HUNDRED / whole)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};

    use super::*;
    use crate::domain::{
        customer::CustomerId,
        grading::{AssessmentId, VersionKey},
    };

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn graded(grade: &str, currency: Option<&str>, sales: &str, profit: &str) -> CurrentGrade {
        let day = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        CurrentGrade {
            customer: CustomerId::generate(),
            assessment: AssessmentId::generate(),
            model_version: VersionKey {
                model: "m".to_owned(),
                version: 1,
            },
            grade: grade.to_owned(),
            total_score: d("50"),
            credit_limit: None,
            currency: currency.map(str::to_owned),
            payment_terms_days: 0,
            service_level: String::new(),
            review_required: false,
            assess_time: DateTime::<Utc>::UNIX_EPOCH,
            as_of: day,
            valid_until: day,
            sales: Some(d(sales)),
            gross_profit: Some(d(profit)),
        }
    }

    #[test]
    fn shares_of_customers_sales_and_profit_per_grade() {
        let mut tally = Tally::default();
        tally.add(&graded("A", Some("CNY"), "800", "200"));
        tally.add(&graded("B", Some("CNY"), "150", "30"));
        tally.add(&graded("B", Some("CNY"), "50", "10"));
        let distribution = tally.finish(None).unwrap();
        assert_eq!(distribution.customers, 3);
        assert_eq!(distribution.currency.as_deref(), Some("CNY"));
        assert_eq!(
            (distribution.sales, distribution.gross_profit),
            (d("1000"), d("240"))
        );
        let a = &distribution.grades["A"];
        assert_eq!(
            (a.customers, a.customer_share_percent, a.sales_share_percent),
            (1, d("33.33"), d("80"))
        );
        assert_eq!(a.gross_profit_share_percent, d("83.33"));
        let b = &distribution.grades["B"];
        assert_eq!((b.customer_share_percent, b.sales), (d("66.67"), d("200")));
    }

    #[test]
    fn several_currencies_need_one_chosen_and_others_add_no_money() {
        let mut tally = Tally::default();
        tally.add(&graded("A", Some("CNY"), "100", "10"));
        tally.add(&graded("A", Some("USD"), "7", "1"));
        tally.add(&graded("C", None, "0", "0"));
        let mut again = Tally::default();
        again.add(&graded("A", Some("CNY"), "100", "10"));
        again.add(&graded("A", Some("USD"), "7", "1"));
        let refused = again.finish(None).unwrap_err();
        assert!(refused.0.contains("CNY, USD"), "{refused}");
        let usd = tally.finish(Some("USD")).unwrap();
        assert_eq!((usd.customers, usd.sales), (3, d("7")));
        assert_eq!(usd.grades["C"].sales, Decimal::ZERO);
    }

    #[test]
    fn an_empty_book_has_no_shares() {
        let distribution = Tally::default().finish(None).unwrap();
        assert_eq!(distribution, Distribution::default());
        assert_eq!(percent(d("5"), Decimal::ZERO), Decimal::ZERO);
    }
}
