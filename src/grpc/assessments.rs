//! `custgrade.v1.AssessmentService`: grading customers and reading their grades. The engine
//! runs inside the storage transaction that reads the snapshot and stores the result; this
//! layer validates requests and maps the domain's assessment to the contract.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tonic::{Request, Response, Status};

use super::{
    auth::CallerIdentity,
    convert::{
        date_from_proto, date_to_proto, money_from_proto, money_to_proto, time_window, timestamp,
        timestamp_from_proto, two_decimals,
    },
    customers::record_customer,
    model_definition::effect_to_proto,
    names::{
        assessment_name, customer_name, figures_name, model_version_name, override_name,
        parse_assessment_name, parse_customer_name, parse_model_version_name, parse_override_name,
    },
    pagination,
    request_id::request_id,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        InvalidValue,
        grading::{
            AssessmentId, CurrentGrade, GradeOverride, OverrideId, OverrideRequest, OverrideState,
            RecordedAssessment,
        },
        scoring::{
            Locale, assess_without_sentences,
            assessment::{CriterionResult, FiredKnockOut, MissingTreatment},
            explain,
            explain::matched_text,
            policy::{CapKind, CreditRecommendation, PurchaseSource, ZeroLimitReason},
        },
    },
    proto::custgrade::v1::{self as pb, assessment_service_server::AssessmentService},
    storage::{
        Store,
        assessments::{AssessTarget, AssessmentFilter},
    },
};

pub struct AssessmentApi {
    store: Store,
}

impl AssessmentApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl AssessmentService for AssessmentApi {
    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn assess_customer(
        &self,
        request: Request<pb::AssessCustomerRequest>,
    ) -> Result<Response<pb::Assessment>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let as_of =
            violations.check_optional("as_of_date", request.as_of_date.as_ref(), date_from_proto);
        let model_version = violations.check_optional(
            "model_version",
            Some(request.model_version.as_str()).filter(|name| !name.is_empty()),
            parse_model_version_name,
        );
        let locale = violations.check("locale", locale(&request.locale));
        let request_id = request_id(&request.request_id, &mut violations);
        violations.finish()?;
        let (Some(customer), Some(as_of), Some(model_version), Some(locale)) =
            (customer, as_of, model_version, locale)
        else {
            return Err(invalid_argument("parent", "is invalid"));
        };
        record_customer(customer);
        let target = AssessTarget {
            customer,
            as_of,
            model_version,
        };
        // Stored without sentences; any locale is rendered from the same facts on the way out.
        let recorded = self
            .store
            .record_assessment(&target, request_id.as_deref(), |model, snapshot| {
                assess_without_sentences(model, snapshot, Locale::En)
            })
            .await?;
        tracing::info!(
            grade = %recorded.assessment.grade,
            model_version = %model_version_name(&recorded.model_version),
            "customer assessed"
        );
        Ok(Response::new(assessment_to_proto(recorded, locale)))
    }

    async fn get_assessment(
        &self,
        request: Request<pb::GetAssessmentRequest>,
    ) -> Result<Response<pb::Assessment>, Status> {
        let request = request.into_inner();
        let (customer, id, locale) = named_assessment(&request.name, &request.locale)?;
        let recorded = self.store.get_assessment(customer, id).await?;
        Ok(Response::new(assessment_to_proto(recorded, locale)))
    }

    async fn list_assessments(
        &self,
        request: Request<pb::ListAssessmentsRequest>,
    ) -> Result<Response<pb::ListAssessmentsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let limit = violations.check(
            "page_size",
            pagination::page_size_up_to(request.page_size, pagination::MAX_LARGE_PAGE_SIZE),
        );
        let locale = violations.check("locale", locale(&request.locale));
        let window = time_window(
            request.start_time.as_ref(),
            request.end_time.as_ref(),
            &mut violations,
        );
        let grade = (!request.grade.is_empty()).then(|| request.grade.clone());
        if let Some(grade) = &grade {
            violations.check("grade", crate::domain::invalid::bounded_text(grade, 1, 40));
        }
        let filter = (
            &request.parent,
            &request.grade,
            request.start_time.map(|t| (t.seconds, t.nanos)),
            request.end_time.map(|t| (t.seconds, t.nanos)),
        );
        let after = violations.check(
            "page_token",
            time_and_id_cursor(&request.page_token, &filter, AssessmentId::parse),
        );
        violations.finish()?;
        let (Some(customer), Some(limit), Some(locale), Some((start_time, end_time)), Some(after)) =
            (customer, limit, locale, window, after)
        else {
            return Err(invalid_argument("page_token", "is invalid"));
        };
        let filter_values = AssessmentFilter {
            grade,
            start_time,
            end_time,
        };
        let page = self
            .store
            .list_assessments(customer, &filter_values, after, limit)
            .await?;
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode_pair(last.assess_time.timestamp_micros(), last.id, &filter)
        });
        Ok(Response::new(pb::ListAssessmentsResponse {
            assessments: page
                .items
                .into_iter()
                .map(|recorded| assessment_to_proto(recorded, locale))
                .collect(),
            next_page_token,
        }))
    }

    async fn get_customer_grade(
        &self,
        request: Request<pb::GetCustomerGradeRequest>,
    ) -> Result<Response<pb::CustomerGrade>, Status> {
        let request = request.into_inner();
        let customer = parse_customer_name(&request.customer)
            .map_err(|InvalidValue(reason)| invalid_argument("customer", &reason))?;
        let grade = self.store.current_grade(customer).await?;
        Ok(Response::new(grade_to_proto(&grade, Utc::now())))
    }

    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn override_grade(
        &self,
        request: Request<pb::OverrideGradeRequest>,
    ) -> Result<Response<pb::GradeOverride>, Status> {
        let author = author(&request);
        let request = request.into_inner();
        let now = Utc::now();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let wanted = violations.require(
            "grade_override",
            request.grade_override.as_ref(),
            |wanted, violations| override_from_proto(wanted, now, violations),
        );
        let request_id = request_id(&request.request_id, &mut violations);
        violations.finish()?;
        let (Some(customer), Some(wanted)) = (customer, wanted) else {
            return Err(invalid_argument("grade_override", "is invalid"));
        };
        record_customer(customer);
        let created = self
            .store
            .set_override(customer, &wanted, &author, request_id.as_deref())
            .await?;
        tracing::info!(grade = %created.grade, computed = %created.computed_grade, "grade overridden");
        Ok(Response::new(override_to_proto(&created, now)))
    }

    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn revoke_grade_override(
        &self,
        request: Request<pb::RevokeGradeOverrideRequest>,
    ) -> Result<Response<pb::GradeOverride>, Status> {
        let author = author(&request);
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let ids = violations.check("name", parse_override_name(&request.name));
        violations.check(
            "reason",
            crate::domain::invalid::bounded_text(&request.reason, 1, 500),
        );
        violations.finish()?;
        let Some((customer, id)) = ids else {
            return Err(invalid_argument("name", "is invalid"));
        };
        record_customer(customer);
        let revoked = self
            .store
            .revoke_override(customer, id, &author, &request.reason)
            .await?;
        tracing::info!("grade override revoked");
        Ok(Response::new(override_to_proto(&revoked, Utc::now())))
    }

    async fn list_grade_overrides(
        &self,
        request: Request<pb::ListGradeOverridesRequest>,
    ) -> Result<Response<pb::ListGradeOverridesResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customer = violations.check("parent", parse_customer_name(&request.parent));
        let limit = violations.check("page_size", pagination::page_size(request.page_size));
        let after = violations.check(
            "page_token",
            time_and_id_cursor(&request.page_token, &request.parent, OverrideId::parse),
        );
        violations.finish()?;
        let (Some(customer), Some(limit), Some(after)) = (customer, limit, after) else {
            return Err(invalid_argument("parent", "is invalid"));
        };
        let page = self.store.list_overrides(customer, after, limit).await?;
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode_pair(
                last.create_time.timestamp_micros(),
                last.id,
                &request.parent,
            )
        });
        let now = Utc::now();
        Ok(Response::new(pb::ListGradeOverridesResponse {
            grade_overrides: page
                .items
                .iter()
                .map(|found| override_to_proto(found, now))
                .collect(),
            next_page_token,
        }))
    }

    async fn explain_assessment(
        &self,
        request: Request<pb::ExplainAssessmentRequest>,
    ) -> Result<Response<pb::ExplainAssessmentResponse>, Status> {
        let request = request.into_inner();
        let (customer, id, locale) = named_assessment(&request.name, &request.locale)?;
        let recorded = self.store.get_assessment(customer, id).await?;
        Ok(Response::new(pb::ExplainAssessmentResponse {
            text: explain(&recorded.assessment, locale),
        }))
    }
}

/// The author of a change: the caller's key name, `anonymous` on a server without keys.
fn author<T>(request: &Request<T>) -> String {
    request.extensions().get::<CallerIdentity>().map_or_else(
        || CallerIdentity::ANONYMOUS.to_owned(),
        |caller| caller.name.clone(),
    )
}

/// The assessment `name` and `locale` of a Get or Explain request, both checked.
fn named_assessment(
    name: &str,
    raw_locale: &str,
) -> Result<(crate::domain::customer::CustomerId, AssessmentId, Locale), Status> {
    let mut violations = FieldViolations::default();
    let ids = violations.check("name", parse_assessment_name(name));
    let locale = violations.check("locale", locale(raw_locale));
    violations.finish()?;
    match (ids, locale) {
        (Some((customer, id)), Some(locale)) => {
            record_customer(customer);
            Ok((customer, id, locale))
        }
        _ => Err(invalid_argument("name", "is invalid")),
    }
}

/// A request's locale: English when empty.
fn locale(raw: &str) -> Result<Locale, InvalidValue> {
    if raw.is_empty() {
        Ok(Locale::default())
    } else {
        Locale::from_str(raw)
    }
}

/// Where a page ordered newest first continues: the token carries `{time_micros}/{id}`.
fn time_and_id_cursor<Id>(
    token: &str,
    filter: &impl serde::Serialize,
    parse_id: fn(&str) -> Result<Id, InvalidValue>,
) -> Result<Option<(DateTime<Utc>, Id)>, InvalidValue> {
    pagination::decode_pair(token, filter, |micros, id| {
        let time = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some((time, parse_id(id).ok()?))
    })
}

/// The override a request asks for; `None` (with violations) when it is malformed.
fn override_from_proto(
    wanted: &pb::GradeOverride,
    now: DateTime<Utc>,
    violations: &mut FieldViolations,
) -> Option<OverrideRequest> {
    let expire_time = violations.require(
        "grade_override.expire_time",
        wanted.expire_time.as_ref(),
        |time, violations| {
            violations.check("grade_override.expire_time", timestamp_from_proto(time))
        },
    );
    let credit_limit = violations.check_optional(
        "grade_override.credit_limit",
        wanted.credit_limit.as_ref(),
        |money| money_from_proto(money).map(|(amount, _)| amount),
    );
    let request = OverrideRequest {
        grade: wanted.grade.clone(),
        credit_limit: credit_limit?,
        reason: wanted.reason.clone(),
        expire_time: expire_time?,
    };
    let problems = request.check(now);
    for (field, problem) in &problems {
        violations.add(format!("grade_override.{field}"), problem.0.clone());
    }
    problems.is_empty().then_some(request)
}

fn assessment_to_proto(recorded: RecordedAssessment, locale: Locale) -> pb::Assessment {
    let currency = recorded.snapshot.currency.clone().unwrap_or_default();
    let assessment = recorded.assessment.rendered_in(locale);
    pb::Assessment {
        name: assessment_name(recorded.customer, recorded.id),
        figures: figures_name(
            recorded.customer,
            recorded.snapshot.as_of,
            recorded.snapshot.revision,
            true,
        ),
        as_of_date: Some(date_to_proto(assessment.as_of)),
        model_version: model_version_name(&recorded.model_version),
        assess_time: Some(timestamp(recorded.assess_time)),
        valid_until: Some(date_to_proto(assessment.valid_until)),
        total_score: two_decimals(assessment.total_score),
        grade_before_knock_outs: assessment.grade_before_knock_outs,
        grade: assessment.grade,
        knock_outs: assessment
            .knock_outs
            .iter()
            .map(|fired| knock_out_to_proto(fired, locale))
            .collect(),
        credit: assessment
            .credit
            .as_ref()
            .map(|credit| credit_to_proto(credit, &currency)),
        review_required: assessment.review_required,
        criteria: assessment
            .criteria
            .iter()
            .map(|line| criterion_to_proto(line, locale))
            .collect(),
        reason_codes: assessment
            .reason_codes
            .iter()
            .map(|code| pb::ReasonCode {
                criterion: code.criterion.clone(),
                points_lost: two_decimals(code.points_lost),
            })
            .collect(),
        locale: locale.tag().to_owned(),
    }
}

/// A current grade as the contract shows it at `now`, for GetCustomerGrade and the
/// portfolio lists: the grade that counts, and the computed one beside it.
pub(super) fn grade_to_proto(grade: &CurrentGrade, now: DateTime<Utc>) -> pb::CustomerGrade {
    let currency = grade.currency.as_deref().unwrap_or_default();
    pb::CustomerGrade {
        customer: customer_name(grade.customer),
        assessment: assessment_name(grade.customer, grade.assessment),
        grade: grade.effective_grade(now).to_owned(),
        total_score: two_decimals(grade.total_score),
        credit_limit: grade
            .effective_credit_limit(now)
            .and_then(|amount| limit(amount, currency)),
        computed_grade: grade.grade.clone(),
        computed_credit_limit: grade
            .credit_limit
            .and_then(|amount| limit(amount, currency)),
        grade_override: grade
            .active_override(now)
            .map(|found| override_to_proto(found, now)),
        payment_terms_days: terms(grade.payment_terms_days),
        service_level: grade.service_level.clone(),
        review_required: grade.review_required,
        assess_time: Some(timestamp(grade.assess_time)),
        valid_until: Some(date_to_proto(grade.valid_until)),
        model_version: model_version_name(&grade.model_version),
    }
}

fn override_to_proto(found: &GradeOverride, now: DateTime<Utc>) -> pb::GradeOverride {
    let currency = found.currency.as_deref().unwrap_or_default();
    let revocation = found.revocation.as_ref();
    pb::GradeOverride {
        name: override_name(found.customer, found.id),
        grade: found.grade.clone(),
        credit_limit: found
            .credit_limit
            .and_then(|amount| limit(amount, currency)),
        reason: found.reason.clone(),
        expire_time: Some(timestamp(found.expire_time)),
        author: found.author.clone(),
        create_time: Some(timestamp(found.create_time)),
        computed_grade: found.computed_grade.clone(),
        assessment: assessment_name(found.customer, found.assessment),
        state: match found.state(now) {
            OverrideState::Active => pb::grade_override::State::Active,
            OverrideState::Expired => pb::grade_override::State::Expired,
            OverrideState::Revoked => pb::grade_override::State::Revoked,
        }
        .into(),
        revoke_time: revocation.map(|revoked| timestamp(revoked.time)),
        revoked_by: revocation
            .map(|revoked| revoked.by.clone())
            .unwrap_or_default(),
        revoke_reason: revocation
            .map(|revoked| revoked.reason.clone())
            .unwrap_or_default(),
    }
}

fn criterion_to_proto(line: &CriterionResult, locale: Locale) -> pb::CriterionResult {
    pb::CriterionResult {
        key: line.key.clone(),
        input: line.input.field_name(),
        value: line
            .value
            .as_ref()
            .map(|value| value.lookup_key())
            .unwrap_or_default(),
        matched: line
            .matched
            .as_ref()
            .map(|matched| matched_text(matched, locale))
            .unwrap_or_default(),
        missing_treatment: match line.missing {
            None => pb::MissingTreatment::Unspecified,
            Some(MissingTreatment::CountedAsZero) => pb::MissingTreatment::CountedAsZero,
            Some(MissingTreatment::CountedAsNeutral) => pb::MissingTreatment::CountedAsNeutral,
            Some(MissingTreatment::Dropped) => pb::MissingTreatment::Dropped,
        }
        .into(),
        points: two_decimals(line.points),
        weight_percent: two_decimals(line.weight_percent),
        effective_weight_percent: two_decimals(line.effective_weight_percent),
        contribution: two_decimals(line.contribution),
        max_contribution: two_decimals(line.max_contribution),
        sentence: line.sentence.clone(),
    }
}

fn knock_out_to_proto(fired: &FiredKnockOut, locale: Locale) -> pb::FiredKnockOut {
    let (effect, cap_grade) = effect_to_proto(&fired.effect);
    pb::FiredKnockOut {
        key: fired.key.clone(),
        description: fired.description(locale).to_owned(),
        effect: effect.into(),
        cap_grade,
    }
}

fn credit_to_proto(credit: &CreditRecommendation, currency: &str) -> pb::CreditRecommendation {
    let (zero_reason, blocked_by) = match &credit.zero_reason {
        None => (pb::ZeroLimitReason::Unspecified, Vec::new()),
        Some(ZeroLimitReason::CreditBlocked(keys)) => {
            (pb::ZeroLimitReason::CreditBlocked, keys.clone())
        }
        Some(ZeroLimitReason::NoPurchaseFigures) => {
            (pb::ZeroLimitReason::NoPurchaseFigures, Vec::new())
        }
    };
    let purchases = credit.monthly_purchases.as_ref();
    pb::CreditRecommendation {
        credit_limit: limit(credit.credit_limit, currency),
        payment_terms_days: terms(credit.payment_terms_days),
        service_level: credit.service_level.clone(),
        purchase_basis: match purchases.map(|purchases| purchases.source) {
            None => pb::PurchaseBasis::Unspecified,
            Some(PurchaseSource::SalesLast12Months) => pb::PurchaseBasis::SalesLast12Months,
            Some(PurchaseSource::AnnualPurchaseBudget) => pb::PurchaseBasis::AnnualPurchaseBudget,
        }
        .into(),
        annual_purchases: purchases.and_then(|purchases| limit(purchases.annual, currency)),
        caps_applied: credit
            .caps_applied
            .iter()
            .map(|cap| pb::CreditCap {
                kind: match cap.kind {
                    CapKind::NetAssets => pb::CreditCapKind::NetAssets,
                    CapKind::Revenue => pb::CreditCapKind::Revenue,
                }
                .into(),
                amount: limit(cap.amount, currency),
            })
            .collect(),
        zero_reason: zero_reason.into(),
        blocked_by,
    }
}

/// An amount in the snapshot's currency; none when the snapshot has no currency at all.
fn limit(amount: Decimal, currency: &str) -> Option<crate::proto::google::r#type::Money> {
    (!currency.is_empty()).then(|| money_to_proto(amount, currency))
}

fn terms(days: u32) -> i32 {
    i32::try_from(days).unwrap_or(i32::MAX)
}
