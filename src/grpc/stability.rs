//! `PortfolioService.GetStabilityReport`: checks the request, streams the two periods through
//! the domain's tally (the base first, whose deciles cut the scores) and maps the report. Apart
//! from `portfolio.rs` because it reads assessments, not the current grades.

use rust_decimal::Decimal;
use tonic::Status;

use super::{
    convert::{count_to_proto, two_decimals},
    names::parse_model_version_name,
    outcomes::required_period,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::stability::{BaseTally, Bin, Comparison, Reading, ScoreRange, StabilityReport},
    proto::custgrade::v1 as pb,
    storage::Store,
};

/// The stability report a request asks for.
pub(super) async fn stability_report(
    store: &Store,
    request: &pb::GetStabilityReportRequest,
) -> Result<pb::StabilityReport, Status> {
    let mut violations = FieldViolations::default();
    let version = violations.check(
        "model_version",
        parse_model_version_name(&request.model_version),
    );
    let base = required_period(
        ("base_from", request.base_from.as_ref()),
        ("base_until", request.base_until.as_ref()),
        &mut violations,
    );
    let compare = required_period(
        ("compare_from", request.compare_from.as_ref()),
        ("compare_until", request.compare_until.as_ref()),
        &mut violations,
    );
    violations.finish()?;
    let (Some(version), Some(base), Some(compare)) = (version, base, compare) else {
        return Err(invalid_argument("model_version", "is invalid"));
    };
    let mut base_tally = BaseTally::default();
    store
        .visit_newest_in(&version, &base, |assessment| base_tally.add(assessment))
        .await?;
    let mut compare_tally = base_tally.into_compare();
    store
        .visit_newest_in(&version, &compare, |assessment| {
            compare_tally.add(assessment)
        })
        .await?;
    Ok(report_to_proto(&compare_tally.finish()))
}

fn report_to_proto(report: &StabilityReport) -> pb::StabilityReport {
    let score = &report.score;
    pb::StabilityReport {
        base_customer_count: count_to_proto(report.base_customers),
        compare_customer_count: count_to_proto(report.compare_customers),
        score: Some(pb::PopulationStability {
            psi: psi_to_proto(score),
            reading: reading_to_proto(score).into(),
            bins: score.bins.iter().map(score_bin_to_proto).collect(),
        }),
        criteria: report
            .criteria
            .iter()
            .map(|criterion| pb::CriterionStability {
                key: criterion.key.clone(),
                psi: psi_to_proto(&criterion.points),
                reading: reading_to_proto(&criterion.points).into(),
                bins: criterion
                    .points
                    .bins
                    .iter()
                    .map(points_bin_to_proto)
                    .collect(),
            })
            .collect(),
    }
}

/// Four decimals, or empty when there is no PSI.
fn psi_to_proto<V>(comparison: &Comparison<V>) -> String {
    comparison
        .psi
        .map(|psi| format!("{psi:.4}"))
        .unwrap_or_default()
}

fn reading_to_proto<V>(comparison: &Comparison<V>) -> pb::StabilityReading {
    match comparison.reading() {
        None => pb::StabilityReading::Unspecified,
        Some(Reading::Stable) => pb::StabilityReading::Stable,
        Some(Reading::Watch) => pb::StabilityReading::Watch,
        Some(Reading::Shifted) => pb::StabilityReading::Shifted,
    }
}

fn score_bin_to_proto(bin: &Bin<ScoreRange>) -> pb::StabilityScoreBin {
    let bound = |score: Option<Decimal>| score.map(two_decimals).unwrap_or_default();
    pb::StabilityScoreBin {
        lower_score: bound(bin.holds.lower),
        upper_score: bound(bin.holds.upper),
        base_customer_count: count_to_proto(bin.base_customers),
        compare_customer_count: count_to_proto(bin.compare_customers),
        base_share_percent: two_decimals(bin.base_share_percent),
        compare_share_percent: two_decimals(bin.compare_share_percent),
    }
}

fn points_bin_to_proto(bin: &Bin<Decimal>) -> pb::StabilityPointsBin {
    pb::StabilityPointsBin {
        points: two_decimals(bin.holds),
        base_customer_count: count_to_proto(bin.base_customers),
        compare_customer_count: count_to_proto(bin.compare_customers),
        base_share_percent: two_decimals(bin.base_share_percent),
        compare_share_percent: two_decimals(bin.compare_share_percent),
    }
}
