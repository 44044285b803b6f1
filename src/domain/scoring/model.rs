//! A scoring model as data: criteria with weights and mappings, grade thresholds, knock-out
//! rules and a policy per grade. Operators edit models as documents, so every type here reads
//! and writes with serde, refuses unknown fields, and uses field names a person understands.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    decimal::order, input::Input, knockout::KnockOut, mapping::Mapping, policy::GradePolicy,
};

/// One version of a model: everything needed to turn a snapshot into a grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringModel {
    /// The model's name, such as `models/existing-customers`. The server assigns it (and the
    /// version) when a document is stored, so a document sent to it may leave both out.
    #[serde(default)]
    pub name: String,
    /// The version label an assessment quotes so it can be reproduced.
    #[serde(default)]
    pub version: String,
    pub criteria: Vec<Criterion>,
    /// Highest grade first; the last one's `min_score` is 0 so every score has a grade.
    pub grades: Vec<GradeThreshold>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knock_outs: Vec<KnockOut>,
    /// The credit limit, terms and service level of each grade, by grade name.
    pub policies: BTreeMap<String, GradePolicy>,
    /// How long a grade holds before the customer must be re-assessed.
    pub validity_months: u32,
}

/// One line of the scorecard: an input, how it maps to points, and how much it weighs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// A snake_case identifier, also the reason code when this criterion costs points.
    pub key: String,
    pub input: Input,
    /// Share of the total, in percent; a model's weights sum to 100.
    #[serde(with = "super::number")]
    pub weight_percent: Decimal,
    pub mapping: Mapping,
    /// What a missing input (or one the mapping does not cover) counts as.
    pub missing: MissingPolicy,
    /// The direction the mapping must follow: more is better (revenue) or worse (overdue days).
    pub higher_is_better: bool,
}

/// What a criterion does when its input is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MissingPolicy {
    /// No points: absence counts against the customer.
    Zero,
    /// Fixed points, neither reward nor penalty.
    Neutral {
        #[serde(with = "super::number")]
        points: Decimal,
    },
    /// Leave the criterion out and scale the other weights back up to 100 %.
    Drop,
}

/// The lowest score that earns `grade`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeThreshold {
    pub grade: String,
    #[serde(with = "super::number")]
    pub min_score: Decimal,
}

impl ScoringModel {
    /// The grade a score earns: the first threshold it reaches, else the lowest grade.
    pub fn grade_for(&self, score: Decimal) -> String {
        self.grade_at(score).to_owned()
    }

    /// [`ScoringModel::grade_for`], borrowed from the model; empty when it has no grades.
    pub fn grade_at(&self, score: Decimal) -> &str {
        self.grades
            .iter()
            .find(|threshold| order(score, threshold.min_score).is_ge())
            .or(self.grades.last())
            .map_or("", |threshold| threshold.grade.as_str())
    }

    /// The grade's position, 0 for the best; `None` for a name the model does not have.
    pub fn grade_rank(&self, grade: &str) -> Option<usize> {
        self.grades
            .iter()
            .position(|threshold| threshold.grade == grade)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::domain::scoring::fixture::{d, model};

    #[rstest]
    #[case("100", "A")]
    #[case("85", "A")]
    #[case("84.99", "B")]
    #[case("70", "B")]
    #[case("55", "C")]
    #[case("54.99", "D")]
    #[case("0", "D")]
    fn a_score_earns_the_first_threshold_it_reaches(#[case] score: &str, #[case] grade: &str) {
        assert_eq!(model().grade_for(d(score)), grade);
    }

    #[test]
    fn grades_rank_from_the_best() {
        let model = model();
        assert_eq!(
            (model.grade_rank("A"), model.grade_rank("D")),
            (Some(0), Some(3))
        );
        assert_eq!(model.grade_rank("E"), None);
    }

    #[test]
    fn a_model_survives_its_document_form_and_refuses_unknown_fields() {
        let json = serde_json::to_string(&model()).unwrap();
        let back: ScoringModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, model());
        let typo = json.replacen("\"weight_percent\"", "\"weight\"", 1);
        let error = serde_json::from_str::<ScoringModel>(&typo).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `weight`"),
            "{error}"
        );
    }
}
