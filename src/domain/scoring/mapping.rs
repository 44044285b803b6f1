//! How a criterion turns an input's value into 0-100 points: bands, a piecewise-linear curve,
//! or a lookup table; and what matched, so the rationale can name the band, segment or entry.
//! Apart from the engine because a mapping is the unit an operator edits and validation checks.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{decimal::order, input::InputValue};

/// The rule that maps a value to points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Mapping {
    /// Ranges of a numeric input, ordered from low to high, each worth fixed points.
    Bands(Vec<Band>),
    /// Points interpolated linearly between (x, points) pairs; flat beyond either end.
    Curve(Vec<CurvePoint>),
    /// Points per category ("AAA", "true", "3"); `default` for any other key, or missing.
    Lookup {
        #[serde(with = "super::number::map")]
        entries: BTreeMap<String, Decimal>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "super::number::option"
        )]
        default: Option<Decimal>,
    },
}

/// A range `[lower, upper)` worth `points`; an absent end is open. `upper_inclusive` closes
/// the upper end, for the last band of a bounded scale such as `[95, 100]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::number::option"
    )]
    pub lower: Option<Decimal>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::number::option"
    )]
    pub upper: Option<Decimal>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub upper_inclusive: bool,
    #[serde(with = "super::number")]
    pub points: Decimal,
}

/// One corner of a curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvePoint {
    #[serde(with = "super::number")]
    pub x: Decimal,
    #[serde(with = "super::number")]
    pub points: Decimal,
}

/// Which part of a mapping produced the points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Matched {
    /// The band at `index` (0-based) of the criterion's bands.
    Band { index: usize, band: Band },
    /// Between two corners of the curve, interpolated.
    Segment { from: CurvePoint, to: CurvePoint },
    /// At or below the first corner: its points.
    BeforeCurve { first: CurvePoint },
    /// At or beyond the last corner: its points.
    AfterCurve { last: CurvePoint },
    /// The table's entry for this key.
    Entry { key: String },
    /// The key is not in the table; the table's default applied.
    Default { key: String },
}

/// Points before rounding, and what produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub points: Decimal,
    pub matched: Matched,
}

/// Where a value fell in a mapping, borrowed from it: what [`Matched`] says, without copying
/// the band or the key, for a caller that wants the points and not the explanation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hit<'m> {
    Band {
        index: usize,
        band: &'m Band,
    },
    Segment {
        from: &'m CurvePoint,
        to: &'m CurvePoint,
    },
    BeforeCurve {
        first: &'m CurvePoint,
    },
    AfterCurve {
        last: &'m CurvePoint,
    },
    Entry {
        key: &'m str,
    },
    /// The key is not in the table; the table's default applied.
    Default,
}

/// Points before rounding, and where in the mapping they came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located<'m> {
    pub points: Decimal,
    pub hit: Hit<'m>,
}

impl Band {
    /// Whether `value` falls in this band.
    pub fn contains(&self, value: Decimal) -> bool {
        // The upper end first: scanning bands from low to high, a value above a band fails
        // there, so each band below the one that holds it costs one comparison, not two.
        let below_upper = self.upper.is_none_or(|upper| {
            let to_upper = order(value, upper);
            to_upper.is_lt() || (self.upper_inclusive && to_upper.is_eq())
        });
        below_upper && self.lower.is_none_or(|lower| order(value, lower).is_ge())
    }
}

impl Mapping {
    /// The points for `value`, or `None` when the mapping does not cover it (no band holds it,
    /// an unknown key without a default, a number given to a table meant for names): the
    /// engine then treats the input as missing.
    pub fn map(&self, value: &InputValue) -> Option<Mapped> {
        self.locate(value).map(|located| Mapped {
            points: located.points,
            matched: located.hit.matched(value),
        })
    }

    /// What [`Mapping::map`] finds, borrowed from the mapping. The one place a value is matched
    /// against bands, corners and entries.
    pub fn locate(&self, value: &InputValue) -> Option<Located<'_>> {
        match self {
            Self::Bands(bands) => {
                let number = as_number(value)?;
                let (index, band) = bands
                    .iter()
                    .enumerate()
                    .find(|(_, band)| band.contains(number))?;
                Some(Located {
                    points: band.points,
                    hit: Hit::Band { index, band },
                })
            }
            Self::Curve(corners) => interpolate(corners, as_number(value)?),
            Self::Lookup { entries, default } => {
                if let Some((key, points)) = entries.get_key_value(value.key_text().as_ref()) {
                    return Some(Located {
                        points: *points,
                        hit: Hit::Entry { key },
                    });
                }
                default.map(|points| Located {
                    points,
                    hit: Hit::Default,
                })
            }
        }
    }
}

impl Hit<'_> {
    /// The owned description of this hit; `value` is what was looked up.
    pub fn matched(self, value: &InputValue) -> Matched {
        match self {
            Self::Band { index, band } => Matched::Band {
                index,
                band: band.clone(),
            },
            Self::Segment { from, to } => Matched::Segment {
                from: *from,
                to: *to,
            },
            Self::BeforeCurve { first } => Matched::BeforeCurve { first: *first },
            Self::AfterCurve { last } => Matched::AfterCurve { last: *last },
            Self::Entry { key } => Matched::Entry {
                key: key.to_owned(),
            },
            Self::Default => Matched::Default {
                key: value.lookup_key(),
            },
        }
    }
}

fn as_number(value: &InputValue) -> Option<Decimal> {
    match value {
        InputValue::Number(number) => Some(*number),
        InputValue::Category(_) => None,
    }
}

fn interpolate(corners: &[CurvePoint], x: Decimal) -> Option<Located<'_>> {
    let first = corners.first()?;
    let last = corners.last()?;
    if order(x, first.x).is_le() {
        return Some(Located {
            points: first.points,
            hit: Hit::BeforeCurve { first },
        });
    }
    if order(x, last.x).is_ge() {
        return Some(Located {
            points: last.points,
            hit: Hit::AfterCurve { last },
        });
    }
    let (from, to) = corners
        .windows(2)
        .filter_map(|pair| match pair {
            [from, to] => Some((from, to)),
            _ => None,
        })
        .find(|(from, to)| order(x, to.x).is_lt() && order(from.x, x).is_le())?;
    let run = to.x - from.x;
    let points = from.points + (to.points - from.points) * (x - from.x) / run;
    Some(Located {
        points,
        hit: Hit::Segment { from, to },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::domain::scoring::fixture::{band, d};

    /// below 80: 0; [80, 90): 40; [90, 95): 80; [95, 100]: 100.
    fn payment_bands() -> Mapping {
        let mut last = band(Some("95"), Some("100"), "100");
        last.upper_inclusive = true;
        Mapping::Bands(vec![
            band(None, Some("80"), "0"),
            band(Some("80"), Some("90"), "40"),
            band(Some("90"), Some("95"), "80"),
            last,
        ])
    }

    fn number(text: &str) -> InputValue {
        InputValue::Number(d(text))
    }

    #[rstest]
    #[case("-5", Some(("0", 0)))]
    #[case("79.999", Some(("0", 0)))]
    #[case("80", Some(("40", 1)))]
    #[case("89.99", Some(("40", 1)))]
    #[case("90", Some(("80", 2)))]
    #[case("94.9999", Some(("80", 2)))]
    #[case("95", Some(("100", 3)))]
    #[case("100", Some(("100", 3)))]
    #[case("100.01", None)]
    fn bands_include_their_lower_end_and_exclude_the_upper_unless_told(
        #[case] value: &str,
        #[case] expected: Option<(&str, usize)>,
    ) {
        let mapped = payment_bands().map(&number(value));
        let got = mapped.map(|m| match m.matched {
            Matched::Band { index, .. } => (m.points, index),
            other => panic!("unexpected {other:?}"),
        });
        assert_eq!(got, expected.map(|(points, index)| (d(points), index)));
    }

    #[test]
    fn bands_do_not_apply_to_a_category() {
        assert_eq!(
            payment_bands().map(&InputValue::Category("AA".into())),
            None
        );
    }

    /// debt-to-asset: 30 % or less is 100 points, 70 % or more is 0, linear in between;
    /// 50 % is a corner at 60 points.
    fn debt_curve() -> Mapping {
        Mapping::Curve(vec![
            CurvePoint {
                x: d("30"),
                points: d("100"),
            },
            CurvePoint {
                x: d("50"),
                points: d("60"),
            },
            CurvePoint {
                x: d("70"),
                points: d("0"),
            },
        ])
    }

    #[rstest]
    #[case("0", "100")]
    #[case("30", "100")]
    // 100 + (60 - 100) * (40 - 30) / (50 - 30) = 80
    #[case("40", "80")]
    #[case("50", "60")]
    // 60 + (0 - 60) * (65 - 50) / (70 - 50) = 15
    #[case("65", "15")]
    #[case("70", "0")]
    #[case("400", "0")]
    fn a_curve_interpolates_between_corners_and_is_flat_beyond_its_ends(
        #[case] value: &str,
        #[case] points: &str,
    ) {
        let mapped = debt_curve().map(&number(value)).unwrap();
        assert_eq!(mapped.points, d(points));
    }

    #[test]
    fn a_curve_names_the_segment_or_the_end_that_applied() {
        let curve = debt_curve();
        let inside = curve.map(&number("40")).unwrap().matched;
        assert_eq!(
            inside,
            Matched::Segment {
                from: CurvePoint {
                    x: d("30"),
                    points: d("100")
                },
                to: CurvePoint {
                    x: d("50"),
                    points: d("60")
                },
            }
        );
        assert!(matches!(
            curve.map(&number("10")).unwrap().matched,
            Matched::BeforeCurve { .. }
        ));
        assert!(matches!(
            curve.map(&number("90")).unwrap().matched,
            Matched::AfterCurve { .. }
        ));
        assert_eq!(Mapping::Curve(vec![]).map(&number("1")), None);
    }

    fn rating_table(default: Option<&str>) -> Mapping {
        Mapping::Lookup {
            entries: [("AAA", "100"), ("AA", "90"), ("D", "0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), d(v)))
                .collect(),
            default: default.map(d),
        }
    }

    #[test]
    fn a_known_key_scores_its_entry() {
        let mapped = rating_table(None)
            .map(&InputValue::Category("AA".into()))
            .unwrap();
        assert_eq!(mapped.points, d("90"));
        assert_eq!(mapped.matched, Matched::Entry { key: "AA".into() });
    }

    #[test]
    fn an_unknown_key_scores_the_default_or_nothing_without_one() {
        let unknown = InputValue::Category("BBB".into());
        let with_default = rating_table(Some("30")).map(&unknown).unwrap();
        assert_eq!(with_default.points, d("30"));
        assert_eq!(with_default.matched, Matched::Default { key: "BBB".into() });
        assert_eq!(rating_table(None).map(&unknown), None);
    }

    #[test]
    fn a_scale_is_looked_up_by_its_digit() {
        let table = Mapping::Lookup {
            entries: [("5".to_owned(), d("100")), ("3".to_owned(), d("50"))].into(),
            default: None,
        };
        assert_eq!(table.map(&number("3")).unwrap().points, d("50"));
    }

    #[test]
    fn a_mapping_reads_back_from_its_document_form() {
        let json = r#"{"bands":[{"upper":80,"points":0},{"lower":80,"upper":100,"upper_inclusive":true,"points":100}]}"#;
        let mapping: Mapping = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&mapping).unwrap(), json);
        let quoted = r#"{"bands":[{"upper":"80","points":"0"},{"lower":"80","upper":"100","upper_inclusive":true,"points":"100"}]}"#;
        assert_eq!(serde_json::from_str::<Mapping>(quoted).unwrap(), mapping);
        let typo = r#"{"bands":[{"upper":80,"pionts":0}]}"#;
        assert!(serde_json::from_str::<Mapping>(typo).is_err());
    }
}
