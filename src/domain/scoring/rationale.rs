//! The plain sentences of a rationale, in English and Simplified Chinese. Kept apart from the
//! arithmetic so wording can change without touching a number, and both languages sit side by
//! side where a translator can compare them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::InvalidValue;

use super::{
    assessment::{CriterionResult, MissingTreatment},
    input::{Input, InputValue},
    mapping::{Band, Matched},
};

/// The language a caller reads the rationale in; English unless asked otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Locale {
    /// The language tag callers send and read back, `en` or `zh-CN`, as [`FromStr`] reads it
    /// and documents are written.
    ///
    /// [`FromStr`]: std::str::FromStr
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }
}

impl std::str::FromStr for Locale {
    type Err = InvalidValue;

    /// Reads a language tag, ignoring case as BCP 47 does: `en`, or `zh-CN` (also `zh`).
    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        match tag.to_ascii_lowercase().as_str() {
            "en" => Ok(Self::En),
            "zh-cn" | "zh" => Ok(Self::ZhCn),
            _ => Err(InvalidValue::new(format!(
                "unknown locale {tag:?}: use en or zh-CN"
            ))),
        }
    }
}

/// The one sentence that explains a criterion's line, from the numbers already in it.
pub fn criterion_sentence(line: &CriterionResult, locale: Locale) -> String {
    let name = line.input.display_name(locale);
    let value = line
        .value
        .as_ref()
        .map(|v| value_text(line.input, v, locale));
    let subject = match &value {
        Some(value) => format!("{name} {value}"),
        None => name.to_owned(),
    };
    let arithmetic = arithmetic(line, locale);
    match (&line.matched, line.missing, locale) {
        (Some(matched), _, Locale::En) => {
            format!("{subject} {}: {arithmetic}.", matched_en(matched))
        }
        (Some(matched), _, Locale::ZhCn) => {
            format!("{subject} {}：{arithmetic}。", matched_zh(matched))
        }
        (None, treatment, Locale::En) => {
            let why = match value {
                Some(_) => "is not covered by the mapping",
                None => "is not provided",
            };
            match treatment {
                Some(MissingTreatment::Dropped) => format!(
                    "{subject} {why}, so the criterion is left out and the other weights are \
                     scaled up to 100 %."
                ),
                Some(MissingTreatment::CountedAsNeutral) => {
                    format!("{subject} {why}, so it counts as neutral: {arithmetic}.")
                }
                _ => format!("{subject} {why}, so it counts as zero: {arithmetic}."),
            }
        }
        (None, treatment, Locale::ZhCn) => {
            let why = match value {
                Some(_) => " 不在映射范围内",
                None => "未提供",
            };
            match treatment {
                Some(MissingTreatment::Dropped) => {
                    format!("{subject}{why}，该项不计入，其余权重按比例放大至 100 %。")
                }
                Some(MissingTreatment::CountedAsNeutral) => {
                    format!("{subject}{why}，按中性分计：{arithmetic}。")
                }
                _ => format!("{subject}{why}，按 0 分计：{arithmetic}。"),
            }
        }
    }
}

/// "80 points × 15 % = 12.00 of 15.00", naming the model's weight when re-weighting changed it.
fn arithmetic(line: &CriterionResult, locale: Locale) -> String {
    let points = plain(line.points);
    let weight = plain(line.effective_weight_percent);
    let contribution = two_decimals(line.contribution);
    let max = two_decimals(line.max_contribution);
    let reweighted = line.effective_weight_percent != line.weight_percent;
    let original = plain(line.weight_percent);
    match locale {
        Locale::En => {
            let note = if reweighted {
                format!(" (re-weighted from {original} %)")
            } else {
                String::new()
            };
            format!("{points} points × {weight} %{note} = {contribution} of {max}")
        }
        Locale::ZhCn => {
            let note = if reweighted {
                format!("（由 {original} % 重新加权）")
            } else {
                String::new()
            };
            format!("{points} 分 × {weight} %{note} = {contribution}（满分 {max}）")
        }
    }
}

fn matched_en(matched: &Matched) -> String {
    match matched {
        Matched::Band { band, .. } => format!("falls in band {}", interval(band)),
        Matched::Segment { from, to } => format!(
            "lies between {} ({} points) and {} ({} points)",
            plain(from.x),
            plain(from.points),
            plain(to.x),
            plain(to.points)
        ),
        Matched::BeforeCurve { first } => {
            format!("is at or below the curve's first point {}", plain(first.x))
        }
        Matched::AfterCurve { last } => {
            format!("is at or above the curve's last point {}", plain(last.x))
        }
        Matched::Entry { key } => format!("matches table entry \"{key}\""),
        Matched::Default { .. } => "is not in the table, so the default applies".to_owned(),
    }
}

fn matched_zh(matched: &Matched) -> String {
    match matched {
        Matched::Band { band, .. } => format!("落在区间 {}", interval(band)),
        Matched::Segment { from, to } => format!(
            "位于 {}（{} 分）与 {}（{} 分）之间",
            plain(from.x),
            plain(from.points),
            plain(to.x),
            plain(to.points)
        ),
        Matched::BeforeCurve { first } => format!("不高于曲线起点 {}", plain(first.x)),
        Matched::AfterCurve { last } => format!("不低于曲线终点 {}", plain(last.x)),
        Matched::Entry { key } => format!("对应表中条目“{key}”"),
        Matched::Default { .. } => "不在对照表中，采用默认值".to_owned(),
    }
}

/// "[90, 95)", "(-∞, 80)", "[95, 100]".
fn interval(band: &Band) -> String {
    let lower = band
        .lower
        .map_or_else(|| "(-∞".to_owned(), |l| format!("[{}", plain(l)));
    let upper = match (band.upper, band.upper_inclusive) {
        (None, _) => "+∞)".to_owned(),
        (Some(u), true) => format!("{}]", plain(u)),
        (Some(u), false) => format!("{})", plain(u)),
    };
    format!("{lower}, {upper}")
}

/// An input's value as a person reads it: the number with its unit, or the category.
pub(super) fn value_text(input: Input, value: &InputValue, locale: Locale) -> String {
    match value {
        InputValue::Number(number) => format!("{}{}", plain(*number), input.unit(locale)),
        InputValue::Category(name) => match (name.as_str(), locale) {
            ("true", Locale::En) => "yes".to_owned(),
            ("false", Locale::En) => "no".to_owned(),
            ("true", Locale::ZhCn) => "是".to_owned(),
            ("false", Locale::ZhCn) => "否".to_owned(),
            (other, _) => other.to_owned(),
        },
    }
}

/// Without trailing zeros: 80, 47.5, 17.65.
pub(super) fn plain(number: Decimal) -> String {
    number.normalize().to_string()
}

/// Always two decimals: 12.00.
pub(super) fn two_decimals(number: Decimal) -> String {
    format!("{number:.2}")
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn d(text: &str) -> Option<Decimal> {
        text.parse().ok()
    }

    #[rstest]
    #[case(None, d("80"), false, "(-∞, 80)")]
    #[case(d("90"), d("95"), false, "[90, 95)")]
    #[case(d("95"), d("100"), true, "[95, 100]")]
    #[case(d("1000000.00"), None, false, "[1000000, +∞)")]
    fn a_band_is_written_as_an_interval(
        #[case] lower: Option<Decimal>,
        #[case] upper: Option<Decimal>,
        #[case] upper_inclusive: bool,
        #[case] text: &str,
    ) {
        let band = Band {
            lower,
            upper,
            upper_inclusive,
            points: Decimal::ZERO,
        };
        assert_eq!(interval(&band), text);
    }

    #[test]
    fn flags_read_as_yes_or_no_in_each_language() {
        let yes = InputValue::Category("true".into());
        let input = Input::FinancialStatementsProvided;
        assert_eq!(value_text(input, &yes, Locale::En), "yes");
        assert_eq!(value_text(input, &yes, Locale::ZhCn), "是");
    }

    #[test]
    fn the_locale_is_written_as_its_language_tag() {
        assert_eq!(
            serde_json::to_string(&Locale::ZhCn).ok().as_deref(),
            Some("\"zh-CN\"")
        );
        assert_eq!(Locale::default(), Locale::En);
    }
}
