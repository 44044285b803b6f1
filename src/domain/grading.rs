//! The records of grading: versions of scoring models as they are kept (draft, then published
//! and frozen) and assessments as they are stored. The engine in [`super::scoring`] computes;
//! these types say which model version and which snapshot a computation used.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{
    InvalidValue, Refusal,
    customer::{CustomerId, CustomerKind},
    figures::FigureSet,
    id::server_id,
    scoring::{
        self,
        engine::round2,
        input::{Input, InputValue},
    },
};

/// Which version of which model: `existing-customers` version 3.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VersionKey {
    /// The model id, the `{model}` of `models/{model}`.
    pub model: String,
    /// 1, 2, ... in the order the versions were created.
    pub version: i32,
}

/// The longest model id; ids appear in every assessment, so they stay short.
const MODEL_ID_MAX: usize = 63;

/// Checks a model id: 1-63 characters of lowercase letters, digits and hyphens, starting with
/// a letter and not ending with a hyphen (AIP-122 resource ids).
pub fn validate_model_id(id: &str) -> Result<(), InvalidValue> {
    let starts_with_letter = id.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !starts_with_letter || !allowed || id.ends_with('-') || id.len() > MODEL_ID_MAX {
        return Err(InvalidValue::new(format!(
            "must be a model id of 1-{MODEL_ID_MAX} lowercase letters, digits and hyphens, \
             starting with a letter, got {id:?}"
        )));
    }
    Ok(())
}

/// Where a version is in its life: editable, or frozen for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionState {
    Draft,
    Published,
}

impl VersionState {
    /// The stable lowercase word used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(Self::Draft),
            "published" => Some(Self::Published),
            _ => None,
        }
    }
}

/// A version of a scoring model as kept: the definition, its state and its times.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelVersion {
    pub key: VersionKey,
    pub state: VersionState,
    /// The definition; its `name` and `version` always agree with `key`.
    pub definition: scoring::ScoringModel,
    /// Incremented by every edit of the draft; exposed as the etag.
    pub etag_version: i64,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub publish_time: Option<DateTime<Utc>>,
}

impl ModelVersion {
    /// Only a published version may grade customers or become a champion: a draft can still
    /// change, and a grade must stay reproducible from the version it names.
    pub fn ensure_published(&self, before: &str) -> Result<(), Refusal> {
        match self.state {
            VersionState::Published => Ok(()),
            VersionState::Draft => Err(Refusal(format!(
                "version {} of {} is a draft; publish it before {before}",
                self.key.version, self.key.model
            ))),
        }
    }

    /// Only a draft may change; a published version is frozen for good.
    pub fn ensure_draft(&self) -> Result<(), Refusal> {
        match self.state {
            VersionState::Draft => Ok(()),
            VersionState::Published => Err(Refusal(format!(
                "version {} of {} is published and never changes; create a new version",
                self.key.version, self.key.model
            ))),
        }
    }
}

/// The version a population is graded with by default, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Champion {
    pub population: CustomerKind,
    pub model_version: VersionKey,
    pub set_time: DateTime<Utc>,
}

server_id!(
    /// The server-assigned identity of an assessment: a UUIDv7, so ids sort by creation.
    AssessmentId,
    "an assessment id"
);

/// The snapshot an assessment graded: one revision of one date, which stays what it was
/// even after a later revision supersedes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRef {
    pub as_of: NaiveDate,
    pub revision: i32,
    /// The currency of the snapshot's money, and so of the credit limit.
    pub currency: Option<String>,
}

/// An assessment as stored: what the engine said, and which customer, snapshot and model
/// version it said it about. Never changed; re-grading adds a new one.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedAssessment {
    pub id: AssessmentId,
    pub customer: CustomerId,
    pub snapshot: SnapshotRef,
    pub model_version: VersionKey,
    pub assess_time: DateTime<Utc>,
    pub assessment: scoring::Assessment,
}

server_id!(
    /// The server-assigned identity of a grade override: a UUIDv7.
    OverrideId,
    "an override id"
);

/// The longest an override may hold: a person's judgement is re-examined at least this often.
pub const MAX_OVERRIDE_DAYS: i64 = 731;

/// What a person asks for when overriding a customer's grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRequest {
    pub grade: String,
    /// In the currency of the customer's current grade.
    pub credit_limit: Option<Decimal>,
    pub reason: String,
    pub expire_time: DateTime<Utc>,
}

impl OverrideRequest {
    /// Checks what can be checked without the customer: a reason, a limit that is not
    /// negative, an expiry in the future and within [`MAX_OVERRIDE_DAYS`].
    pub fn check(&self, now: DateTime<Utc>) -> Vec<(&'static str, InvalidValue)> {
        let mut problems = Vec::new();
        if let Err(problem) = super::invalid::bounded_text(&self.grade, 1, 40) {
            problems.push(("grade", problem));
        }
        if let Err(problem) = super::invalid::bounded_text(&self.reason, 1, 500) {
            problems.push(("reason", problem));
        }
        if self
            .credit_limit
            .is_some_and(|limit| limit.is_sign_negative())
        {
            problems.push(("credit_limit", InvalidValue::new("must not be negative")));
        }
        let latest = now + chrono::Duration::days(MAX_OVERRIDE_DAYS);
        if self.expire_time <= now || self.expire_time > latest {
            problems.push((
                "expire_time",
                InvalidValue::new(format!(
                    "must be in the future and at most {MAX_OVERRIDE_DAYS} days ahead"
                )),
            ));
        }
        problems
    }
}

/// Why an override stopped applying before its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub time: DateTime<Utc>,
    pub by: String,
    pub reason: String,
}

/// A grade a person set for a customer, beside the computed one. Kept for good: revoking
/// or expiring ends its effect, not its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeOverride {
    pub id: OverrideId,
    pub customer: CustomerId,
    pub grade: String,
    pub credit_limit: Option<Decimal>,
    pub currency: Option<String>,
    pub reason: String,
    /// The caller's identity, never a name from the request body.
    pub author: String,
    pub create_time: DateTime<Utc>,
    pub expire_time: DateTime<Utc>,
    /// The computed grade and the assessment it came from when the override was set.
    pub computed_grade: String,
    pub assessment: AssessmentId,
    pub revocation: Option<Revocation>,
}

/// Where an override is in its life, at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideState {
    Active,
    Expired,
    Revoked,
}

impl GradeOverride {
    pub fn state(&self, now: DateTime<Utc>) -> OverrideState {
        if self.revocation.is_some() {
            OverrideState::Revoked
        } else if now >= self.expire_time {
            OverrideState::Expired
        } else {
            OverrideState::Active
        }
    }
}

/// A customer's grade as the portfolio reads it: the brief of its newest assessment, with
/// the sales and gross profit of the snapshot graded, kept one row per customer so that
/// book-wide queries never re-read assessments.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentGrade {
    pub customer: CustomerId,
    pub assessment: AssessmentId,
    pub model_version: VersionKey,
    pub grade: String,
    pub total_score: Decimal,
    /// `None` when the model has no policy for the grade (validation refuses such models).
    pub credit_limit: Option<Decimal>,
    /// The snapshot's currency: the credit limit's, sales' and gross profit's.
    pub currency: Option<String>,
    pub payment_terms_days: u32,
    pub service_level: String,
    pub review_required: bool,
    pub assess_time: DateTime<Utc>,
    pub as_of: NaiveDate,
    pub valid_until: NaiveDate,
    /// Our sales to the customer in the 12 months before the snapshot.
    pub sales: Option<Decimal>,
    /// Those sales times their gross margin, to the cent.
    pub gross_profit: Option<Decimal>,
    /// The customer's newest override that was not revoked, if any; it applies until it
    /// expires.
    pub grade_override: Option<GradeOverride>,
}

impl CurrentGrade {
    /// The grade `record` gives, with the sales and gross profit of the `figures` it graded.
    pub fn of(record: &RecordedAssessment, figures: &FigureSet) -> Self {
        let assessment = &record.assessment;
        let credit = assessment.credit.as_ref();
        let (sales, gross_profit) = sales_and_gross_profit(figures);
        Self {
            customer: record.customer,
            assessment: record.id,
            model_version: record.model_version.clone(),
            grade: assessment.grade.clone(),
            total_score: assessment.total_score,
            credit_limit: credit.map(|credit| credit.credit_limit),
            currency: record.snapshot.currency.clone(),
            payment_terms_days: credit.map_or(0, |credit| credit.payment_terms_days),
            service_level: credit
                .map(|credit| credit.service_level.clone())
                .unwrap_or_default(),
            review_required: assessment.review_required,
            assess_time: record.assess_time,
            as_of: assessment.as_of,
            valid_until: assessment.valid_until,
            sales,
            gross_profit,
            grade_override: None,
        }
    }

    /// The override that applies at `now`, if any.
    pub fn active_override(&self, now: DateTime<Utc>) -> Option<&GradeOverride> {
        self.grade_override
            .as_ref()
            .filter(|found| found.state(now) == OverrideState::Active)
    }

    /// The grade that counts at `now`: the override's while one applies, else the computed.
    pub fn effective_grade(&self, now: DateTime<Utc>) -> &str {
        self.active_override(now)
            .map_or(&self.grade, |found| &found.grade)
    }

    /// The credit limit that counts at `now`: an applying override's, when it sets one.
    pub fn effective_credit_limit(&self, now: DateTime<Utc>) -> Option<Decimal> {
        self.active_override(now)
            .and_then(|found| found.credit_limit)
            .or(self.credit_limit)
    }
}

/// The money a customer's figures say it brings: our sales to it in the 12 months before the
/// snapshot, and those sales times their gross margin, to the cent. What the portfolio
/// reports weigh grades by.
pub fn sales_and_gross_profit(figures: &FigureSet) -> (Option<Decimal>, Option<Decimal>) {
    let sales = figures.sales_last_12_months;
    let margin = match Input::GrossMarginPercent.value(figures) {
        Some(InputValue::Number(percent)) => Some(percent),
        _ => None,
    };
    let gross_profit = sales
        .zip(margin)
        .map(|(sales, percent)| round2(sales * percent / Decimal::ONE_HUNDRED));
    (sales, gross_profit)
}

/// A B grade of `customer` assessed at `assess_time`, with no credit, figures or override:
/// the fields a test does not care about, filled in.
#[cfg(test)]
impl CurrentGrade {
    #[allow(clippy::unwrap_used)]
    pub(crate) fn example(customer: CustomerId, assess_time: DateTime<Utc>) -> Self {
        let day = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        Self {
            customer,
            assessment: AssessmentId::generate(),
            model_version: VersionKey {
                model: "m".to_owned(),
                version: 1,
            },
            grade: "B".to_owned(),
            total_score: Decimal::from(82),
            credit_limit: None,
            currency: None,
            payment_terms_days: 45,
            service_level: String::new(),
            review_required: false,
            assess_time,
            as_of: day,
            valid_until: day,
            sales: None,
            gross_profit: None,
            grade_override: None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("existing-customers")]
    #[case("a")]
    #[case("prospects-2027")]
    fn model_ids_of_letters_digits_and_hyphens_are_accepted(#[case] id: &str) {
        assert_eq!(validate_model_id(id), Ok(()));
    }

    #[rstest]
    #[case("")]
    #[case("1st")]
    #[case("Existing")]
    #[case("trailing-")]
    #[case("under_score")]
    #[case("models/x")]
    fn other_model_ids_are_refused(#[case] id: &str) {
        assert!(validate_model_id(id).is_err());
    }

    #[test]
    fn a_model_id_has_at_most_63_characters() {
        assert!(validate_model_id(&"a".repeat(63)).is_ok());
        assert!(validate_model_id(&"a".repeat(64)).is_err());
    }

    fn version(state: VersionState) -> ModelVersion {
        let time = DateTime::<Utc>::UNIX_EPOCH;
        ModelVersion {
            key: VersionKey {
                model: "m".to_owned(),
                version: 2,
            },
            state,
            definition: scoring::ScoringModel {
                name: String::new(),
                version: String::new(),
                criteria: Vec::new(),
                grades: Vec::new(),
                knock_outs: Vec::new(),
                policies: std::collections::BTreeMap::new(),
                validity_months: 12,
            },
            etag_version: 1,
            create_time: time,
            update_time: time,
            publish_time: None,
        }
    }

    #[test]
    fn a_draft_changes_and_a_published_version_grades() {
        let draft = version(VersionState::Draft);
        let published = version(VersionState::Published);
        assert_eq!(draft.ensure_draft(), Ok(()));
        assert_eq!(published.ensure_published("grading"), Ok(()));
        let refused = draft.ensure_published("grading").unwrap_err();
        assert_eq!(
            refused.0,
            "version 2 of m is a draft; publish it before grading"
        );
        assert!(
            published
                .ensure_draft()
                .unwrap_err()
                .0
                .contains("never changes")
        );
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn overridden(expire_at: i64, revoked: bool) -> GradeOverride {
        GradeOverride {
            id: OverrideId::generate(),
            customer: CustomerId::generate(),
            grade: "A".to_owned(),
            credit_limit: Some(Decimal::from(900)),
            currency: Some("CNY".to_owned()),
            reason: "strategic".to_owned(),
            author: "officer".to_owned(),
            create_time: at(0),
            expire_time: at(expire_at),
            computed_grade: "B".to_owned(),
            assessment: AssessmentId::generate(),
            revocation: revoked.then(|| Revocation {
                time: at(5),
                by: "officer".to_owned(),
                reason: "done".to_owned(),
            }),
        }
    }

    #[test]
    fn an_override_applies_until_it_expires_or_is_revoked() {
        let active = overridden(100, false);
        assert_eq!(active.state(at(99)), OverrideState::Active);
        assert_eq!(active.state(at(100)), OverrideState::Expired);
        assert_eq!(overridden(100, true).state(at(10)), OverrideState::Revoked);
    }

    #[test]
    fn the_grade_that_counts_is_the_overrides_while_it_applies() {
        let mut grade = CurrentGrade::example(CustomerId::generate(), at(0));
        grade.credit_limit = Some(Decimal::from(500));
        grade.currency = Some("CNY".to_owned());
        grade.grade_override = Some(overridden(100, false));
        assert_eq!(grade.effective_grade(at(50)), "A");
        assert_eq!(
            grade.effective_credit_limit(at(50)),
            Some(Decimal::from(900))
        );
        assert_eq!(grade.effective_grade(at(150)), "B");
        assert_eq!(
            grade.effective_credit_limit(at(150)),
            Some(Decimal::from(500))
        );
        grade.grade_override = Some(GradeOverride {
            credit_limit: None,
            ..overridden(100, false)
        });
        assert_eq!(
            grade.effective_credit_limit(at(50)),
            Some(Decimal::from(500))
        );
    }

    #[test]
    fn an_override_request_needs_a_reason_and_a_near_future_expiry() {
        let request = OverrideRequest {
            grade: "A".to_owned(),
            credit_limit: Some(Decimal::from(-1)),
            reason: String::new(),
            expire_time: at(0),
        };
        let fields: Vec<&str> = request.check(at(10)).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["reason", "credit_limit", "expire_time"]);
        let too_far = OverrideRequest {
            credit_limit: None,
            reason: "why".to_owned(),
            expire_time: at(10) + chrono::Duration::days(MAX_OVERRIDE_DAYS + 1),
            ..request
        };
        assert_eq!(too_far.check(at(10)).len(), 1);
    }

    #[test]
    fn an_assessment_id_round_trips_in_its_canonical_form_only() {
        let id = AssessmentId::generate();
        assert_eq!(AssessmentId::parse(&id.to_string()), Ok(id));
        assert!(AssessmentId::parse(&id.to_string().to_uppercase()).is_err());
    }
}
