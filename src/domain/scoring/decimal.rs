//! Ordering decimals, the engine's most frequent operation: one customer's score compares
//! values with band ends, curve corners, knock-out thresholds and grade limits a few dozen
//! times. rust_decimal compares through its general 96-bit arithmetic; most of the engine's
//! numbers have small mantissas, which are brought to one scale with a single 64-bit
//! multiplication here, for the same order in less time. rust_decimal's `Ord` stays the
//! reference: the tests check the two agree.

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rstest::rstest;

    use super::*;

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

    proptest! {
        #[test]
        fn the_order_is_rust_decimals_order(a in any_decimal(), b in any_decimal()) {
            prop_assert_eq!(order(a, b), a.cmp(&b));
        }
    }
}
