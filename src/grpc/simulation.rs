//! `ScoringModelService.SimulateModelVersion`: a version graded over the book without storing
//! anything, against each population's champion.

use tonic::Status;

use super::{
    convert::{count_to_proto, two_decimals},
    customers::customer_cursor_id,
    names::{customer_name, model_version_name, parse_model_version_name},
    pagination,
    portfolio::{
        checked_currency, customers_only, distribution_to_proto, filter_fingerprint,
        migration_cells,
    },
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        scoring::validate,
        simulation::{GradeChange, Simulation, SimulationReport},
    },
    proto::custgrade::v1 as pb,
    storage::Store,
};

/// Runs the simulation the request asks for and returns its page of changed customers.
pub(super) async fn simulate(
    store: &Store,
    request: pb::SimulateModelVersionRequest,
) -> Result<pb::SimulateModelVersionResponse, Status> {
    let raw_filter = request.filter.unwrap_or_default();
    let mut violations = FieldViolations::default();
    let key = violations.check("name", parse_model_version_name(&request.name));
    let customers = customers_only(&raw_filter, "a simulation", &mut violations);
    let currency = checked_currency(&request.currency_code, &mut violations);
    let page_size = violations.check("page_size", pagination::page_size(request.page_size));
    // A page continues the same simulation: same version, customers and currency.
    let fingerprint = (
        &request.name,
        filter_fingerprint(&raw_filter),
        &request.currency_code,
    );
    let after = violations.check(
        "page_token",
        customer_cursor_id(&request.page_token, &fingerprint),
    );
    violations.finish()?;
    let (Some(key), Some(customers), Some(currency), Some(page_size), Some(after)) =
        (key, customers, currency, page_size, after)
    else {
        return Err(invalid_argument("name", "is invalid"));
    };
    let candidate = store.get_model_version(&key).await?;
    let problems = validate(&candidate.definition);
    if !problems.is_empty() {
        return Err(super::models::refused_for(&problems));
    }
    let champions = store.champion_versions().await?;
    let page_size = usize::try_from(page_size).unwrap_or(usize::MAX);
    let mut simulation = Simulation::new(&candidate.definition, &champions, after, page_size);
    let selected = store
        .visit_newest_figures(&customers, |kind, figures| {
            simulation.add(figures.customer, kind, &figures.snapshot);
        })
        .await?;
    let report = simulation
        .finish(currency.as_deref())
        .map_err(|refusal| Status::failed_precondition(refusal.0))?;
    let next_page_token = pagination::next_page_token(&report.changes, report.has_more, |last| {
        pagination::encode(&last.customer.to_string(), &fingerprint)
    });
    Ok(simulation_to_proto(&report, selected, next_page_token))
}

fn simulation_to_proto(
    report: &SimulationReport,
    selected: u64,
    next_page_token: String,
) -> pb::SimulateModelVersionResponse {
    let graded = report.distribution.customers;
    let migration = &report.migration;
    pb::SimulateModelVersionResponse {
        customer_count: count_to_proto(graded),
        customers_without_figures: count_to_proto(selected.saturating_sub(graded)),
        distribution: Some(distribution_to_proto(&report.distribution)),
        migration: migration_cells(migration),
        upgraded_count: count_to_proto(migration.upgraded),
        downgraded_count: count_to_proto(migration.downgraded),
        unchanged_count: count_to_proto(migration.unchanged),
        without_champion_count: count_to_proto(migration.newly_graded),
        changed_customers: report.changes.iter().map(change_to_proto).collect(),
        next_page_token,
    }
}

fn change_to_proto(change: &GradeChange) -> pb::SimulatedGradeChange {
    pb::SimulatedGradeChange {
        customer: customer_name(change.customer),
        champion_model_version: model_version_name(&change.champion),
        champion_grade: change.champion_grade.clone(),
        champion_total_score: two_decimals(change.champion_score),
        grade: change.grade.clone(),
        total_score: two_decimals(change.score),
    }
}
