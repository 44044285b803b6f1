//! `custgrade.v1.PortfolioService`: the book of current grades, listed and spread across
//! grades. Reads the current-grade table only, never the assessments.

use chrono::{DateTime, Utc};
use tonic::{Request, Response, Status};

use super::{
    assessments::grade_to_proto,
    convert::{
        count_to_proto, date_from_proto, money_to_proto, timestamp_from_proto, two_decimals,
    },
    customers::{CustomerFilterFields, customer_cursor_id, customer_filter},
    names::{customer_name, parse_model_version_name},
    override_report::override_report,
    pagination,
    regrade::regrade_portfolio,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        InvalidValue,
        figures::validate_currency,
        portfolio::{AbcClass, Distribution, Migration, ParetoReport, ParetoTally, Tally},
    },
    proto::{
        custgrade::v1::{self as pb, portfolio_service_server::PortfolioService},
        google::longrunning::Operation,
    },
    regrade::Regrader,
    storage::{Store, customers::CustomerFilter, grades::GradeFilter},
};

pub struct PortfolioApi {
    store: Store,
    regrader: Regrader,
}

impl PortfolioApi {
    pub fn new(store: Store, regrader: Regrader) -> Self {
        Self { store, regrader }
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
        let now = Utc::now();
        let page = self.store.list_grades(&filter, after, limit).await?;
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode(&last.customer.to_string(), &fingerprint)
        });
        Ok(Response::new(pb::ListCustomerGradesResponse {
            customer_grades: page
                .items
                .iter()
                .map(|grade| grade_to_proto(grade, now))
                .collect(),
            next_page_token,
        }))
    }

    async fn get_grade_distribution(
        &self,
        request: Request<pb::GetGradeDistributionRequest>,
    ) -> Result<Response<pb::GradeDistribution>, Status> {
        let request = request.into_inner();
        let raw_filter = request.filter.unwrap_or_default();
        let (tally, currency) = match request.as_of_time {
            None => {
                let (filter, currency) = filter_and_currency(&raw_filter, &request.currency_code)?;
                let mut tally = Tally::at(Utc::now());
                self.store
                    .visit_grades(&filter, |grade| tally.add(&grade))
                    .await?;
                (tally, currency)
            }
            Some(as_of) => {
                let (customers, at, currency) =
                    past_filter(&raw_filter, &as_of, &request.currency_code)?;
                let mut tally = Tally::at(at);
                self.store
                    .visit_grades_at(&customers, at, |past| tally.add_past(&past))
                    .await?;
                (tally, currency)
            }
        };
        let distribution = tally
            .finish(currency.as_deref())
            .map_err(|refusal| Status::failed_precondition(refusal.0))?;
        Ok(Response::new(distribution_to_proto(&distribution)))
    }

    async fn get_pareto_report(
        &self,
        request: Request<pb::GetParetoReportRequest>,
    ) -> Result<Response<pb::ParetoReport>, Status> {
        let request = request.into_inner();
        let (filter, currency) =
            filter_and_currency(&request.filter.unwrap_or_default(), &request.currency_code)?;
        let mut tally = ParetoTally::at(Utc::now());
        self.store
            .visit_grades(&filter, |grade| tally.add(&grade))
            .await?;
        let report = tally
            .finish(currency.as_deref())
            .map_err(|refusal| Status::failed_precondition(refusal.0))?;
        Ok(Response::new(pareto_to_proto(&report)))
    }

    async fn get_grade_migration(
        &self,
        request: Request<pb::GetGradeMigrationRequest>,
    ) -> Result<Response<pb::GradeMigration>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let customers = customers_only(
            &request.filter.unwrap_or_default(),
            "past grades",
            &mut violations,
        );
        let from = violations.require("from_time", request.from_time.as_ref(), |time, v| {
            v.check("from_time", timestamp_from_proto(time))
        });
        let to = violations.require("to_time", request.to_time.as_ref(), |time, v| {
            v.check("to_time", timestamp_from_proto(time))
        });
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            violations.add("to_time", "must be after from_time");
        }
        violations.finish()?;
        let (Some(customers), Some(from), Some(to)) = (customers, from, to) else {
            return Err(invalid_argument("filter", "is invalid"));
        };
        let mut migration = Migration::default();
        // One more than listed, to tell whether the list was cut.
        let mut movers = Vec::new();
        self.store
            .visit_grade_pairs(&customers, from, to, |customer, before, after| {
                let listed = before.clone().zip(after.clone());
                if migration.add(before, after)
                    && request.list_movers
                    && movers.len() <= MAX_MOVERS
                    && let Some((from_grade, to_grade)) = listed
                {
                    movers.push(pb::GradeMover {
                        customer: customer_name(customer),
                        from_grade,
                        to_grade,
                    });
                }
            })
            .await?;
        Ok(Response::new(migration_to_proto(&migration, movers)))
    }

    async fn get_override_report(
        &self,
        request: Request<pb::GetOverrideReportRequest>,
    ) -> Result<Response<pb::OverrideReport>, Status> {
        override_report(&self.store, request.into_inner())
            .await
            .map(Response::new)
    }

    async fn get_stability_report(
        &self,
        request: Request<pb::GetStabilityReportRequest>,
    ) -> Result<Response<pb::StabilityReport>, Status> {
        super::stability::stability_report(&self.store, request.get_ref())
            .await
            .map(Response::new)
    }

    async fn regrade_portfolio(
        &self,
        request: Request<pb::RegradePortfolioRequest>,
    ) -> Result<Response<Operation>, Status> {
        regrade_portfolio(&self.store, &self.regrader, request.into_inner()).await
    }
}

/// The most movers a migration lists.
const MAX_MOVERS: usize = 1000;

/// The matrix and counts of a migration, with the movers the caller kept (at most one more
/// than are listed, to tell whether the list was cut).
fn migration_to_proto(
    migration: &Migration,
    mut movers: Vec<pb::GradeMover>,
) -> pb::GradeMigration {
    let movers_truncated = movers.len() > MAX_MOVERS;
    movers.truncate(MAX_MOVERS);
    pb::GradeMigration {
        cells: migration_cells(migration),
        upgraded_count: count_to_proto(migration.upgraded),
        downgraded_count: count_to_proto(migration.downgraded),
        unchanged_count: count_to_proto(migration.unchanged),
        newly_graded_count: count_to_proto(migration.newly_graded),
        movers,
        movers_truncated,
    }
}

/// One cell per pair of grades that occurs; no grade before is an empty `from_grade`.
pub(super) fn migration_cells(migration: &Migration) -> Vec<pb::GradeMove> {
    migration
        .cells
        .iter()
        .map(|((from, to), customers)| pb::GradeMove {
            from_grade: from.clone().unwrap_or_default(),
            to_grade: to.clone().unwrap_or_default(),
            customer_count: count_to_proto(*customers),
        })
        .collect()
}

/// A past distribution's customers, time and currency, all checked.
fn past_filter(
    raw_filter: &pb::PortfolioFilter,
    as_of: &prost_types::Timestamp,
    currency_code: &str,
) -> Result<(CustomerFilter, DateTime<Utc>, Option<String>), Status> {
    let mut violations = FieldViolations::default();
    let customers = customers_only(raw_filter, "a past distribution", &mut violations);
    let at = violations.check(
        "as_of_time",
        timestamp_from_proto(as_of).and_then(|at| {
            if at > Utc::now() {
                Err(InvalidValue::new("must not be in the future"))
            } else {
                Ok(at)
            }
        }),
    );
    let currency = checked_currency(currency_code, &mut violations);
    violations.finish()?;
    match (customers, at, currency) {
        (Some(customers), Some(at), Some(currency)) => Ok((customers, at, currency)),
        _ => Err(invalid_argument("filter", "is invalid")),
    }
}

/// A request's filter and currency, both checked.
fn filter_and_currency(
    raw_filter: &pb::PortfolioFilter,
    currency_code: &str,
) -> Result<(GradeFilter, Option<String>), Status> {
    let mut violations = FieldViolations::default();
    let filter = grade_filter(raw_filter, &mut violations);
    let currency = checked_currency(currency_code, &mut violations);
    violations.finish()?;
    match (filter, currency) {
        (Some(filter), Some(currency)) => Ok((filter, currency)),
        _ => Err(invalid_argument("filter", "is invalid")),
    }
}

/// The currency money is summed in: the one named, or none to take the only one present.
pub(super) fn checked_currency(
    currency_code: &str,
    violations: &mut FieldViolations,
) -> Option<Option<String>> {
    violations.check_optional(
        "currency_code",
        Some(currency_code).filter(|code| !code.is_empty()),
        validate_currency,
    )
}

/// Reads a portfolio filter for a query where only the customer's own fields apply, not its
/// current grade's (`grade`, `model_version`, `assessed_before`, `valid_until_before`,
/// `figures_changed`): one about `what`.
pub(super) fn customers_only(
    raw: &pb::PortfolioFilter,
    what: &str,
    violations: &mut FieldViolations,
) -> Option<CustomerFilter> {
    for (field, set) in [
        ("filter.grade", !raw.grade.is_empty()),
        ("filter.model_version", !raw.model_version.is_empty()),
        ("filter.assessed_before", raw.assessed_before.is_some()),
        (
            "filter.valid_until_before",
            raw.valid_until_before.is_some(),
        ),
        ("filter.figures_changed", raw.figures_changed),
    ] {
        if set {
            violations.add(field, format!("does not apply to {what}; leave it empty"));
        }
    }
    customers_of(raw, violations)
}

/// The customer's own fields of a portfolio filter: kind, industry, region and label.
fn customers_of(
    raw: &pb::PortfolioFilter,
    violations: &mut FieldViolations,
) -> Option<CustomerFilter> {
    customer_filter(
        CustomerFilterFields {
            kind: raw.kind,
            industry: &raw.industry,
            region: &raw.region,
            label: &raw.label,
            show_deleted: false,
        },
        "filter.",
        violations,
    )
}

/// Reads a portfolio filter; violations are named `filter.{field}`.
pub(super) fn grade_filter(
    raw: &pb::PortfolioFilter,
    violations: &mut FieldViolations,
) -> Option<GradeFilter> {
    let customers = customers_of(raw, violations);
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
    let valid_until_before = violations.check_optional(
        "filter.valid_until_before",
        raw.valid_until_before.as_ref(),
        date_from_proto,
    );
    Some(GradeFilter {
        customers: customers?,
        grade: (!raw.grade.is_empty()).then(|| raw.grade.clone()),
        model_version: model_version?,
        assessed_before: assessed_before?,
        valid_until_before: valid_until_before?,
        figures_changed: raw.figures_changed,
    })
}

/// What a page token is bound to: every field of the filter as sent.
pub(super) fn filter_fingerprint(raw: &pb::PortfolioFilter) -> impl serde::Serialize {
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
        raw.valid_until_before
            .as_ref()
            .map(|d| (d.year, d.month, d.day)),
        raw.figures_changed,
    )
}

fn pareto_to_proto(report: &ParetoReport) -> pb::ParetoReport {
    let money = |amount| {
        report
            .currency
            .as_deref()
            .map(|currency| money_to_proto(amount, currency))
    };
    pb::ParetoReport {
        customer_count: count_to_proto(report.customers),
        customers_in_other_currencies: count_to_proto(report.customers_in_other_currencies),
        sales: money(report.sales),
        gross_profit: money(report.gross_profit),
        top_fifth_customer_count: count_to_proto(report.top_fifth_customers),
        top_fifth_sales_share_percent: two_decimals(report.top_fifth_sales_share_percent),
        top_fifth_gross_profit_share_percent: two_decimals(
            report.top_fifth_gross_profit_share_percent,
        ),
        top_grades: report
            .top_grades
            .iter()
            .map(|cumulative| pb::CumulativeGradeShare {
                up_to_grade: cumulative.up_to_grade.clone(),
                customer_count: count_to_proto(cumulative.customers),
                customer_share_percent: two_decimals(cumulative.customer_share_percent),
                sales_share_percent: two_decimals(cumulative.sales_share_percent),
                gross_profit_share_percent: two_decimals(cumulative.gross_profit_share_percent),
            })
            .collect(),
        abc_classes: report
            .abc
            .iter()
            .map(|class| pb::AbcClassShare {
                abc_class: match class.class {
                    AbcClass::A => pb::AbcClass::A,
                    AbcClass::B => pb::AbcClass::B,
                    AbcClass::C => pb::AbcClass::C,
                }
                .into(),
                customer_count: count_to_proto(class.customers),
                sales_share_percent: two_decimals(class.sales_share_percent),
                grades: class
                    .by_grade
                    .iter()
                    .map(|(grade, customers)| pb::GradeCount {
                        grade: grade.clone(),
                        customer_count: count_to_proto(*customers),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub(super) fn distribution_to_proto(distribution: &Distribution) -> pb::GradeDistribution {
    let money = |amount| {
        distribution
            .currency
            .as_deref()
            .map(|currency| money_to_proto(amount, currency))
    };
    pb::GradeDistribution {
        customer_count: count_to_proto(distribution.customers),
        sales: money(distribution.sales),
        gross_profit: money(distribution.gross_profit),
        grades: distribution
            .grades
            .iter()
            .map(|(grade, grade_share)| pb::GradeShare {
                grade: grade.clone(),
                customer_count: count_to_proto(grade_share.customers),
                customer_share_percent: two_decimals(grade_share.customer_share_percent),
                sales: money(grade_share.sales),
                sales_share_percent: two_decimals(grade_share.sales_share_percent),
                gross_profit: money(grade_share.gross_profit),
                gross_profit_share_percent: two_decimals(grade_share.gross_profit_share_percent),
            })
            .collect(),
    }
}
