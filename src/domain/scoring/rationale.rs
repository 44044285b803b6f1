//! The plain sentences of a rationale, in English and Simplified Chinese. Kept apart from the
//! arithmetic so wording can change without touching a number, and both languages sit side by
//! side where a translator can compare them.

use std::fmt;

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
    Sentence { line, locale }.to_string()
}

/// A criterion's sentence, written straight into the string being built: an assessment has
/// one per criterion, and nested `format!`s would allocate a dozen strings for each.
struct Sentence<'a> {
    line: &'a CriterionResult,
    locale: Locale,
}

impl fmt::Display for Sentence<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { line, locale } = *self;
        let subject = Subject { line, locale };
        let arithmetic = Arithmetic { line, locale };
        let provided = line.value.is_some();
        match (&line.matched, line.missing, locale) {
            (Some(matched), _, Locale::En) => {
                write!(f, "{subject} {}: {arithmetic}.", MatchedEn(matched))
            }
            (Some(matched), _, Locale::ZhCn) => {
                write!(f, "{subject} {}：{arithmetic}。", MatchedZh(matched))
            }
            (None, treatment, Locale::En) => {
                let why = if provided {
                    "is not covered by the mapping"
                } else {
                    "is not provided"
                };
                match treatment {
                    Some(MissingTreatment::Dropped) => write!(
                        f,
                        "{subject} {why}, so the criterion is left out and the other weights \
                         are scaled up to 100 %."
                    ),
                    Some(MissingTreatment::CountedAsNeutral) => {
                        write!(f, "{subject} {why}, so it counts as neutral: {arithmetic}.")
                    }
                    _ => write!(f, "{subject} {why}, so it counts as zero: {arithmetic}."),
                }
            }
            (None, treatment, Locale::ZhCn) => {
                let why = if provided {
                    " 不在映射范围内"
                } else {
                    "未提供"
                };
                match treatment {
                    Some(MissingTreatment::Dropped) => {
                        write!(
                            f,
                            "{subject}{why}，该项不计入，其余权重按比例放大至 100 %。"
                        )
                    }
                    Some(MissingTreatment::CountedAsNeutral) => {
                        write!(f, "{subject}{why}，按中性分计：{arithmetic}。")
                    }
                    _ => write!(f, "{subject}{why}，按 0 分计：{arithmetic}。"),
                }
            }
        }
    }
}

/// The input's name and, when provided, its value: "On-time payment rate 95 %".
struct Subject<'a> {
    line: &'a CriterionResult,
    locale: Locale,
}

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = self.line.input;
        f.write_str(input.display_name(self.locale))?;
        match &self.line.value {
            Some(value) => write!(f, " {}", ValueText::new(input, value, self.locale)),
            None => Ok(()),
        }
    }
}

/// "80 points × 15 % = 12.00 of 15.00", naming the model's weight when re-weighting changed it.
struct Arithmetic<'a> {
    line: &'a CriterionResult,
    locale: Locale,
}

impl fmt::Display for Arithmetic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.line;
        let points = Plain(line.points);
        let weight = Plain(line.effective_weight_percent);
        let contribution = TwoDecimals(line.contribution);
        let max = TwoDecimals(line.max_contribution);
        let reweighted = line.effective_weight_percent != line.weight_percent;
        let original = Plain(line.weight_percent);
        match (self.locale, reweighted) {
            (Locale::En, false) => {
                write!(f, "{points} points × {weight} % = {contribution} of {max}")
            }
            (Locale::En, true) => write!(
                f,
                "{points} points × {weight} % (re-weighted from {original} %) = {contribution} \
                 of {max}"
            ),
            (Locale::ZhCn, false) => {
                write!(f, "{points} 分 × {weight} % = {contribution}（满分 {max}）")
            }
            (Locale::ZhCn, true) => write!(
                f,
                "{points} 分 × {weight} %（由 {original} % 重新加权） = {contribution}（满分 {max}）"
            ),
        }
    }
}

struct MatchedEn<'a>(&'a Matched);

impl fmt::Display for MatchedEn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Matched::Band { band, .. } => write!(f, "falls in band {}", Interval(band)),
            Matched::Segment { from, to } => write!(
                f,
                "lies between {} ({} points) and {} ({} points)",
                Plain(from.x),
                Plain(from.points),
                Plain(to.x),
                Plain(to.points)
            ),
            Matched::BeforeCurve { first } => {
                write!(
                    f,
                    "is at or below the curve's first point {}",
                    Plain(first.x)
                )
            }
            Matched::AfterCurve { last } => {
                write!(f, "is at or above the curve's last point {}", Plain(last.x))
            }
            Matched::Entry { key } => write!(f, "matches table entry \"{key}\""),
            Matched::Default { .. } => f.write_str("is not in the table, so the default applies"),
        }
    }
}

struct MatchedZh<'a>(&'a Matched);

impl fmt::Display for MatchedZh<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Matched::Band { band, .. } => write!(f, "落在区间 {}", Interval(band)),
            Matched::Segment { from, to } => write!(
                f,
                "位于 {}（{} 分）与 {}（{} 分）之间",
                Plain(from.x),
                Plain(from.points),
                Plain(to.x),
                Plain(to.points)
            ),
            Matched::BeforeCurve { first } => write!(f, "不高于曲线起点 {}", Plain(first.x)),
            Matched::AfterCurve { last } => write!(f, "不低于曲线终点 {}", Plain(last.x)),
            Matched::Entry { key } => write!(f, "对应表中条目“{key}”"),
            Matched::Default { .. } => f.write_str("不在对照表中，采用默认值"),
        }
    }
}

/// "[90, 95)", "(-∞, 80)", "[95, 100]".
struct Interval<'a>(&'a Band);

impl fmt::Display for Interval<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let band = self.0;
        match band.lower {
            Some(lower) => write!(f, "[{}, ", Plain(lower))?,
            None => f.write_str("(-∞, ")?,
        }
        match (band.upper, band.upper_inclusive) {
            (None, _) => f.write_str("+∞)"),
            (Some(upper), true) => write!(f, "{}]", Plain(upper)),
            (Some(upper), false) => write!(f, "{})", Plain(upper)),
        }
    }
}

/// An input's value as a person reads it: the number with its unit, or the category.
pub(super) fn value_text(input: Input, value: &InputValue, locale: Locale) -> String {
    ValueText::new(input, value, locale).to_string()
}

struct ValueText<'a> {
    input: Input,
    value: &'a InputValue,
    locale: Locale,
}

impl<'a> ValueText<'a> {
    fn new(input: Input, value: &'a InputValue, locale: Locale) -> Self {
        Self {
            input,
            value,
            locale,
        }
    }
}

impl fmt::Display for ValueText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            InputValue::Number(number) => {
                write!(f, "{}{}", Plain(*number), self.input.unit(self.locale))
            }
            InputValue::Category(name) => f.write_str(match (name.as_ref(), self.locale) {
                ("true", Locale::En) => "yes",
                ("false", Locale::En) => "no",
                ("true", Locale::ZhCn) => "是",
                ("false", Locale::ZhCn) => "否",
                (other, _) => other,
            }),
        }
    }
}

/// Without trailing zeros: 80, 47.5, 17.65.
pub(super) fn plain(number: Decimal) -> String {
    Plain(number).to_string()
}

/// Always two decimals: 12.00.
pub(super) fn two_decimals(number: Decimal) -> String {
    TwoDecimals(number).to_string()
}

struct Plain(Decimal);

impl fmt::Display for Plain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

struct TwoDecimals(Decimal);

impl fmt::Display for TwoDecimals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
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
        assert_eq!(Interval(&band).to_string(), text);
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
