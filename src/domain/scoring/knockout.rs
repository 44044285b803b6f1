//! Knock-out rules: the "special factors" that override the weighted sum, such as "longest
//! overdue over 90 days caps the grade at D". Kept apart from the scorecard because they read
//! inputs directly and act on the grade and the credit, not on points.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    decimal::order,
    input::{Input, InputValue},
};

/// A named rule: when any of its conditions holds, its effect applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnockOut {
    /// A snake_case identifier the assessment names when the rule fires.
    pub key: String,
    pub description_en: String,
    pub description_zh: String,
    /// The rule fires when at least one of these holds ("missing or false" is two conditions).
    pub when_any: Vec<Condition>,
    pub effect: Effect,
}

/// A test on one input. Only `is_missing` holds for a missing input; every other test fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub input: Input,
    pub op: Comparison,
    /// What the input is compared with: a number for numeric inputs, a category name
    /// ("D", "false", "3") for categories; absent for `is_missing`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "super::number::scalar_text"
    )]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
    IsMissing,
}

/// What a fired rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// The grade is at most this one, whatever the score.
    CapGrade(String),
    /// No credit: the recommended limit is 0.
    BlockCredit,
    /// A person must look at this assessment before it is acted on.
    FlagReview,
}

impl Comparison {
    /// Whether the comparison orders values, which only numbers can be.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }
}

impl Condition {
    /// Whether the condition holds for `value` (the input as read, `None` when missing).
    pub fn holds(&self, value: Option<&InputValue>) -> bool {
        let Some(value) = value else {
            return self.op == Comparison::IsMissing;
        };
        let Some(expected) = self.value.as_deref() else {
            return false;
        };
        match value {
            InputValue::Number(number) => match threshold(expected) {
                Some(expected) => compare(self.op, order(*number, expected)),
                None => false,
            },
            InputValue::Category(name) => match self.op {
                Comparison::Eq => name == expected,
                Comparison::Ne => name != expected,
                _ => false,
            },
        }
    }
}

impl KnockOut {
    /// Whether the rule fires, reading each condition's input through `read`.
    pub fn fires(&self, read: impl Fn(Input) -> Option<InputValue>) -> bool {
        self.when_any
            .iter()
            .any(|condition| condition.holds(read(condition.input).as_ref()))
    }
}

/// A condition's number. Most are a few digits ("90", "0"), which read faster as an integer
/// than as a decimal, to the same value.
fn threshold(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let few_digits = (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<i64>() {
        Ok(whole) if few_digits => Some(Decimal::from(whole)),
        _ => text.parse().ok(),
    }
}

fn compare(op: Comparison, ordering: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        Comparison::Gt => ordering == Greater,
        Comparison::Ge => ordering != Less,
        Comparison::Lt => ordering == Less,
        Comparison::Le => ordering != Greater,
        Comparison::Eq => ordering == Equal,
        Comparison::Ne => ordering != Equal,
        Comparison::IsMissing => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn condition(input: Input, op: Comparison, value: Option<&str>) -> Condition {
        Condition {
            input,
            op,
            value: value.map(str::to_owned),
        }
    }

    fn days(n: i64) -> InputValue {
        InputValue::Number(Decimal::from(n))
    }

    #[rstest]
    #[case(Comparison::Gt, 90, false)]
    #[case(Comparison::Gt, 91, true)]
    #[case(Comparison::Ge, 90, true)]
    #[case(Comparison::Ge, 89, false)]
    #[case(Comparison::Lt, 89, true)]
    #[case(Comparison::Lt, 90, false)]
    #[case(Comparison::Le, 90, true)]
    #[case(Comparison::Le, 91, false)]
    #[case(Comparison::Eq, 90, true)]
    #[case(Comparison::Ne, 90, false)]
    #[case(Comparison::Ne, 91, true)]
    fn numeric_conditions_compare_with_the_stated_value_90(
        #[case] op: Comparison,
        #[case] overdue: i64,
        #[case] holds: bool,
    ) {
        let test = condition(Input::LongestOverdueDays, op, Some("90"));
        assert_eq!(test.holds(Some(&days(overdue))), holds);
    }

    #[rstest]
    #[case("90", Some("90"))]
    #[case(" 0 ", Some("0"))]
    #[case("007", Some("7"))]
    #[case("-5", Some("-5"))]
    #[case("0.5", Some("0.5"))]
    #[case("1234567890123456789012", Some("1234567890123456789012"))]
    #[case("D", None)]
    #[case("", None)]
    fn a_threshold_reads_as_the_decimal_it_spells(
        #[case] text: &str,
        #[case] expected: Option<&str>,
    ) {
        let expected = expected.map(|number| number.parse::<Decimal>().unwrap());
        assert_eq!(threshold(text), expected);
    }

    #[test]
    fn a_missing_input_only_satisfies_is_missing() {
        let missing = condition(
            Input::FinancialStatementsProvided,
            Comparison::IsMissing,
            None,
        );
        let not_true = condition(
            Input::FinancialStatementsProvided,
            Comparison::Ne,
            Some("true"),
        );
        assert!(missing.holds(None));
        assert!(!not_true.holds(None));
        assert!(!missing.holds(Some(&InputValue::Category("false".into()))));
    }

    #[test]
    fn categories_compare_by_name_and_cannot_be_ordered() {
        let rating_d = InputValue::Category("D".into());
        assert!(condition(Input::CreditRating, Comparison::Eq, Some("D")).holds(Some(&rating_d)));
        assert!(!condition(Input::CreditRating, Comparison::Ne, Some("D")).holds(Some(&rating_d)));
        assert!(!condition(Input::CreditRating, Comparison::Gt, Some("C")).holds(Some(&rating_d)));
    }

    #[test]
    fn a_rule_fires_when_any_of_its_conditions_holds() {
        let rule = KnockOut {
            key: "no_financial_statements".into(),
            description_en: "No financial statements".into(),
            description_zh: "未提供财务报表".into(),
            when_any: vec![
                condition(
                    Input::FinancialStatementsProvided,
                    Comparison::IsMissing,
                    None,
                ),
                condition(
                    Input::FinancialStatementsProvided,
                    Comparison::Eq,
                    Some("false"),
                ),
            ],
            effect: Effect::CapGrade("C".into()),
        };
        let provided = |flag: Option<&'static str>| {
            let value = flag.map(|f| InputValue::Category(f.into()));
            rule.fires(|_| value.clone())
        };
        assert!(provided(None));
        assert!(provided(Some("false")));
        assert!(!provided(Some("true")));
    }
}
