//! Ordering decimals, the engine's most frequent operation: one customer's score compares
//! values with band ends, curve corners, knock-out thresholds and grade limits a few dozen
//! times. rust_decimal compares through its general 96-bit arithmetic; most of the engine's
//! numbers have small mantissas, which are brought to one scale with a single 64-bit
//! multiplication here, for the same order in less time. rust_decimal's `Ord` stays the
//! reference: the tests check the two agree.
//!
//! The same holds for a criterion's contribution, `points × weight / 100` rounded to two
//! decimals: for small numbers it is found here with 64-bit integers, to the digit and the
//! scale rust_decimal's multiplication, division and rounding give.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// 10^0 to 10^18, every power of ten a 64-bit integer holds.
const POWERS_OF_TEN: [i64; 19] = {
    let mut powers = [1_i64; 19];
    let mut index = 1;
    while index < powers.len() {
        powers[index] = powers[index - 1] * 10;
        index += 1;
    }
    powers
};

/// The order of `a` and `b`, as `a.cmp(&b)` gives it.
pub fn order(a: Decimal, b: Decimal) -> Ordering {
    let (a_scale, b_scale) = (a.scale(), b.scale());
    match a_scale.cmp(&b_scale) {
        Ordering::Equal => a.mantissa().cmp(&b.mantissa()),
        Ordering::Less => scaled_order(a, b_scale - a_scale, b),
        Ordering::Greater => scaled_order(b, a_scale - b_scale, a).reverse(),
    }
}

/// The order of `low` brought `steps` scales up, and `high`.
fn scaled_order(low: Decimal, steps: u32, high: Decimal) -> Ordering {
    let mantissa = low.mantissa();
    let small = i64::try_from(mantissa)
        .ok()
        .zip(POWERS_OF_TEN.get(steps as usize));
    match small {
        // Two 64-bit factors: the product fits 128 bits.
        Some((mantissa, power)) => {
            (i128::from(mantissa) * i128::from(*power)).cmp(&high.mantissa())
        }
        None => low.cmp(&high),
    }
}

/// `a × b / 100` rounded to two decimals half away from zero, with the scale rust_decimal's
/// multiplication, division and rounding give it; `None` when a mantissa or their product does
/// not fit 64 bits, or in a rare case whose scale rust_decimal's division decides by its
/// internals, for rust_decimal to compute.
pub fn hundredth_rounded(a: Decimal, b: Decimal) -> Option<Decimal> {
    let product = i64::try_from(a.mantissa())
        .ok()?
        .checked_mul(i64::try_from(b.mantissa()).ok()?)?;
    let product_scale = a.scale() + b.scale();
    // rust_decimal divides exactly: a product of whole hundreds keeps its scale, which two
    // decimals or fewer then keep; any other quotient needs two decimals or more, so rounding
    // leaves two.
    if product % 100 == 0 && product_scale <= 2 {
        return Some(Decimal::new(product / 100, product_scale));
    }
    // Except a whole product ending in one zero (70 / 100 = 0.7), whose quotient rust_decimal
    // writes with nine decimals and then strips by 4, 2 and 1 zeros: two decimals are left
    // (0.70), unless the low 32 bits of those nine-decimal digits are zero, which lets it strip
    // 8 zeros first; that needs a product divisible by 10 × 2^24, left to rust_decimal.
    if product_scale == 0 && product % (10 << 24) == 0 {
        return None;
    }
    // The quotient is `product` at scale `product_scale + 2`; two decimals are left.
    let divisor = *POWERS_OF_TEN.get(product_scale as usize)?;
    let (quotient, remainder) = (product / divisor, product % divisor);
    let away = remainder.unsigned_abs() * 2 >= divisor.unsigned_abs();
    let rounded = if away {
        quotient + product.signum()
    } else {
        quotient
    };
    Some(Decimal::new(rounded, 2))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rstest::rstest;

    use super::*;
    use crate::domain::scoring::engine::round2;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap_or_default()
    }

    #[rstest]
    #[case("95", "95.00", Ordering::Equal)]
    #[case("94.99", "95", Ordering::Less)]
    #[case("-0.01", "0", Ordering::Less)]
    #[case("0", "-0.00", Ordering::Equal)]
    #[case("100000", "99999.999999", Ordering::Greater)]
    #[case(
        "-79228162514264337593543950335",
        "0.0000000000000000000000000001",
        Ordering::Less
    )]
    #[case(
        "79228162514264337593543950335",
        "7.9228162514264337593543950335",
        Ordering::Greater
    )]
    fn decimals_order_by_value_whatever_their_scales(
        #[case] a: &str,
        #[case] b: &str,
        #[case] expected: Ordering,
    ) {
        assert_eq!(order(d(a), d(b)), expected);
        assert_eq!(order(d(b), d(a)), expected.reverse());
    }

    fn any_decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (any::<i64>(), 0u32..=28).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
            (any::<[u32; 3]>(), any::<bool>(), 0u32..=28).prop_map(
                |([lo, mid, hi], negative, scale)| {
                    Decimal::from_parts(lo, mid, hi, negative, scale)
                }
            ),
            (-1_000_000i64..=1_000_000, 0u32..=4)
                .prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
        ]
    }

    /// rust_decimal's route, which the engine takes where the fast one gives up.
    fn divided(a: Decimal, b: Decimal) -> Decimal {
        round2(a * b / Decimal::ONE_HUNDRED)
    }

    #[rstest]
    #[case("85", "20", "17")]
    #[case("7.5", "20", "1.5")]
    #[case("33.33", "33.33", "11.11")]
    #[case("16.665", "1", "0.17")]
    #[case("-16.665", "1", "-0.17")]
    #[case("0.4", "1", "0.00")]
    #[case("-0.4", "1", "0.00")]
    #[case("-0.5", "1", "-0.01")]
    #[case("0.125", "0.1", "0.00")]
    #[case("12.5", "0.12", "0.02")]
    #[case("85", "15", "12.75")]
    #[case("1.000", "100.0", "1.00")]
    #[case("70", "1", "0.70")]
    #[case("-35", "3", "-1.05")]
    fn a_hundredth_of_a_product_has_rust_decimals_digits_and_scale(
        #[case] a: &str,
        #[case] b: &str,
        #[case] expected: &str,
    ) {
        let fast = hundredth_rounded(d(a), d(b)).map(|value| value.to_string());
        assert_eq!(fast.as_deref(), Some(expected));
        assert_eq!(hundredth_rounded(d(b), d(a)), hundredth_rounded(d(a), d(b)));
        assert_eq!(divided(d(a), d(b)).to_string(), expected);
    }

    #[test]
    fn a_whole_product_whose_quotient_rust_decimal_strips_to_one_decimal_is_left_to_it() {
        let product = Decimal::from(3 * (10 << 24));
        assert_eq!(hundredth_rounded(product, Decimal::ONE), None);
        assert_eq!(divided(product, Decimal::ONE).to_string(), "5033164.8");
    }

    proptest! {
        #[test]
        fn a_hundredth_of_a_product_is_rust_decimals(a in any_decimal(), b in any_decimal()) {
            if let Some(fast) = hundredth_rounded(a, b) {
                prop_assert_eq!(fast.to_string(), divided(a, b).to_string());
            }
        }

        #[test]
        fn the_order_is_rust_decimals_order(a in any_decimal(), b in any_decimal()) {
            prop_assert_eq!(order(a, b), a.cmp(&b));
        }
    }
}
