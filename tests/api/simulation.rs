//! ScoringModelService.SimulateModelVersion over the real socket: a changed model graded over
//! a generated book without storing anything. The templates' scores are known by
//! construction (see `portfolio.rs`): A 87.00, B 82.00, C 82.00 capped at C, D 69.25 capped
//! at D; so a draft with A from 80 lifts exactly the B customers, and nothing else moves.

use std::collections::BTreeMap;

use custgrade::proto::custgrade::v1::{
    PortfolioFilter, SimulateModelVersionRequest, SimulateModelVersionResponse,
};
use tonic::{Code, Status};

use crate::{
    assessments::current_grade,
    customers::{create, customer},
    helpers::{TestApp, bad_request_fields, fields, unique},
    models::{a_from_80, try_create},
    on_every_backend,
    portfolio::{in_industry, load_book},
};

const CHAMPION: &str = "models/existing-customers/versions/1";

async fn try_simulate(
    app: &TestApp,
    name: &str,
    filter: PortfolioFilter,
    page_size: i32,
    page_token: &str,
) -> Result<SimulateModelVersionResponse, Status> {
    app.models
        .clone()
        .simulate_model_version(SimulateModelVersionRequest {
            name: name.to_owned(),
            filter: Some(filter),
            currency_code: String::new(),
            page_size,
            page_token: page_token.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Every page of the simulation; checks each page repeats the same totals.
async fn every_page(
    app: &TestApp,
    name: &str,
    filter: &PortfolioFilter,
) -> (SimulateModelVersionResponse, Vec<(String, String, String)>) {
    let first = try_simulate(app, name, filter.clone(), 5, "")
        .await
        .expect("simulated");
    let mut changes = Vec::new();
    let mut page = first.clone();
    loop {
        assert!(page.changed_customers.len() <= 5);
        assert_eq!(page.distribution, first.distribution, "totals repeat");
        changes.extend(page.changed_customers.iter().map(|change| {
            assert_eq!(change.champion_model_version, CHAMPION);
            assert_eq!(
                change.champion_total_score, change.total_score,
                "same figures, same points: only the thresholds moved"
            );
            (
                change.customer.clone(),
                change.champion_grade.clone(),
                change.grade.clone(),
            )
        }));
        if page.next_page_token.is_empty() {
            break;
        }
        page = try_simulate(app, name, filter.clone(), 5, &page.next_page_token)
            .await
            .expect("the next page");
    }
    (first, changes)
}

async fn a_draft_with_a_from_80_would_lift_exactly_the_b_customers(app: TestApp) {
    let industry = unique("simulate");
    let book = load_book(&app, &industry, 48).await;
    let odd = format!("{industry}-odd");
    // A registered customer with no figures is selected but cannot be graded.
    create(&app, customer(&odd)).await;
    let draft = try_create(&app, "models/lenient", &a_from_80())
        .await
        .expect("a draft");

    let (report, changes) = every_page(&app, &draft.name, &in_industry(&odd)).await;
    let odd_book: Vec<_> = book.iter().skip(1).step_by(2).collect();
    let mut expected_changes: Vec<(String, String, String)> = odd_book
        .iter()
        .filter(|booked| booked.grade == "B")
        .map(|booked| (booked.name.clone(), "B".to_owned(), "A".to_owned()))
        .collect();
    expected_changes.sort();
    assert_eq!(changes, expected_changes, "the B customers, in name order");
    assert_eq!(
        report.customer_count,
        i64::try_from(odd_book.len()).unwrap()
    );
    assert_eq!(report.customers_without_figures, 1);
    let b_count = i64::try_from(expected_changes.len()).unwrap();
    let d_count = report.customer_count - b_count;
    assert_eq!(
        (
            report.upgraded_count,
            report.downgraded_count,
            report.unchanged_count,
            report.without_champion_count
        ),
        (b_count, 0, d_count, 0)
    );
    let cells: BTreeMap<(String, String), i64> = report
        .migration
        .iter()
        .map(|cell| {
            (
                (cell.from_grade.clone(), cell.to_grade.clone()),
                cell.customer_count,
            )
        })
        .collect();
    assert_eq!(
        cells,
        BTreeMap::from([
            (("B".to_owned(), "A".to_owned()), b_count),
            (("D".to_owned(), "D".to_owned()), d_count),
        ])
    );
    let distribution = report.distribution.expect("a distribution");
    let per_grade: Vec<(String, i64)> = distribution
        .grades
        .iter()
        .map(|share| (share.grade.clone(), share.customer_count))
        .collect();
    assert_eq!(
        per_grade,
        [("A".to_owned(), b_count), ("D".to_owned(), d_count)]
    );
    let sales: i64 = odd_book.iter().map(|booked| booked.sales).sum();
    assert_eq!(distribution.sales.expect("sales").units, sales);

    // The even half holds A and C customers: A stays A, C stays capped at C.
    let (even, changes) =
        every_page(&app, &draft.name, &in_industry(&format!("{industry}-even"))).await;
    assert!(changes.is_empty());
    assert_eq!(even.unchanged_count, even.customer_count);

    // Nothing was stored: the B customers are still B.
    let first_b = &expected_changes[0].0;
    let grade = current_grade(&app, first_b).await;
    assert_eq!(grade.grade, "B");
}

async fn bad_simulations_are_refused_with_the_reason(app: TestApp) {
    let status = try_simulate(
        &app,
        "models/x",
        PortfolioFilter {
            grade: "A".to_owned(),
            assessed_before: Some(crate::figures::date(2026, 1, 1)),
            ..PortfolioFilter::default()
        },
        -1,
        "garbage",
    )
    .await
    .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "name",
            "filter.grade",
            "filter.assessed_before",
            "page_size",
            "page_token"
        ])
    );
    let missing = try_simulate(
        &app,
        "models/nothing/versions/1",
        PortfolioFilter::default(),
        0,
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

    let broken = a_from_80().replacen("weight_percent: 25", "weight_percent: 26", 1);
    assert_ne!(broken, a_from_80(), "the default model has a weight of 25");
    let draft = try_create(&app, "models/broken", &broken)
        .await
        .expect("a draft with problems is stored");
    let refused = try_simulate(&app, &draft.name, PortfolioFilter::default(), 0, "")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // A token belongs to its simulation.
    let industry = unique("tokens");
    let book = load_book(&app, &industry, 16).await;
    assert!(!book.is_empty());
    let odd = in_industry(&format!("{industry}-odd"));
    let page = try_simulate(
        &app,
        &try_create(&app, "models/lenient", &a_from_80())
            .await
            .unwrap()
            .name,
        odd.clone(),
        1,
        "",
    )
    .await
    .expect("simulated");
    assert!(!page.next_page_token.is_empty());
    let reused = try_simulate(&app, CHAMPION, odd, 1, &page.next_page_token)
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&reused), fields(&["page_token"]));
}

on_every_backend!(
    a_draft_with_a_from_80_would_lift_exactly_the_b_customers,
    bad_simulations_are_refused_with_the_reason,
);
