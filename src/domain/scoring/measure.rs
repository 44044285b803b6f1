//! The decimal a measure (an `f64` such as a payment rate of 95.01 %) stands for: the one its
//! shortest text spells, the text that reads back as the same `f64`, so 0.1 is exactly 0.1 and
//! not 0.1000000000000000055511151231257827. Apart from the inputs because the engine reads
//! several measures per customer and formatting each one is a large share of a score's cost:
//! the usual measure, with a few decimals, is found here by arithmetic, and only the others
//! are formatted.

use std::str::FromStr;

use rust_decimal::Decimal;

/// The most decimals tried by arithmetic before falling back to formatting.
const FAST_DECIMALS: u32 = 9;
/// 2^50. Below it the gap between neighbouring `f64`s is at most 1/8, so an integer `m` that
/// reads back as `value` at scale `k` lies within 1/8 (that gap, doubled by the scaling, halved
/// by rounding) plus 1/16 (the error of computing `value × 10^k`) of the computed product: the
/// nearest integer is the only candidate, and one further than [`CANDIDATE_DISTANCE`] is none.
const EXACT_BELOW: f64 = 1_125_899_906_842_624.0;
const CANDIDATE_DISTANCE: f64 = 0.25;

/// The decimal of `value`'s shortest text; `None` for infinities and NaN.
pub(super) fn shortest_decimal(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    few_decimals(value).or_else(|| Decimal::from_str(&value.to_string()).ok())
}

/// The same decimal for a value that has at most [`FAST_DECIMALS`] decimals: the first scale
/// `k` at which an integer `m` reads back as `value` (`m / 10^k`, both exact, divides to the
/// nearest `f64` as parsing does) gives the shortest text's digits, since at that scale no
/// other integer does. Zero, whose sign the text keeps, is left to formatting.
fn few_decimals(value: f64) -> Option<Decimal> {
    if value == 0.0 {
        return None;
    }
    let mut power = 1.0_f64;
    for decimals in 0..=FAST_DECIMALS {
        let scaled = value * power;
        if scaled.abs() >= EXACT_BELOW {
            return None;
        }
        // Rounds to the nearest integer, inline; where the addition might err (a product close
        // to halfway between two integers) no integer is close enough to be a candidate.
        let nearest = (scaled + 0.5_f64.copysign(scaled)) as i64;
        let candidate = nearest as f64;
        if (scaled - candidate).abs() <= CANDIDATE_DISTANCE && candidate / power == value {
            return Some(Decimal::new(nearest, decimals));
        }
        power *= 10.0;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use rstest::rstest;

    use super::*;

    /// The route everything else takes: format, then parse.
    fn formatted(value: f64) -> Option<Decimal> {
        Decimal::from_str(&value.to_string()).ok()
    }

    #[rstest]
    #[case(95.01, "95.01")]
    #[case(0.1, "0.1")]
    #[case(0.1 + 0.2, "0.30000000000000004")]
    #[case(-17.5, "-17.5")]
    #[case(3.0, "3")]
    #[case(1e-7, "0.0000001")]
    #[case(123_456_789.123, "123456789.123")]
    #[case(0.0, "0")]
    fn a_measure_reads_as_the_decimal_its_shortest_text_spells(
        #[case] value: f64,
        #[case] text: &str,
    ) {
        let decimal = shortest_decimal(value).unwrap();
        assert_eq!(decimal.to_string(), text);
    }

    #[test]
    fn infinities_and_nan_are_no_decimal() {
        for value in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            assert_eq!(shortest_decimal(value), None);
        }
    }

    fn any_short_decimal() -> impl Strategy<Value = f64> {
        (any::<i64>(), 0u32..=12).prop_map(|(mantissa, scale)| {
            let text = Decimal::new(mantissa % 10_000_000_000_000_000, scale).to_string();
            text.parse().unwrap()
        })
    }

    proptest! {
        #[test]
        fn arithmetic_finds_the_decimal_formatting_finds_to_the_last_digit_and_scale(
            value in prop_oneof![any_short_decimal(), any::<f64>()],
        ) {
            let found = shortest_decimal(value);
            let expected = formatted(value);
            prop_assert_eq!(found, expected);
            prop_assert_eq!(found.map(|d| d.to_string()), expected.map(|d| d.to_string()));
        }
    }
}
