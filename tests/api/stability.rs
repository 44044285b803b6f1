//! PortfolioService.GetStabilityReport over the real socket. The server stamps every grading
//! with its own clock, so the base period is made by grading customers and then moving those
//! gradings ten days back in the database; the compare period is graded now, with shifted
//! figures. The expected deciles, shares and PSI are recomputed here from the scores and
//! points the gradings returned, by the contract's definitions, never by the crate's code.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use custgrade::proto::custgrade::v1::{
    Assessment, Figures, GetStabilityReportRequest, StabilityReading, StabilityReport,
};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection,
    sea_query::{Alias, Expr, ExprTrait, Query},
};
use tonic::{Code, Status};

use crate::{
    assessments::{assess, cents, record, sound_figures},
    figures::{create_customer, proto_date},
    helpers::{TestApp, bad_request_fields, fields},
    on_every_backend,
    portfolio::percent,
};

const EXISTING_V1: &str = "models/existing-customers/versions/1";

/// A grading as the test reads it: the total score and each criterion's points, in cents,
/// the criteria in the model's order.
#[derive(Debug, Clone)]
struct Graded {
    score: i64,
    points: Vec<(String, i64)>,
}

fn graded(assessment: &Assessment) -> Graded {
    Graded {
        score: cents(&assessment.total_score),
        points: assessment
            .criteria
            .iter()
            .map(|line| (line.key.clone(), cents(&line.points)))
            .collect(),
    }
}

/// Customer `index`'s figures in the base period: payment rates from 60 % up, overdues of
/// 0 to 80 days, so scores spread over many bands.
fn base_figures(index: u32) -> Figures {
    Figures {
        on_time_payment_rate_percent: Some(60.0 + f64::from(index)),
        longest_overdue_days: Some(i32::try_from(index % 5).unwrap() * 20),
        ..sound_figures()
    }
}

/// The compare period's: ten points worse on payments and longer overdues.
fn compare_figures(index: u32) -> Figures {
    Figures {
        on_time_payment_rate_percent: Some(50.0 + f64::from(index)),
        longest_overdue_days: Some(i32::try_from(index % 4).unwrap() * 30 + 10),
        ..sound_figures()
    }
}

/// A grading that a later one of the same period replaces.
fn superseded_figures() -> Figures {
    Figures {
        longest_overdue_days: Some(120),
        ..sound_figures()
    }
}

fn at_noon(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc()
}

/// Moves every grading made at or after `since` to `to`.
async fn move_gradings(database: &DatabaseConnection, since: DateTime<Utc>, to: DateTime<Utc>) {
    let update = Query::update()
        .table(Alias::new("assessments"))
        .value(Alias::new("assess_time"), to)
        .and_where(Expr::col(Alias::new("assess_time")).gte(since))
        .to_owned();
    database.execute(&update).await.expect("the gradings moved");
}

/// Grades `customer` with `figures` (replacing its figures), and keeps the grading as the
/// customer's newest of the period.
async fn grade(
    app: &TestApp,
    period: &mut BTreeMap<String, Graded>,
    customer: &str,
    figures: Figures,
) {
    record(app, customer, figures, true).await;
    let assessment = assess(app, customer).await;
    period.insert(customer.to_owned(), graded(&assessment));
}

async fn try_report(
    app: &TestApp,
    model_version: &str,
    base: (NaiveDate, NaiveDate),
    compare: (NaiveDate, NaiveDate),
) -> Result<StabilityReport, Status> {
    app.portfolio
        .clone()
        .get_stability_report(GetStabilityReportRequest {
            model_version: model_version.to_owned(),
            base_from: Some(proto_date(base.0)),
            base_until: Some(proto_date(base.1)),
            compare_from: Some(proto_date(compare.0)),
            compare_until: Some(proto_date(compare.1)),
        })
        .await
        .map(tonic::Response::into_inner)
}

// The expected figures, by the contract's definitions. ----------------------------------------

/// The decile edges of the base scores: the score at rank floor(k × n / 10) of the sorted
/// scores for k = 1 to 9, without repeats and without the lowest score.
fn decile_edges(scores: &[i64]) -> Vec<i64> {
    let mut sorted = scores.to_vec();
    sorted.sort_unstable();
    let mut edges: Vec<i64> = (1..10)
        .map(|k| sorted[k * sorted.len() / 10])
        .filter(|edge| *edge > sorted[0])
        .collect();
    edges.dedup();
    edges
}

/// Σ (c − b) × ln(c / b) over bins given as (base count, compare count), an empty bin's
/// share taken as 0.0001.
fn expected_psi(bins: &[(i64, i64)], base_total: i64, compare_total: i64) -> f64 {
    let share = |count: i64, total: i64| {
        if count == 0 {
            0.0001
        } else {
            count as f64 / total as f64
        }
    };
    bins.iter()
        .map(|(base, compare)| {
            let (b, c) = (share(*base, base_total), share(*compare, compare_total));
            (c - b) * (c / b).ln()
        })
        .sum()
}

fn expected_reading(psi: f64) -> StabilityReading {
    let shown: f64 = format!("{psi:.4}").parse().unwrap();
    if shown < 0.1 {
        StabilityReading::Stable
    } else if shown <= 0.25 {
        StabilityReading::Watch
    } else {
        StabilityReading::Shifted
    }
}

fn two_decimals(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A bin as the test compares it: (lower score or points, upper score, base count, compare
/// count, base share, compare share).
type BinRow = (String, String, i64, i64, String, String);

fn bin_row(
    (lower, upper): (&str, &str),
    (base, compare): (i64, i64),
    (base_share, compare_share): (&str, &str),
) -> BinRow {
    (
        lower.to_owned(),
        upper.to_owned(),
        base,
        compare,
        base_share.to_owned(),
        compare_share.to_owned(),
    )
}

/// What a bin holds (lower score or points, upper score) and its customers (base, compare).
type Counted = ((String, String), (i64, i64));

/// Checks one reported comparison against the bins the test worked out, given as (what the
/// bin holds, (base count, compare count)), lowest first.
fn check_comparison(
    what: &str,
    (psi, reading, bins): (&str, StabilityReading, Vec<BinRow>),
    expected: &[Counted],
    (base_total, compare_total): (i64, i64),
) {
    let expected_bins: Vec<BinRow> = expected
        .iter()
        .map(|((lower, upper), (base, compare))| {
            let shares = (percent(*base, base_total), percent(*compare, compare_total));
            bin_row((lower, upper), (*base, *compare), (&shares.0, &shares.1))
        })
        .collect();
    assert_eq!(bins, expected_bins, "{what}");
    let counts: Vec<(i64, i64)> = expected.iter().map(|(_, counts)| *counts).collect();
    let by_definition = expected_psi(&counts, base_total, compare_total);
    let (_, decimals) = psi.split_once('.').expect("a decimal");
    assert_eq!(decimals.len(), 4, "{what}: {psi}");
    let value: f64 = psi.parse().unwrap();
    assert!(
        (value - by_definition).abs() <= 0.000_05 + 1e-9,
        "{what}: reported {psi}, expected {by_definition}"
    );
    assert_eq!(reading, expected_reading(by_definition), "{what}");
}

/// The score's bins: the base scores' deciles, each period's customers counted in them.
fn check_scores(report: &StabilityReport, base: &[&Graded], compare: &[&Graded]) {
    let base_scores: Vec<i64> = base.iter().map(|g| g.score).collect();
    let edges = decile_edges(&base_scores);
    let bin_of = |score: i64| edges.iter().filter(|edge| **edge <= score).count();
    let mut counts = vec![(0_i64, 0_i64); edges.len() + 1];
    for graded in base {
        counts[bin_of(graded.score)].0 += 1;
    }
    for graded in compare {
        counts[bin_of(graded.score)].1 += 1;
    }
    let bound = |edge: Option<&i64>| edge.map(|edge| two_decimals(*edge)).unwrap_or_default();
    let expected: Vec<Counted> = counts
        .into_iter()
        .enumerate()
        .map(|(index, pair)| {
            let lower = bound(index.checked_sub(1).and_then(|i| edges.get(i)));
            ((lower, bound(edges.get(index))), pair)
        })
        .collect();
    let score = report.score.as_ref().expect("a score comparison");
    let bins = score
        .bins
        .iter()
        .map(|b| {
            bin_row(
                (&b.lower_score, &b.upper_score),
                (b.base_customer_count, b.compare_customer_count),
                (&b.base_share_percent, &b.compare_share_percent),
            )
        })
        .collect();
    let totals = (len(base.len()), len(compare.len()));
    check_comparison(
        "score",
        (&score.psi, score.reading(), bins),
        &expected,
        totals,
    );
}

/// Each criterion's bins: every points value seen in either period.
fn check_criteria(report: &StabilityReport, base: &[&Graded], compare: &[&Graded]) {
    let keys: Vec<&String> = base[0].points.iter().map(|(key, _)| key).collect();
    let reported_keys: Vec<&String> = report.criteria.iter().map(|c| &c.key).collect();
    assert_eq!(
        reported_keys, keys,
        "one per criterion, in the model's order"
    );
    for (index, criterion) in report.criteria.iter().enumerate() {
        let mut by_points: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for graded in base {
            by_points.entry(graded.points[index].1).or_default().0 += 1;
        }
        for graded in compare {
            by_points.entry(graded.points[index].1).or_default().1 += 1;
        }
        let expected: Vec<Counted> = by_points
            .into_iter()
            .map(|(points, pair)| ((two_decimals(points), String::new()), pair))
            .collect();
        let bins = criterion
            .bins
            .iter()
            .map(|b| {
                bin_row(
                    (&b.points, ""),
                    (b.base_customer_count, b.compare_customer_count),
                    (&b.base_share_percent, &b.compare_share_percent),
                )
            })
            .collect();
        let totals = (len(base.len()), len(compare.len()));
        let reported = (criterion.psi.as_str(), criterion.reading(), bins);
        check_comparison(&criterion.key, reported, &expected, totals);
    }
}

fn check_report(
    report: &StabilityReport,
    base: &BTreeMap<String, Graded>,
    compare: &BTreeMap<String, Graded>,
) {
    assert_eq!(
        (report.base_customer_count, report.compare_customer_count),
        (len(base.len()), len(compare.len()))
    );
    let base: Vec<&Graded> = base.values().collect();
    let compare: Vec<&Graded> = compare.values().collect();
    check_scores(report, &base, &compare);
    check_criteria(report, &base, &compare);
}

fn len(count: usize) -> i64 {
    i64::try_from(count).unwrap()
}

// ---------------------------------------------------------------------------------------------

/// 30 customers. Base period (moved ten days back): every fourth first graded with a
/// superseded grading two days earlier, then all but the last two graded with the base
/// figures. Compare period (now): all but every seventh graded with the compare figures,
/// every third after a superseded grading the same day. So each period holds customers the
/// other does not, and each counts a customer once, by its newest grading.
async fn the_stability_report_matches_an_independent_computation(app: TestApp) {
    let database = Database::connect(app.database_url.as_str()).await.unwrap();
    let today = Utc::now().date_naive();
    let started = Utc::now();
    let base_day = today - Days::new(10);
    let mut base: BTreeMap<String, Graded> = BTreeMap::new();
    let mut customers = Vec::new();
    for index in 0..30_u32 {
        let customer = create_customer(&app).await;
        if index % 4 == 0 {
            grade(&app, &mut base, &customer, superseded_figures()).await;
        }
        customers.push(customer);
    }
    move_gradings(&database, started, at_noon(base_day - Days::new(2))).await;
    for (index, customer) in (0..28).zip(&customers) {
        grade(&app, &mut base, customer, base_figures(index)).await;
    }
    move_gradings(&database, started, at_noon(base_day)).await;

    let mut compare: BTreeMap<String, Graded> = BTreeMap::new();
    for (index, customer) in (0..30).zip(&customers) {
        if index % 7 == 0 {
            continue;
        }
        if index % 3 == 0 {
            grade(&app, &mut compare, customer, superseded_figures()).await;
        }
        grade(&app, &mut compare, customer, compare_figures(index)).await;
    }

    let base_period = (base_day - Days::new(3), base_day + Days::new(1));
    // A day either side of today, in case the run crosses midnight (UTC).
    let compare_period = (today - Days::new(1), today + Days::new(2));
    let report = try_report(&app, EXISTING_V1, base_period, compare_period)
        .await
        .expect("a report");
    assert_eq!(
        report.score.as_ref().map(|score| score.reading()),
        Some(StabilityReading::Shifted),
        "ten points worse on payments shifts the scores"
    );
    check_report(&report, &base, &compare);

    let same = try_report(&app, EXISTING_V1, base_period, base_period)
        .await
        .expect("a report");
    check_report(&same, &base, &base);
    let same_score = same.score.as_ref().unwrap();
    assert_eq!(
        (same_score.psi.as_str(), same_score.reading()),
        ("0.0000", StabilityReading::Stable)
    );
    assert!(same.criteria.iter().all(|c| c.psi == "0.0000"));

    let nobody = (today - Days::new(40), today - Days::new(30));
    let empty = try_report(&app, EXISTING_V1, base_period, nobody)
        .await
        .expect("a report");
    let empty_score = empty.score.as_ref().unwrap();
    assert_eq!(empty.compare_customer_count, 0);
    assert_eq!(
        (empty_score.psi.as_str(), empty_score.reading()),
        ("", StabilityReading::Unspecified)
    );
}

async fn a_bad_request_names_every_bad_field_and_an_unknown_version_is_not_found(app: TestApp) {
    let today = Utc::now().date_naive();
    let status = app
        .portfolio
        .clone()
        .get_stability_report(GetStabilityReportRequest {
            model_version: "models/existing-customers".to_owned(),
            base_from: None,
            base_until: Some(proto_date(today)),
            compare_from: Some(proto_date(today)),
            compare_until: Some(proto_date(today)),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["model_version", "base_from", "compare_until"])
    );

    let day = |days_ago: u64| today - Days::new(days_ago);
    let unknown = "models/existing-customers/versions/99";
    let status = try_report(&app, unknown, (day(2), day(1)), (day(1), today))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

on_every_backend!(
    the_stability_report_matches_an_independent_computation,
    a_bad_request_names_every_bad_field_and_an_unknown_version_is_not_found,
);
