//! What an assessment holds: the score, the grades before and after knock-outs, the credit
//! recommendation and one line of rationale per criterion. Apart from the engine so the shape a
//! caller stores and shows is readable on its own.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    input::{Input, InputValue},
    knockout::Effect,
    mapping::Matched,
    policy::CreditRecommendation,
    rationale::Locale,
};

/// The result of grading one snapshot with one model version, with everything needed to
/// explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub model_name: String,
    pub model_version: String,
    /// The snapshot's date: every input was read as of this day.
    pub as_of: NaiveDate,
    /// The last day the grade holds: the snapshot's date plus the model's validity. Counted
    /// from the figures, not from the day of grading, so old figures give a grade that is
    /// already stale, and re-grading the same snapshot gives the same date.
    pub valid_until: NaiveDate,
    /// The language of the sentences and knock-out descriptions.
    pub locale: Locale,
    pub criteria: Vec<CriterionResult>,
    /// The sum of the criteria's contributions, 0-100, two decimals.
    pub total_score: Decimal,
    pub grade_before_knock_outs: String,
    /// Every knock-out that fired, in the model's order.
    pub knock_outs: Vec<FiredKnockOut>,
    /// The grade that counts: the lower of the score's grade and every knock-out's cap.
    pub grade: String,
    /// `None` only when the model has no policy for the grade, which validation refuses.
    pub credit: Option<CreditRecommendation>,
    /// A knock-out asked for a person to look before this grade is acted on.
    pub review_required: bool,
    /// The criteria that cost the most points, worst first: the answer to "why not A?".
    pub reason_codes: Vec<ReasonCode>,
}

/// One criterion's line of the rationale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionResult {
    pub key: String,
    pub input: Input,
    /// The input as read; `None` when the snapshot does not have it.
    pub value: Option<InputValue>,
    /// The band, segment or table entry that gave the points; `None` when missing.
    pub matched: Option<Matched>,
    /// What the missing-input policy did, when the input was missing or not covered.
    pub missing: Option<MissingTreatment>,
    /// 0-100, two decimals.
    pub points: Decimal,
    /// The weight the model gives the criterion.
    pub weight_percent: Decimal,
    /// The weight used, after dropped criteria were left out and the rest scaled to 100.
    pub effective_weight_percent: Decimal,
    /// points × effective weight / 100, two decimals.
    pub contribution: Decimal,
    /// The contribution full points would have made.
    pub max_contribution: Decimal,
    /// Rendered from the fields above in the assessment's locale. Storage leaves it out
    /// (empty) and renders it again on read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sentence: String,
}

/// What a criterion's missing-input policy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingTreatment {
    CountedAsZero,
    CountedAsNeutral,
    Dropped,
}

/// A knock-out that fired, with its description in every language, so the assessment can be
/// explained in any of them later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredKnockOut {
    pub key: String,
    pub description_en: String,
    pub description_zh: String,
    pub effect: Effect,
}

impl Assessment {
    /// The same assessment with its sentences in `locale`. Numbers and facts are the same in
    /// every language, so one stored assessment serves readers of any of them.
    pub fn rendered_in(mut self, locale: Locale) -> Self {
        if locale != self.locale {
            for line in &mut self.criteria {
                line.sentence = super::rationale::criterion_sentence(line, locale);
            }
            self.locale = locale;
        }
        self
    }

    /// Whether any criterion's sentence is rendered.
    pub fn has_sentences(&self) -> bool {
        self.criteria.iter().any(|line| !line.sentence.is_empty())
    }

    /// The same assessment without its sentences, as storage keeps it.
    pub fn without_sentences(mut self) -> Self {
        for line in &mut self.criteria {
            line.sentence.clear();
        }
        self
    }

    /// The same assessment with every sentence that is missing rendered in its locale.
    pub fn with_sentences(mut self) -> Self {
        for line in &mut self.criteria {
            if line.sentence.is_empty() {
                line.sentence = super::rationale::criterion_sentence(line, self.locale);
            }
        }
        self
    }
}

impl FiredKnockOut {
    pub fn description(&self, locale: Locale) -> &str {
        match locale {
            Locale::En => &self.description_en,
            Locale::ZhCn => &self.description_zh,
        }
    }
}

/// A criterion that cost points, and how many of its maximum it lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonCode {
    pub criterion: String,
    pub points_lost: Decimal,
}
