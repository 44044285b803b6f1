//! A customer's figures: one dated snapshot of every input the scoring models read, and the
//! units and ranges each input obeys. Every input is optional; a missing one is normal.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{customer::CustomerId, invalid::InvalidValue};

/// A closed range of acceptable values for a measured (floating-point) input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub min: f64,
    pub max: f64,
    pub unit: &'static str,
}

impl Bounds {
    /// Accepts a finite value within the range, both ends included.
    pub fn check(&self, value: f64) -> Result<f64, InvalidValue> {
        if value.is_finite() && (self.min..=self.max).contains(&value) {
            return Ok(value);
        }
        Err(InvalidValue::new(format!(
            "must be {} to {}{}, got {value}",
            self.min, self.max, self.unit
        )))
    }
}

/// A closed range of acceptable values for a counted (integer) input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntBounds {
    pub min: i64,
    pub max: i64,
}

impl IntBounds {
    pub fn check<T: Into<i64> + Copy>(&self, value: T) -> Result<T, InvalidValue> {
        if (self.min..=self.max).contains(&value.into()) {
            return Ok(value);
        }
        Err(InvalidValue::new(format!(
            "must be {} to {}, got {}",
            self.min,
            self.max,
            value.into()
        )))
    }
}

/// A share of a whole: 0-100 %.
pub const PERCENT: Bounds = Bounds {
    min: 0.0,
    max: 100.0,
    unit: " %",
};
/// Debt over assets exceeds 100 % for an insolvent company, so the range is wider.
pub const DEBT_TO_ASSET_PERCENT: Bounds = Bounds {
    min: 0.0,
    max: 1000.0,
    unit: " %",
};
pub const CURRENT_RATIO: Bounds = Bounds {
    min: 0.0,
    max: 1000.0,
    unit: "",
};
/// A loss can exceed revenue many times over; a margin cannot exceed 100 %.
pub const NET_PROFIT_MARGIN_PERCENT: Bounds = Bounds {
    min: -1000.0,
    max: 100.0,
    unit: " %",
};
pub const GROSS_MARGIN_PERCENT: Bounds = Bounds {
    min: -100.0,
    max: 100.0,
    unit: " %",
};
/// A company cannot shrink by more than all of its revenue.
pub const REVENUE_GROWTH_PERCENT: Bounds = Bounds {
    min: -100.0,
    max: 10000.0,
    unit: " %",
};
pub const COOPERATION_YEARS: Bounds = Bounds {
    min: 0.0,
    max: 200.0,
    unit: " years",
};

/// A count of people, orders or projects.
pub const COUNT: IntBounds = IntBounds {
    min: 0,
    max: i64::MAX,
};
/// Ten years: anything longer is a data error, not an overdue invoice.
pub const OVERDUE_DAYS: IntBounds = IntBounds { min: 0, max: 3660 };
/// A staff assessment on the 1 (worst) to 5 (best) scale.
pub const SCALE_1_TO_5: IntBounds = IntBounds { min: 1, max: 5 };

/// A credit agency's rating, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CreditRating {
    #[serde(rename = "AAA")]
    Aaa,
    #[serde(rename = "AA")]
    Aa,
    A,
    #[serde(rename = "BBB")]
    Bbb,
    #[serde(rename = "BB")]
    Bb,
    B,
    #[serde(rename = "CCC")]
    Ccc,
    #[serde(rename = "CC")]
    Cc,
    C,
    D,
}

impl CreditRating {
    /// Every rating, best first.
    pub const ALL: [Self; 10] = [
        Self::Aaa,
        Self::Aa,
        Self::A,
        Self::Bbb,
        Self::Bb,
        Self::B,
        Self::Ccc,
        Self::Cc,
        Self::C,
        Self::D,
    ];

    /// The agency's spelling (`AAA` ... `D`), as stored and as models name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aaa => "AAA",
            Self::Aa => "AA",
            Self::A => "A",
            Self::Bbb => "BBB",
            Self::Bb => "BB",
            Self::B => "B",
            Self::Ccc => "CCC",
            Self::Cc => "CC",
            Self::C => "C",
            Self::D => "D",
        }
    }
}

/// Every input of one snapshot. Money amounts are exact decimals in the snapshot's currency.
/// Unknown fields are ignored when reading, so a server one release behind can still read a
/// snapshot that a newer one stored with an input it does not know yet (rolling deploys).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FigureSet {
    // Business scale
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub annual_revenue: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_count: Option<i64>,
    // Financial condition
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debt_to_asset_ratio_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_profit_margin_percent: Option<f64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub operating_cash_flow: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub net_assets: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub financial_statements_provided: Option<bool>,
    // External credit
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_rating: Option<CreditRating>,
    // Industry position
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_share_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_strength: Option<i32>,
    // Purchasing power
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub annual_purchase_budget: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_frequency_per_year: Option<i32>,
    // Sales contribution
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub sales_last_12_months: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_margin_percent: Option<f64>,
    // Cooperation history / loyalty
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooperation_years: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_projects: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_purchase_rate_percent: Option<f64>,
    // Reputation (payment behaviour)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_time_payment_rate_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longest_overdue_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_fulfilment_rate_percent: Option<f64>,
    // Growth potential
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue_growth_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_outlook: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub innovation_capability: Option<i32>,
    // Strategic value
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategic_fit: Option<i32>,
}

/// One snapshot as a caller states it: the inputs as of a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FiguresSnapshot {
    pub as_of: NaiveDate,
    /// Where the figures came from, free text.
    pub source: String,
    /// The ISO 4217 code all money inputs are in; `None` when the snapshot has no money input.
    pub currency: Option<String>,
    pub figures: FigureSet,
}

/// A snapshot as stored: never changed once recorded; a later revision of the same date
/// supersedes it and it stays as history.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedFigures {
    pub customer: CustomerId,
    pub snapshot: FiguresSnapshot,
    /// 1 for the first snapshot of its date, then 2, 3, ...
    pub revision: i32,
    pub superseded: bool,
    pub record_time: DateTime<Utc>,
}

/// Accepts an as-of date that has already begun somewhere on Earth: not after tomorrow (UTC).
pub fn validate_as_of(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, InvalidValue> {
    let latest = today.checked_add_days(Days::new(1)).unwrap_or(today);
    if date > latest {
        return Err(InvalidValue::new(format!(
            "must not be in the future, got {date}"
        )));
    }
    if date.year() < 1900 {
        return Err(InvalidValue::new("must not be before 1900-01-01"));
    }
    Ok(date)
}

/// Accepts an ISO 4217 alphabetic currency code such as `CNY`.
pub fn validate_currency(code: &str) -> Result<String, InvalidValue> {
    match iso_currency::Currency::from_code(code) {
        Some(currency) => Ok(currency.code().to_owned()),
        None => Err(InvalidValue::new(format!(
            "must be an ISO 4217 currency code such as CNY or EUR, got {code:?}"
        ))),
    }
}

/// Accepts an amount that cannot be negative (revenue, budgets, sales).
pub fn non_negative(amount: Decimal) -> Result<Decimal, InvalidValue> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(InvalidValue::new(format!(
            "must not be negative, got {amount}"
        )));
    }
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rstest::rstest;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[rstest]
    #[case(0.0, true)]
    #[case(100.0, true)]
    #[case(-0.001, false)]
    #[case(100.001, false)]
    #[case(f64::NAN, false)]
    #[case(f64::INFINITY, false)]
    fn percentages_are_accepted_from_0_to_100_inclusive(#[case] value: f64, #[case] ok: bool) {
        assert_eq!(PERCENT.check(value).is_ok(), ok);
    }

    #[rstest]
    #[case(0, false)]
    #[case(1, true)]
    #[case(5, true)]
    #[case(6, false)]
    fn staff_scales_run_from_1_to_5(#[case] value: i32, #[case] ok: bool) {
        assert_eq!(SCALE_1_TO_5.check(value).is_ok(), ok);
    }

    #[test]
    fn a_negative_count_is_refused_with_the_range() {
        let error = COUNT.check(-1_i64).err().map(|e| e.0).unwrap_or_default();
        assert!(error.starts_with("must be 0 to"), "{error}");
    }

    #[test]
    fn an_as_of_date_of_tomorrow_is_accepted_but_not_the_day_after() {
        let today = date(2026, 11, 23);
        assert!(validate_as_of(date(2026, 11, 24), today).is_ok());
        assert!(validate_as_of(date(2026, 11, 25), today).is_err());
        assert!(validate_as_of(date(1899, 12, 31), today).is_err());
    }

    #[rstest]
    #[case("CNY", true)]
    #[case("EUR", true)]
    #[case("cny", false)]
    #[case("XYZ", false)]
    #[case("", false)]
    fn currencies_are_iso_4217_codes(#[case] code: &str, #[case] ok: bool) {
        assert_eq!(validate_currency(code).is_ok(), ok);
    }

    #[test]
    fn negative_amounts_are_refused_where_they_make_no_sense() {
        assert!(non_negative(Decimal::new(-1, 2)).is_err());
        assert!(non_negative(Decimal::ZERO).is_ok());
        assert!(non_negative(-Decimal::ZERO).is_ok());
    }

    #[test]
    fn a_rating_is_stored_under_its_agency_spelling() {
        for rating in CreditRating::ALL {
            let json = serde_json::to_string(&rating).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", rating.name()));
        }
    }

    #[test]
    fn an_empty_figure_set_serializes_to_an_empty_object() {
        let json = serde_json::to_string(&FigureSet::default()).unwrap_or_default();
        assert_eq!(json, "{}");
    }

    fn any_rating() -> impl Strategy<Value = CreditRating> {
        prop::sample::select(CreditRating::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn a_figure_set_survives_storage_as_json_exactly(
            revenue in (any::<i64>(), 0u32..=9).prop_map(|(m, s)| Decimal::new(m, s)),
            margin in -100.0f64..=100.0,
            overdue in proptest::option::of(0i32..=3660),
            rating in proptest::option::of(any_rating()),
        ) {
            let figures = FigureSet {
                annual_revenue: Some(revenue),
                gross_margin_percent: Some(margin),
                longest_overdue_days: overdue,
                credit_rating: rating,
                ..FigureSet::default()
            };
            let json = serde_json::to_string(&figures).unwrap_or_default();
            let back: FigureSet = serde_json::from_str(&json).unwrap_or_default();
            prop_assert_eq!(back, figures);
        }
    }
}
