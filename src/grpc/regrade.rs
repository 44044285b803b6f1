//! `PortfolioService.RegradePortfolio`: checks the request, starts the operation in storage
//! and hands it to this server's [`Regrader`], then answers at once with the operation.

use tonic::{Response, Status};

use super::{
    convert::date_to_proto,
    customers::kind_to_proto,
    names::{model_version_name, parse_model_version_name},
    operations::operation_to_proto,
    portfolio::grade_filter,
    request_id::request_id,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{InvalidValue, regrade::Pace},
    proto::{custgrade::v1 as pb, google::longrunning as lro},
    regrade::Regrader,
    storage::{Store, grades::GradeFilter, operations::RegradeSpec},
};

#[tracing::instrument(skip_all, err(level = "debug"))]
pub(super) async fn regrade_portfolio(
    store: &Store,
    regrader: &Regrader,
    request: pb::RegradePortfolioRequest,
) -> Result<Response<lro::Operation>, Status> {
    let mut violations = FieldViolations::default();
    let filter = grade_filter(&request.filter.unwrap_or_default(), &mut violations);
    let model_version = violations.check_optional(
        "model_version",
        Some(request.model_version.as_str()).filter(|name| !name.is_empty()),
        parse_model_version_name,
    );
    let pace = violations.check(
        "max_customers_per_second",
        u32::try_from(request.max_customers_per_second)
            .map(|max_per_second| Pace { max_per_second })
            .map_err(|_| InvalidValue::new("must not be negative".to_owned())),
    );
    let request_id = request_id(&request.request_id, &mut violations);
    violations.finish()?;
    let (Some(filter), Some(model_version), Some(pace)) = (filter, model_version, pace) else {
        return Err(invalid_argument("filter", "is invalid"));
    };
    let spec = RegradeSpec {
        filter,
        model_version,
        pace,
    };
    let (operation, started) = store
        .start_regrade(&spec, request_id.as_deref(), regrader.owner())
        .await?;
    if started {
        tracing::info!(
            operation = %operation.id,
            customers = operation.progress.total,
            "re-grade started"
        );
        regrader.run(operation.id);
    }
    Ok(Response::new(operation_to_proto(&operation)))
}

/// The filter a re-grade keeps, as the request spelled it.
pub(super) fn filter_to_proto(filter: &GradeFilter) -> pb::PortfolioFilter {
    let customers = &filter.customers;
    pb::PortfolioFilter {
        kind: customers
            .kind
            .map_or(pb::CustomerKind::Unspecified, kind_to_proto)
            .into(),
        industry: customers.industry.clone().unwrap_or_default(),
        region: customers.region.clone().unwrap_or_default(),
        label: customers
            .label
            .as_ref()
            .map(|(key, value)| match value {
                Some(value) => format!("{key}={value}"),
                None => key.clone(),
            })
            .unwrap_or_default(),
        grade: filter.grade.clone().unwrap_or_default(),
        model_version: filter
            .model_version
            .as_ref()
            .map(model_version_name)
            .unwrap_or_default(),
        assessed_before: filter
            .assessed_before
            .map(|time| date_to_proto(time.date_naive())),
        valid_until_before: filter.valid_until_before.map(date_to_proto),
        figures_changed: filter.figures_changed,
    }
}
