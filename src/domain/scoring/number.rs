//! How a model's decimals read and write in its documents: as plain numbers a person types
//! (`weight_percent: 20`, `points: 62.5`), exactly. A YAML or JSON parser hands a number with a
//! fraction over as an `f64`; its shortest text is the decimal the person wrote as long as that
//! has at most 15 significant digits, so longer numbers (and integers beyond 2^53) are refused
//! with a hint to quote them, never silently rounded. Writing is the mirror image: a number when
//! it reads back exactly, quoted text otherwise. Used through `#[serde(with = ...)]` on the
//! model's fields, so the rest of the crate keeps rust_decimal's own string form.

use std::{collections::BTreeMap, fmt, str::FromStr};

use rust_decimal::Decimal;
use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, Unexpected, Visitor},
};

/// The most significant digits a decimal keeps through an `f64` unchanged.
const EXACT_DIGITS: usize = 15;
/// 2^53: above it, not every integer has its own `f64`.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A decimal as a document writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Exact(Decimal);

pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    Exact(*value).serialize(serializer)
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    Exact::deserialize(deserializer).map(|exact| exact.0)
}

/// For optional decimals (open band ends, caps).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.map(Exact).serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        Option::<Exact>::deserialize(deserializer).map(|value| value.map(|exact| exact.0))
    }
}

/// For tables of points by category (`AAA: 100`).
pub mod map {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &BTreeMap<String, Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(value.iter().map(|(key, number)| (key, Exact(*number))))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, Decimal>, D::Error> {
        let entries = BTreeMap::<String, Exact>::deserialize(deserializer)?;
        Ok(entries
            .into_iter()
            .map(|(key, exact)| (key, exact.0))
            .collect())
    }
}

/// For a condition's value, which is text ("D", "false") but often a number a person writes
/// bare (`value: 90`): any scalar is taken as its text.
pub mod scalar_text {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &Option<String>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<String>, D::Error> {
        Option::<ScalarText>::deserialize(deserializer).map(|value| value.map(|text| text.0))
    }

    struct ScalarText(String);

    impl<'de> Deserialize<'de> for ScalarText {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer
                .deserialize_any(ScalarTextVisitor)
                .map(ScalarText)
        }
    }

    struct ScalarTextVisitor;

    impl Visitor<'_> for ScalarTextVisitor {
        type Value = String;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a number, a category name or true/false")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_owned())
        }

        fn visit_bool<E: de::Error>(self, value: bool) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
            exact_from_f64(value)
                .map(|number| number.to_string())
                .map_err(|message| E::invalid_value(Unexpected::Float(value), &message.as_str()))
        }
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let number = self.0.normalize();
        if number.scale() == 0
            && let Ok(integer) = i64::try_from(number)
        {
            return serializer.serialize_i64(integer);
        }
        let text = number.to_string();
        if significant_digits(number) <= EXACT_DIGITS
            && let Ok(float) = f64::from_str(&text)
        {
            return serializer.serialize_f64(float);
        }
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ExactVisitor).map(Exact)
    }
}

struct ExactVisitor;

impl Visitor<'_> for ExactVisitor {
    type Value = Decimal;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a number such as 20 or 62.5 (quote numbers of 16 digits or more)")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Decimal, E> {
        exact_from_f64(value)
            .map_err(|message| E::invalid_value(Unexpected::Float(value), &message.as_str()))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Decimal, E> {
        let text = value.trim();
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| E::invalid_value(Unexpected::Str(value), &self))
    }
}

/// The decimal a parsed number was written as, or why that cannot be known.
fn exact_from_f64(value: f64) -> Result<Decimal, String> {
    if value.fract() == 0.0 && value.abs() >= EXACT_INTEGER_LIMIT {
        return Err("an integer below 2^53, or the same number in quotes".into());
    }
    let number = Decimal::from_str(&value.to_string())
        .map_err(|_| String::from("a number a decimal can hold"))?;
    if significant_digits(number.normalize()) > EXACT_DIGITS {
        return Err(format!(
            "a number of at most {EXACT_DIGITS} significant digits, or the number in quotes"
        ));
    }
    Ok(number)
}

fn significant_digits(number: Decimal) -> usize {
    let mantissa = number.mantissa().unsigned_abs();
    if mantissa == 0 {
        return 1;
    }
    mantissa.to_string().len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Field {
        #[serde(with = "super")]
        value: Decimal,
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[rstest]
    #[case("value: 20", "20")]
    #[case("value: 0.1", "0.1")]
    #[case("value: 62.5", "62.5")]
    #[case("value: -12.345", "-12.345")]
    #[case("value: 123456789012.345", "123456789012.345")]
    #[case("value: '0.1234567890123456789'", "0.1234567890123456789")]
    #[case("value: 1e3", "1000")]
    #[case("value: 9007199254740993", "9007199254740993")]
    fn a_document_number_reads_as_the_decimal_it_spells(#[case] yaml: &str, #[case] exact: &str) {
        let field: Field = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(field.value, d(exact));
        assert_eq!(field.value.normalize().to_string(), exact);
    }

    #[rstest]
    #[case("value: 0.1234567890123456789")]
    #[case("value: 12345678901234567890.5")]
    #[case("value: 99999999999999999999")]
    #[case("value: abc")]
    #[case("value: true")]
    fn a_number_that_cannot_be_read_exactly_is_refused(#[case] yaml: &str) {
        assert!(serde_saphyr::from_str::<Field>(yaml).is_err(), "{yaml}");
    }

    #[rstest]
    #[case("20", "{\"value\":20}")]
    #[case("20.00", "{\"value\":20}")]
    #[case("0.1", "{\"value\":0.1}")]
    #[case("-0.005", "{\"value\":-0.005}")]
    #[case("0.1234567890123456789", "{\"value\":\"0.1234567890123456789\"}")]
    fn a_decimal_is_written_as_a_number_when_it_reads_back_exactly(
        #[case] value: &str,
        #[case] json: &str,
    ) {
        let field = Field { value: d(value) };
        let written = serde_json::to_string(&field).unwrap();
        assert_eq!(written, json);
        let back: Field = serde_json::from_str(&written).unwrap();
        assert_eq!(back, field);
    }

    #[test]
    fn a_condition_value_takes_any_scalar_as_text() {
        #[derive(Debug, Deserialize)]
        struct Value {
            #[serde(default, with = "scalar_text")]
            value: Option<String>,
        }
        let read = |yaml: &str| serde_saphyr::from_str::<Value>(yaml).unwrap().value;
        assert_eq!(read("value: 90"), Some("90".into()));
        assert_eq!(read("value: 0.5"), Some("0.5".into()));
        assert_eq!(read("value: D"), Some("D".into()));
        assert_eq!(read("value: false"), Some("false".into()));
        assert_eq!(read("{}"), None);
        let json: Value = serde_json::from_str("{\"value\": 90}").unwrap();
        assert_eq!(json.value, Some("90".into()));
    }
}
