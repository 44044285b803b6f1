//! What a grade means for the customer: a credit limit rule, payment terms and a service
//! level, and the credit recommendation the rule gives for one snapshot. Money stays in exact
//! decimals from the figures to the limit.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::engine::round2;
use crate::domain::figures::FigureSet;

/// The treatment a grade earns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradePolicy {
    pub credit_limit: CreditLimitRule,
    pub payment_terms_days: u32,
    /// Free text such as "key account manager"; the model decides the words.
    pub service_level: String,
}

/// A limit of some months of average purchases, capped by shares of net assets and revenue
/// when those are known, rounded down to a round amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditLimitRule {
    #[serde(with = "super::number")]
    pub months_of_purchases: Decimal,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::number::option"
    )]
    pub cap_percent_of_net_assets: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::number::option"
    )]
    pub cap_percent_of_revenue: Option<Decimal>,
    /// The limit is a multiple of this amount (1000 gives 249000, not 249999.99).
    #[serde(with = "super::number")]
    pub round_down_to: Decimal,
}

/// The credit a grade's policy grants for one snapshot, with the figures that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRecommendation {
    pub grade: String,
    pub credit_limit: Decimal,
    /// Average monthly purchases and where they came from; `None` when neither is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_purchases: Option<MonthlyPurchases>,
    /// The caps that lowered the limit, in the order applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caps_applied: Vec<AppliedCap>,
    /// Why the limit is 0, when it is for a reason other than arithmetic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero_reason: Option<ZeroLimitReason>,
    pub payment_terms_days: u32,
    pub service_level: String,
}

/// The purchases a limit is measured in. The limit is computed from the annual amount
/// (annual × months / 12) so that 1 200 000 a year for 3 months is exactly 300 000.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyPurchases {
    pub source: PurchaseSource,
    pub annual: Decimal,
    /// annual / 12 to the cent, for the reader.
    pub monthly_average: Decimal,
}

/// Sales to us for customers who buy; the stated budget for prospects who do not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseSource {
    SalesLast12Months,
    AnnualPurchaseBudget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCap {
    pub kind: CapKind,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapKind {
    NetAssets,
    Revenue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroLimitReason {
    /// Knock-out rules that block credit fired; their keys.
    CreditBlocked(Vec<String>),
    /// Neither sales in the last 12 months nor an annual purchase budget is known.
    NoPurchaseFigures,
}

const MONTHS_PER_YEAR: Decimal = Decimal::from_parts(12, 0, 0, false, 0);
const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

impl GradePolicy {
    /// The credit this policy grants for `figures`; `blocked_by` names the knock-outs that
    /// block credit, which make the limit 0 whatever the figures say.
    pub fn recommend(
        &self,
        grade: &str,
        figures: &FigureSet,
        blocked_by: Vec<String>,
    ) -> CreditRecommendation {
        let rule = &self.credit_limit;
        let monthly_purchases = monthly_purchases(figures);
        let mut caps_applied = Vec::new();
        let mut zero_reason = None;
        let credit_limit = if !blocked_by.is_empty() {
            zero_reason = Some(ZeroLimitReason::CreditBlocked(blocked_by));
            Decimal::ZERO
        } else if let Some(monthly) = &monthly_purchases {
            let mut limit =
                (monthly.annual * rule.months_of_purchases / MONTHS_PER_YEAR).max(Decimal::ZERO);
            let caps = [
                (
                    CapKind::NetAssets,
                    rule.cap_percent_of_net_assets,
                    figures.net_assets,
                ),
                (
                    CapKind::Revenue,
                    rule.cap_percent_of_revenue,
                    figures.annual_revenue,
                ),
            ];
            for (kind, percent, base) in caps {
                let (Some(percent), Some(base)) = (percent, base) else {
                    continue;
                };
                let cap = (base * percent / HUNDRED).max(Decimal::ZERO);
                if cap < limit {
                    limit = cap;
                    caps_applied.push(AppliedCap { kind, amount: cap });
                }
            }
            round_down(limit, rule.round_down_to)
        } else {
            zero_reason = Some(ZeroLimitReason::NoPurchaseFigures);
            Decimal::ZERO
        };
        CreditRecommendation {
            grade: grade.to_owned(),
            credit_limit,
            monthly_purchases,
            caps_applied,
            zero_reason,
            payment_terms_days: self.payment_terms_days,
            service_level: self.service_level.clone(),
        }
    }
}

fn monthly_purchases(figures: &FigureSet) -> Option<MonthlyPurchases> {
    let (source, annual) = match (figures.sales_last_12_months, figures.annual_purchase_budget) {
        (Some(sales), _) => (PurchaseSource::SalesLast12Months, sales),
        (None, Some(budget)) => (PurchaseSource::AnnualPurchaseBudget, budget),
        (None, None) => return None,
    };
    Some(MonthlyPurchases {
        source,
        annual,
        monthly_average: round2(annual / MONTHS_PER_YEAR),
    })
}

/// Down to a multiple of `step`; to the cent when the step is not positive.
fn round_down(amount: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return amount.round_dp_with_strategy(2, RoundingStrategy::ToZero);
    }
    (amount / step).floor() * step
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// 3 months of purchases, capped at 20 % of net assets and 10 % of revenue, to the 1000.
    fn policy() -> GradePolicy {
        GradePolicy {
            credit_limit: CreditLimitRule {
                months_of_purchases: d("3"),
                cap_percent_of_net_assets: Some(d("20")),
                cap_percent_of_revenue: Some(d("10")),
                round_down_to: d("1000"),
            },
            payment_terms_days: 60,
            service_level: "key account".into(),
        }
    }

    #[test]
    fn the_limit_is_months_of_average_purchases_rounded_down() {
        let figures = FigureSet {
            sales_last_12_months: Some(d("1000000")),
            ..FigureSet::default()
        };
        let credit = policy().recommend("B", &figures, vec![]);
        // 1 000 000 × 3 / 12 = 250 000 exactly (not 83 333.33... × 3 = 249 999.99...).
        assert_eq!(credit.credit_limit, d("250000"));
        let monthly = credit.monthly_purchases.unwrap();
        assert_eq!(monthly.source, PurchaseSource::SalesLast12Months);
        assert_eq!(monthly.monthly_average, d("83333.33"));
        assert_eq!(
            (credit.payment_terms_days, credit.service_level.as_str()),
            (60, "key account")
        );
    }

    #[test]
    fn the_limit_is_rounded_down_to_the_policy_step() {
        let figures = FigureSet {
            sales_last_12_months: Some(d("1234567")),
            ..FigureSet::default()
        };
        // 1 234 567 × 3 / 12 = 308 641.75, down to a multiple of 1000.
        let credit = policy().recommend("B", &figures, vec![]);
        assert_eq!(credit.credit_limit, d("308000"));
    }

    #[test]
    fn a_prospect_without_sales_is_limited_by_its_budget() {
        let figures = FigureSet {
            annual_purchase_budget: Some(d("120000")),
            ..FigureSet::default()
        };
        let credit = policy().recommend("C", &figures, vec![]);
        // 120 000 / 12 * 3 = 30 000.
        assert_eq!(credit.credit_limit, d("30000"));
        assert_eq!(
            credit.monthly_purchases.unwrap().source,
            PurchaseSource::AnnualPurchaseBudget
        );
    }

    #[test]
    fn no_purchase_figures_give_no_limit_and_say_so() {
        let credit = policy().recommend("C", &FigureSet::default(), vec![]);
        assert_eq!(credit.credit_limit, Decimal::ZERO);
        assert_eq!(credit.zero_reason, Some(ZeroLimitReason::NoPurchaseFigures));
    }

    #[test]
    fn the_net_assets_cap_applies_when_net_assets_are_known() {
        let figures = FigureSet {
            sales_last_12_months: Some(d("1200000")),
            net_assets: Some(d("1234567")),
            ..FigureSet::default()
        };
        let credit = policy().recommend("B", &figures, vec![]);
        // 300 000 uncapped; 20 % of 1 234 567 = 246 913.4, down to 246 000.
        assert_eq!(credit.credit_limit, d("246000"));
        assert_eq!(
            credit.caps_applied,
            vec![AppliedCap {
                kind: CapKind::NetAssets,
                amount: d("246913.4")
            }]
        );
    }

    #[test]
    fn the_revenue_cap_applies_when_it_is_the_lower_one() {
        let figures = FigureSet {
            sales_last_12_months: Some(d("1200000")),
            net_assets: Some(d("10000000")),
            annual_revenue: Some(d("1500000")),
            ..FigureSet::default()
        };
        let credit = policy().recommend("B", &figures, vec![]);
        // 300 000 uncapped; net assets cap 2 000 000 does not bind; 10 % of revenue = 150 000.
        assert_eq!(credit.credit_limit, d("150000"));
        assert_eq!(credit.caps_applied.len(), 1);
        assert_eq!(credit.caps_applied[0].kind, CapKind::Revenue);
    }

    #[test]
    fn negative_net_assets_leave_no_credit() {
        let figures = FigureSet {
            sales_last_12_months: Some(d("1200000")),
            net_assets: Some(d("-5")),
            ..FigureSet::default()
        };
        assert_eq!(
            policy().recommend("C", &figures, vec![]).credit_limit,
            Decimal::ZERO
        );
    }

    #[test]
    fn a_blocking_knock_out_makes_the_limit_zero_and_is_named() {
        let figures = FigureSet {
            sales_last_12_months: Some(d("1200000")),
            ..FigureSet::default()
        };
        let credit = policy().recommend("D", &figures, vec!["rating_d".into()]);
        assert_eq!(credit.credit_limit, Decimal::ZERO);
        assert_eq!(
            credit.zero_reason,
            Some(ZeroLimitReason::CreditBlocked(vec!["rating_d".into()]))
        );
    }

    #[test]
    fn a_step_that_is_not_positive_rounds_down_to_the_cent() {
        assert_eq!(round_down(d("1234.5678"), Decimal::ZERO), d("1234.56"));
        assert_eq!(round_down(d("1234.5678"), d("0.05")), d("1234.55"));
    }
}
