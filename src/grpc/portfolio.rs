//! `custgrade.v1.PortfolioService`: the book of current grades, listed and spread across
//! grades. Reads the current-grade table only, never the assessments.

use tonic::{Request, Response, Status};

use super::{
    assessments::grade_to_proto,
    convert::{date_from_proto, money_to_proto},
    customers::{CustomerFilterFields, customer_cursor_id, customer_filter},
    names::parse_model_version_name,
    pagination,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        figures::validate_currency,
        portfolio::{Distribution, Tally},
    },
    proto::custgrade::v1::{self as pb, portfolio_service_server::PortfolioService},
    storage::{Store, grades::GradeFilter},
};

pub struct PortfolioApi {
    store: Store,
}

impl PortfolioApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl PortfolioService for PortfolioApi {
    async fn list_customer_grades(
        &self,
        request: Request<pb::ListCustomerGradesRequest>,
    ) -> Result<Response<pb::ListCustomerGradesResponse>, Status> {
        let request = request.into_inner();
        let raw_filter = request.filter.unwrap_or_default();
        let mut violations = FieldViolations::default();
        let filter = grade_filter(&raw_filter, &mut violations);
        let limit = violations.check("page_size", pagination::page_size(request.page_size));
        let fingerprint = filter_fingerprint(&raw_filter);
        let after = violations.check(
            "page_token",
            customer_cursor_id(&request.page_token, &fingerprint),
        );
        violations.finish()?;
        let (Some(filter), Some(limit), Some(after)) = (filter, limit, after) else {
            return Err(invalid_argument("filter", "is invalid"));
        };
        let page = self.store.list_grades(&filter, after, limit).await?;
        let next_page_token = match page.items.last() {
            Some(last) if page.has_more => {
                pagination::encode(&last.customer.to_string(), &fingerprint)
            }
            _ => String::new(),
        };
        Ok(Response::new(pb::ListCustomerGradesResponse {
            customer_grades: page.items.iter().map(grade_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_grade_distribution(
        &self,
        request: Request<pb::GetGradeDistributionRequest>,
    ) -> Result<Response<pb::GradeDistribution>, Status> {
        let request = request.into_inner();
        let raw_filter = request.filter.unwrap_or_default();
        let mut violations = FieldViolations::default();
        let filter = grade_filter(&raw_filter, &mut violations);
        let currency = violations.check_optional(
            "currency_code",
            Some(request.currency_code.as_str()).filter(|code| !code.is_empty()),
            validate_currency,
        );
        violations.finish()?;
        let (Some(filter), Some(currency)) = (filter, currency) else {
            return Err(invalid_argument("filter", "is invalid"));
        };
        let mut tally = Tally::default();
        self.store
            .visit_grades(&filter, |grade| tally.add(&grade))
            .await?;
        let distribution = tally
            .finish(currency.as_deref())
            .map_err(|refusal| Status::failed_precondition(refusal.0))?;
        Ok(Response::new(distribution_to_proto(&distribution)))
    }
}

/// Reads a portfolio filter; violations are named `filter.{field}`.
fn grade_filter(
    raw: &pb::PortfolioFilter,
    violations: &mut FieldViolations,
) -> Option<GradeFilter> {
    let customers = customer_filter(
        CustomerFilterFields {
            kind: raw.kind,
            industry: &raw.industry,
            region: &raw.region,
            label: &raw.label,
            show_deleted: false,
        },
        "filter.",
        violations,
    );
    let model_version = violations.check_optional(
        "filter.model_version",
        Some(raw.model_version.as_str()).filter(|name| !name.is_empty()),
        parse_model_version_name,
    );
    let assessed_before = violations.check_optional(
        "filter.assessed_before",
        raw.assessed_before.as_ref(),
        |date| date_from_proto(date).map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc()),
    );
    Some(GradeFilter {
        customers: customers?,
        grade: (!raw.grade.is_empty()).then(|| raw.grade.clone()),
        model_version: model_version?,
        assessed_before: assessed_before?,
    })
}

/// What a page token is bound to: every field of the filter as sent.
fn filter_fingerprint(raw: &pb::PortfolioFilter) -> impl serde::Serialize {
    (
        raw.kind,
        raw.industry.clone(),
        raw.region.clone(),
        raw.label.clone(),
        raw.grade.clone(),
        raw.model_version.clone(),
        raw.assessed_before
            .as_ref()
            .map(|d| (d.year, d.month, d.day)),
    )
}

fn distribution_to_proto(distribution: &Distribution) -> pb::GradeDistribution {
    let money = |amount| {
        distribution
            .currency
            .as_deref()
            .map(|currency| money_to_proto(amount, currency))
    };
    pb::GradeDistribution {
        customer_count: i64::try_from(distribution.customers).unwrap_or(i64::MAX),
        sales: money(distribution.sales),
        gross_profit: money(distribution.gross_profit),
        grades: distribution
            .grades
            .iter()
            .map(|(grade, share)| pb::GradeShare {
                grade: grade.clone(),
                customer_count: i64::try_from(share.customers).unwrap_or(i64::MAX),
                customer_share_percent: format!("{:.2}", share.customer_share_percent),
                sales: money(share.sales),
                sales_share_percent: format!("{:.2}", share.sales_share_percent),
                gross_profit: money(share.gross_profit),
                gross_profit_share_percent: format!("{:.2}", share.gross_profit_share_percent),
            })
            .collect(),
    }
}
