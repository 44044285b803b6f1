//! Book-wide figures over customers' current grades: how the book is spread across grades,
//! by count and by the sales and gross profit each grade holds, and the 20/80 check (who
//! holds the sales, and whether the top grades hold them). Pure: the storage streams the
//! grades in, this adds them up exactly.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{
    Refusal,
    customer::CustomerId,
    figures::FigureSet,
    grading::{CurrentGrade, sales_and_gross_profit},
    scoring::engine::round2,
};

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

/// A customer's grade as it stood at a past time.
#[derive(Debug, Clone, PartialEq)]
pub struct PastGrade {
    pub customer: CustomerId,
    /// The grade of its newest assessment before then.
    pub computed_grade: String,
    /// The grade of the override that applied then, if one did.
    pub override_grade: Option<String>,
    /// The currency of the figures graded.
    pub currency: Option<String>,
    /// The figures that assessment graded.
    pub figures: FigureSet,
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
/// Each customer counts under the grade that counts at `now` (an applying override's).
#[derive(Debug, Default)]
pub struct Tally {
    now: DateTime<Utc>,
    customers: BTreeMap<String, u64>,
    /// (grade, currency) -> (sales, gross profit).
    money: BTreeMap<(String, String), (Decimal, Decimal)>,
}

impl Tally {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now,
            ..Self::default()
        }
    }

    /// Counts a current grade under the grade that counts at the tally's time.
    pub fn add(&mut self, grade: &CurrentGrade) {
        self.add_graded(
            grade.effective_grade(self.now),
            grade.currency.as_deref(),
            grade.sales,
            grade.gross_profit,
        );
    }

    /// Counts a past grade under the grade that counted then.
    pub fn add_past(&mut self, past: &PastGrade) {
        let (sales, gross_profit) = sales_and_gross_profit(&past.figures);
        self.add_graded(
            past.override_grade
                .as_deref()
                .unwrap_or(&past.computed_grade),
            past.currency.as_deref(),
            sales,
            gross_profit,
        );
    }

    /// Counts a customer under `grade`, with the sales and gross profit of its figures.
    pub fn add_graded(
        &mut self,
        grade: &str,
        currency: Option<&str>,
        sales: Option<Decimal>,
        gross_profit: Option<Decimal>,
    ) {
        *self.customers.entry(grade.to_owned()).or_default() += 1;
        if let Some(currency) = currency {
            let sums = self
                .money
                .entry((grade.to_owned(), currency.to_owned()))
                .or_default();
            sums.0 += sales.unwrap_or_default();
            sums.1 += gross_profit.unwrap_or_default();
        }
    }

    /// The distribution, its money in `currency`, or in the book's only currency when none is
    /// asked for. A book in several currencies needs one chosen.
    pub fn finish(self, currency: Option<&str>) -> Result<Distribution, Refusal> {
        let present: BTreeSet<&String> = self.money.keys().map(|(_, currency)| currency).collect();
        let chosen = choose_currency(present, currency, "for the money sums")?;
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

/// One customer as the Pareto check ranks it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ranked {
    customer: CustomerId,
    grade: String,
    sales: Decimal,
    gross_profit: Decimal,
}

/// The ABC cut of customers by sales: the few that make up 80 % of sales, the next 15 %, the
/// last 5 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AbcClass {
    A,
    B,
    C,
}

/// What the grades up to one (best first) hold together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CumulativeShare {
    /// The last grade included: "A", then "B" meaning A and B, ...
    pub up_to_grade: String,
    pub customers: u64,
    pub customer_share_percent: Decimal,
    pub sales_share_percent: Decimal,
    pub gross_profit_share_percent: Decimal,
}

/// One class of the ABC cut, and how its customers are graded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbcShare {
    pub class: AbcClass,
    pub customers: u64,
    pub sales_share_percent: Decimal,
    /// Customers of the class by grade name.
    pub by_grade: BTreeMap<String, u64>,
}

/// The 20/80 check of a book in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParetoReport {
    pub customers: u64,
    /// Customers whose figures are in another currency, left out of the ranking.
    pub customers_in_other_currencies: u64,
    pub currency: Option<String>,
    pub sales: Decimal,
    pub gross_profit: Decimal,
    /// The top fifth by sales (rounded up: 1 of 3 customers).
    pub top_fifth_customers: u64,
    pub top_fifth_sales_share_percent: Decimal,
    pub top_fifth_gross_profit_share_percent: Decimal,
    pub top_grades: Vec<CumulativeShare>,
    pub abc: Vec<AbcShare>,
}

/// Collects grades for the 20/80 check; [`ParetoTally::finish`] ranks them.
#[derive(Debug, Default, Clone)]
pub struct ParetoTally {
    /// Each customer ranks under the grade that counts at this time.
    now: DateTime<Utc>,
    /// By currency; customers without any money figure under `None`, with no sales.
    rows: BTreeMap<Option<String>, Vec<Ranked>>,
}

impl ParetoTally {
    pub fn at(now: DateTime<Utc>) -> Self {
        Self {
            now,
            ..Self::default()
        }
    }

    pub fn add(&mut self, grade: &CurrentGrade) {
        self.rows
            .entry(grade.currency.clone())
            .or_default()
            .push(Ranked {
                customer: grade.customer,
                grade: grade.effective_grade(self.now).to_owned(),
                sales: grade.sales.unwrap_or_default(),
                gross_profit: grade.gross_profit.unwrap_or_default(),
            });
    }

    /// Ranks the customers in `currency` (or the only currency present) with those that have
    /// no money figures at all, by sales, largest first (ties in registration order).
    pub fn finish(mut self, currency: Option<&str>) -> Result<ParetoReport, Refusal> {
        let present: BTreeSet<&String> = self.rows.keys().flatten().collect();
        let chosen = choose_currency(present, currency, "to rank them by sales")?;
        let mut ranked = self.rows.remove(&None).unwrap_or_default();
        if let Some(chosen) = &chosen {
            ranked.extend(self.rows.remove(&Some(chosen.clone())).unwrap_or_default());
        }
        let customers_in_other_currencies = self.rows.values().map(|rows| rows.len() as u64).sum();
        ranked.sort_by(|a, b| b.sales.cmp(&a.sales).then(a.customer.cmp(&b.customer)));
        let customers = ranked.len() as u64;
        let sales: Decimal = ranked.iter().map(|row| row.sales).sum();
        let gross_profit: Decimal = ranked.iter().map(|row| row.gross_profit).sum();

        let top_fifth = ranked.len().div_ceil(5);
        let top = &ranked[..top_fifth];
        let top_sales: Decimal = top.iter().map(|row| row.sales).sum();
        let top_profit: Decimal = top.iter().map(|row| row.gross_profit).sum();

        let mut by_grade: BTreeMap<&str, (u64, Decimal, Decimal)> = BTreeMap::new();
        for row in &ranked {
            let entry = by_grade.entry(row.grade.as_str()).or_default();
            entry.0 += 1;
            entry.1 += row.sales;
            entry.2 += row.gross_profit;
        }
        let mut running = (0_u64, Decimal::ZERO, Decimal::ZERO);
        let top_grades = by_grade
            .iter()
            .map(|(grade, (count, grade_sales, grade_profit))| {
                running = (
                    running.0 + count,
                    running.1 + grade_sales,
                    running.2 + grade_profit,
                );
                CumulativeShare {
                    up_to_grade: (*grade).to_owned(),
                    customers: running.0,
                    customer_share_percent: percent(running.0.into(), customers.into()),
                    sales_share_percent: percent(running.1, sales),
                    gross_profit_share_percent: percent(running.2, gross_profit),
                }
            })
            .collect();

        Ok(ParetoReport {
            customers,
            customers_in_other_currencies,
            currency: chosen,
            sales,
            gross_profit,
            top_fifth_customers: top_fifth as u64,
            top_fifth_sales_share_percent: percent(top_sales, sales),
            top_fifth_gross_profit_share_percent: percent(top_profit, gross_profit),
            top_grades,
            abc: abc_cut(&ranked, sales),
        })
    }
}

/// Walks the customers largest first: a customer is class A while the sales before it are
/// under 80 % of the total, B while under 95 %, C after. With no sales at all everyone is C.
fn abc_cut(ranked: &[Ranked], total: Decimal) -> Vec<AbcShare> {
    let mut classes: BTreeMap<AbcClass, AbcShare> = BTreeMap::new();
    let mut before = Decimal::ZERO;
    for row in ranked {
        let class = if total.is_zero() {
            AbcClass::C
        } else if before * Decimal::ONE_HUNDRED < total * Decimal::from(80) {
            AbcClass::A
        } else if before * Decimal::ONE_HUNDRED < total * Decimal::from(95) {
            AbcClass::B
        } else {
            AbcClass::C
        };
        before += row.sales;
        let share = classes.entry(class).or_insert_with(|| AbcShare {
            class,
            customers: 0,
            sales_share_percent: Decimal::ZERO,
            by_grade: BTreeMap::new(),
        });
        share.customers += 1;
        share.sales_share_percent += row.sales;
        *share.by_grade.entry(row.grade.clone()).or_default() += 1;
    }
    classes
        .into_values()
        .map(|mut share| {
            share.sales_share_percent = percent(share.sales_share_percent, total);
            share
        })
        .collect()
}

/// The currency money is added up in: the one `asked` for, else the only one `present`; a
/// book in several needs one chosen (`purpose` says what for).
fn choose_currency(
    present: BTreeSet<&String>,
    asked: Option<&str>,
    purpose: &str,
) -> Result<Option<String>, Refusal> {
    match asked {
        Some(asked) => Ok(Some(asked.to_owned())),
        None if present.len() > 1 => {
            let listed: Vec<&str> = present.iter().map(|c| c.as_str()).collect();
            Err(Refusal(format!(
                "the selected customers' figures are in {}; choose one currency {purpose}",
                listed.join(", ")
            )))
        }
        None => Ok(present.into_iter().next().cloned()),
    }
}

/// How customers moved between grades from one date to another (or from one model to
/// another): a matrix of counts. Callers that list the movers keep them as [`Migration::add`]
/// reports them, so memory stays flat however many move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migration {
    /// (grade before, grade after) -> customers; `None` when the customer had no grade
    /// before.
    pub cells: BTreeMap<(Option<String>, Option<String>), u64>,
    pub upgraded: u64,
    pub downgraded: u64,
    pub unchanged: u64,
    /// Graded after but not before.
    pub newly_graded: u64,
}

impl Migration {
    /// Adds a customer's grade before and after; true when it moved from one grade to
    /// another. Grades compare by name (A before B), the best first.
    pub fn add(&mut self, before: Option<String>, after: Option<String>) -> bool {
        let moved = match (&before, &after) {
            (Some(from), Some(to)) if from == to => {
                self.unchanged += 1;
                false
            }
            (Some(from), Some(to)) => {
                if to < from {
                    self.upgraded += 1;
                } else {
                    self.downgraded += 1;
                }
                true
            }
            (None, Some(_)) => {
                self.newly_graded += 1;
                false
            }
            (_, None) => false,
        };
        *self.cells.entry((before, after)).or_default() += 1;
        moved
    }
}

/// `part` of `whole` in percent, two decimals half away from zero; 0 of nothing is 0.
pub fn percent(part: Decimal, whole: Decimal) -> Decimal {
    if whole.is_zero() {
        return Decimal::ZERO;
    }
    round2(part * Decimal::ONE_HUNDRED / whole)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::NaiveDate;

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
            grade_override: None,
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

    /// Ten customers with sales 1000, 500, 200, 100, 80, 50, 30, 20, 15, 5 (total 2000), the
    /// first three A, the next three B, the rest C; gross profit a tenth of sales.
    fn ten() -> ParetoTally {
        let mut tally = ParetoTally::default();
        let sales = [1000, 500, 200, 100, 80, 50, 30, 20, 15, 5];
        for (index, amount) in sales.iter().enumerate() {
            let grade = ["A", "A", "A", "B", "B", "B", "C", "C", "C", "C"][index];
            let amount = Decimal::from(*amount);
            let profit = (amount / Decimal::TEN).to_string();
            tally.add(&graded(grade, Some("CNY"), &amount.to_string(), &profit));
        }
        tally
    }

    #[test]
    fn the_top_fifth_and_the_top_grades_hold_their_shares() {
        let report = ten().finish(None).unwrap();
        assert_eq!((report.customers, report.sales), (10, d("2000")));
        // The top two: 1000 + 500 = 1500 of 2000.
        assert_eq!(report.top_fifth_customers, 2);
        assert_eq!(report.top_fifth_sales_share_percent, d("75"));
        assert_eq!(report.top_fifth_gross_profit_share_percent, d("75"));
        let cumulative: Vec<(&str, u64, Decimal)> = report
            .top_grades
            .iter()
            .map(|s| (s.up_to_grade.as_str(), s.customers, s.sales_share_percent))
            .collect();
        // A: 1700 of 2000; A and B: 1930; all: 2000.
        assert_eq!(
            cumulative,
            vec![("A", 3, d("85")), ("B", 6, d("96.5")), ("C", 10, d("100"))]
        );
    }

    #[test]
    fn the_abc_cut_takes_customers_until_80_then_95_percent() {
        let report = ten().finish(None).unwrap();
        // Before each: 0, 1000 (50 %), 1500 (75 %) -> A; 1700 (85 %), 1800 (90 %) -> B;
        // 1880 (94 %) -> B; 1930 (96.5 %) and on -> C.
        let cut: Vec<(AbcClass, u64, Decimal)> = report
            .abc
            .iter()
            .map(|s| (s.class, s.customers, s.sales_share_percent))
            .collect();
        assert_eq!(
            cut,
            vec![
                (AbcClass::A, 3, d("85")),
                (AbcClass::B, 3, d("11.5")),
                (AbcClass::C, 4, d("3.5"))
            ]
        );
        assert_eq!(
            report.abc[1].by_grade,
            BTreeMap::from([("B".to_owned(), 3)])
        );
    }

    #[test]
    fn customers_in_other_currencies_are_left_out_of_the_ranking() {
        let mut tally = ten();
        tally.add(&graded("A", Some("USD"), "999999", "1"));
        tally.add(&graded("D", None, "0", "0"));
        assert!(tally.clone().finish(None).is_err());
        let report = tally.finish(Some("CNY")).unwrap();
        assert_eq!(
            (report.customers, report.customers_in_other_currencies),
            (11, 1)
        );
        assert_eq!(report.top_fifth_customers, 3);
    }

    #[test]
    fn a_migration_counts_movers_both_ways_and_newcomers() {
        let mut migration = Migration::default();
        let moved = [
            migration.add(Some("B".into()), Some("A".into())),
            migration.add(Some("B".into()), Some("D".into())),
            migration.add(Some("C".into()), Some("C".into())),
            migration.add(None, Some("B".into())),
        ];
        assert_eq!(moved, [true, true, false, false]);
        assert_eq!(
            (
                migration.upgraded,
                migration.downgraded,
                migration.unchanged,
                migration.newly_graded
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(migration.cells[&(Some("B".into()), Some("D".into()))], 1);
        assert_eq!(migration.cells[&(None, Some("B".into()))], 1);
    }

    #[test]
    fn an_empty_book_has_no_shares() {
        let distribution = Tally::default().finish(None).unwrap();
        assert_eq!(distribution, Distribution::default());
        assert_eq!(percent(d("5"), Decimal::ZERO), Decimal::ZERO);
    }
}
