//! Conversions of the contract's common types (timestamps, dates, money) to and from the
//! domain's, with the checks the contract documents.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, prelude::ToPrimitive};

use crate::{
    domain::{InvalidValue, figures::validate_currency},
    proto::google::r#type::{Date, Money},
};

const NANOS_PER_UNIT: i64 = 1_000_000_000;

pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A point in time within the years 1-9999 that `google.protobuf.Timestamp` allows.
pub fn timestamp_from_proto(time: &prost_types::Timestamp) -> Result<DateTime<Utc>, InvalidValue> {
    u32::try_from(time.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(time.seconds, nanos))
        .filter(|time| (1..=9999).contains(&chrono::Datelike::year(time)))
        .ok_or_else(|| InvalidValue::new("must be a valid timestamp between years 1 and 9999"))
}

/// A window of time `[start, end)`; an unset end is open.
pub type TimeWindow = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Reads an optional window `[start_time, end_time)`, each end checked, the end after the
/// start; violations are named after the two fields.
pub fn time_window(
    start: Option<&prost_types::Timestamp>,
    end: Option<&prost_types::Timestamp>,
    violations: &mut super::status::FieldViolations,
) -> Option<TimeWindow> {
    let start = violations.check_optional("start_time", start, timestamp_from_proto);
    let end = violations.check_optional("end_time", end, timestamp_from_proto);
    if let (Some(Some(start)), Some(Some(end))) = (start, end)
        && end <= start
    {
        violations.add("end_time", "must be after start_time");
    }
    start.zip(end)
}

/// A decimal as the contract writes scores, points, weights and shares: exactly two
/// decimals (`"82.00"`, `"33.33"`).
pub fn two_decimals(number: Decimal) -> String {
    format!("{number:.2}")
}

/// A count of customers (or pairs) as the contract's `int64`.
pub fn count_to_proto(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

pub fn date_to_proto(date: NaiveDate) -> Date {
    use chrono::Datelike;
    Date {
        year: date.year(),
        month: i32::try_from(date.month()).unwrap_or(0),
        day: i32::try_from(date.day()).unwrap_or(0),
    }
}

/// A full calendar date in the years 1-9999 that `google.type.Date` allows; partial dates
/// (year 0, month 0 or day 0) are refused because a snapshot is as of one day.
pub fn date_from_proto(date: &Date) -> Result<NaiveDate, InvalidValue> {
    let month = u32::try_from(date.month).ok();
    let day = u32::try_from(date.day).ok();
    month
        .zip(day)
        .and_then(|(month, day)| NaiveDate::from_ymd_opt(date.year, month, day))
        .filter(|_| (1..=9999).contains(&date.year))
        .ok_or_else(|| {
            InvalidValue::new(format!(
                "must be a full calendar date, got {}-{}-{}",
                date.year, date.month, date.day
            ))
        })
}

/// An exact amount and its ISO 4217 currency code.
pub fn money_from_proto(money: &Money) -> Result<(Decimal, String), InvalidValue> {
    let currency = validate_currency(&money.currency_code)?;
    if i64::from(money.nanos).abs() >= NANOS_PER_UNIT {
        return Err(InvalidValue::new(
            "nanos must be between -999999999 and 999999999",
        ));
    }
    if (money.units > 0 && money.nanos < 0) || (money.units < 0 && money.nanos > 0) {
        return Err(InvalidValue::new("units and nanos must have the same sign"));
    }
    let amount = Decimal::from(money.units) + Decimal::new(i64::from(money.nanos), 9);
    Ok((amount.normalize(), currency))
}

pub fn money_to_proto(amount: Decimal, currency: &str) -> Money {
    let units = amount.trunc();
    let nanos = ((amount - units) * Decimal::from(NANOS_PER_UNIT)).round();
    Money {
        currency_code: currency.to_owned(),
        units: units.to_i64().unwrap_or(0),
        nanos: nanos.to_i32().unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn money(units: i64, nanos: i32) -> Money {
        Money {
            currency_code: "CNY".to_owned(),
            units,
            nanos,
        }
    }

    #[test]
    fn money_is_converted_exactly() {
        let (amount, currency) = money_from_proto(&money(12, 500_000_000)).unwrap_or_default();
        assert_eq!(amount, Decimal::new(125, 1));
        assert_eq!(currency, "CNY");
    }

    #[test]
    fn money_with_mixed_signs_is_refused() {
        assert!(money_from_proto(&money(1, -1)).is_err());
        assert!(money_from_proto(&money(-1, -500_000_000)).is_ok());
        assert!(money_from_proto(&money(0, 1_000_000_000)).is_err());
    }

    #[test]
    fn timestamps_out_of_range_are_refused() {
        let at = |seconds, nanos| timestamp_from_proto(&prost_types::Timestamp { seconds, nanos });
        assert!(at(1_790_000_000, 5).is_ok());
        assert!(at(0, -1).is_err());
        assert!(at(0, 1_000_000_000).is_err());
        assert!(at(i64::MAX, 0).is_err());
    }

    #[test]
    fn partial_dates_are_refused() {
        assert!(
            date_from_proto(&Date {
                year: 2026,
                month: 0,
                day: 0
            })
            .is_err()
        );
        assert!(
            date_from_proto(&Date {
                year: 0,
                month: 1,
                day: 1
            })
            .is_err()
        );
        assert!(
            date_from_proto(&Date {
                year: 2026,
                month: 2,
                day: 30
            })
            .is_err()
        );
        assert!(
            date_from_proto(&Date {
                year: 2026,
                month: 2,
                day: 28
            })
            .is_ok()
        );
    }

    proptest! {
        #[test]
        fn any_valid_money_round_trips(units in any::<i64>(), nanos in 0i32..1_000_000_000, negative in any::<bool>()) {
            let (units, nanos) = if negative && units != 0 { (-units.saturating_abs(), -nanos) } else { (units.saturating_abs(), nanos) };
            let original = money(units, nanos);
            let (amount, currency) = money_from_proto(&original).unwrap_or_default();
            prop_assert_eq!(money_to_proto(amount, &currency), original);
        }
    }
}
