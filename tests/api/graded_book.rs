//! The portfolio issue's "done when", end to end on a book of a few thousand customers
//! loaded through the API: a new user lists the A customers, reads the distribution and the
//! Pareto report, overrides one customer and sees both grades, simulates a changed model and
//! reads who would move, records defaults and reads an AUC that matches the pairwise
//! definition. Every expected figure is worked out here from what was generated; the
//! templates' grades and scores are known by construction (see `portfolio.rs`).

use std::collections::BTreeSet;

use chrono::Days;
use custgrade::proto::custgrade::v1::{
    GradeOverride, OutcomeKind, OverrideGradeRequest, PortfolioFilter, SimulateModelVersionRequest,
};

use crate::{
    assessments::current_grade,
    helpers::{TestApp, unique},
    models::{a_from_80, try_create},
    on_every_backend,
    outcomes::{defaults_of_todays_gradings, outcome, pairwise_auc, today, try_record},
    portfolio::{Booked, check_distribution, check_pareto, in_industry, list_all, load_book},
};

/// A few thousand: enough that every page, stream and sort runs at a size a test of a
/// handful would not reach, small enough for CI on two cores.
const BOOK: usize = 2000;

/// Each template's total score in cents: A 87.00, B and C 82.00 (C is capped), D 69.25.
fn score_cents(grade: &str) -> i64 {
    match grade {
        "A" => 8700,
        "B" | "C" => 8200,
        _ => 6925,
    }
}

/// Whether the `index`-th customer of a grade defaults: one in 25 of A, one in 10 of B, one
/// in 4 of C and one in 2 of D.
fn defaults(grade: &str, index: usize) -> bool {
    let every = match grade {
        "A" => 25,
        "B" => 10,
        "C" => 4,
        _ => 2,
    };
    index.is_multiple_of(every)
}

async fn a_new_user_reads_a_book_of_thousands(app: TestApp) {
    let industry = unique("book");
    let book = load_book(&app, &industry, BOOK).await;
    let half = |parity: usize| -> Vec<&Booked> { book.iter().skip(parity).step_by(2).collect() };
    let (even, odd) = (half(0), half(1));
    let even_industry = format!("{industry}-even");
    let odd_industry = format!("{industry}-odd");

    // The A customers (templates A are at even indexes).
    let filter_a = PortfolioFilter {
        grade: "A".to_owned(),
        ..in_industry(&even_industry)
    };
    let listed: BTreeSet<String> = list_all(&app, filter_a).await.into_iter().collect();
    let expected: BTreeSet<String> = even
        .iter()
        .filter(|booked| booked.grade == "A")
        .map(|booked| booked.name.clone())
        .collect();
    assert_eq!(listed, expected);

    // The distribution and the 20/80 check of each half.
    for (industry, half) in [(&even_industry, &even), (&odd_industry, &odd)] {
        check_distribution(&app, industry, half).await;
        check_pareto(&app, industry, half).await;
    }

    // One C customer overridden to A: both grades show.
    let overridden = even
        .iter()
        .find(|booked| booked.grade == "C")
        .expect("a C customer");
    app.assessments
        .clone()
        .override_grade(OverrideGradeRequest {
            parent: overridden.name.clone(),
            grade_override: Some(GradeOverride {
                grade: "A".to_owned(),
                reason: "parent company guarantee".to_owned(),
                expire_time: Some(prost_types::Timestamp {
                    seconds: chrono::Utc::now().timestamp() + 86_400,
                    nanos: 0,
                }),
                ..GradeOverride::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("overridden");
    let grade = current_grade(&app, &overridden.name).await;
    assert_eq!(
        (grade.grade.as_str(), grade.computed_grade.as_str()),
        ("A", "C")
    );

    // A draft with A from 80 would lift every B customer (all at odd indexes) and no one else.
    let draft = try_create(&app, "models/lenient", &a_from_80())
        .await
        .expect("a draft");
    let simulated = app
        .models
        .clone()
        .simulate_model_version(SimulateModelVersionRequest {
            name: draft.name,
            filter: Some(in_industry(&odd_industry)),
            currency_code: String::new(),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .expect("simulated")
        .into_inner();
    let mut lifted: Vec<&String> = odd
        .iter()
        .filter(|booked| booked.grade == "B")
        .map(|booked| &booked.name)
        .collect();
    lifted.sort();
    assert_eq!(
        simulated.upgraded_count,
        i64::try_from(lifted.len()).unwrap()
    );
    assert_eq!(simulated.downgraded_count, 0);
    let first_page: Vec<&String> = simulated
        .changed_customers
        .iter()
        .map(|change| &change.customer)
        .collect();
    assert!(
        first_page == lifted,
        "one page lists the {} B customers in registration order",
        lifted.len()
    );
    assert!(simulated.next_page_token.is_empty());

    // Defaults, then an AUC that matches the pairwise definition over the whole book.
    let tomorrow = today() + Days::new(1);
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    let (mut goods, mut bads) = (Vec::new(), Vec::new());
    for booked in &book {
        let index = seen.entry(booked.grade).or_default();
        let defaulted = defaults(booked.grade, *index);
        *index += 1;
        if defaulted {
            try_record(
                &app,
                &booked.name,
                outcome(OutcomeKind::Default, tomorrow),
                "",
            )
            .await
            .expect("recorded");
            bads.push(score_cents(booked.grade));
        } else {
            goods.push(score_cents(booked.grade));
        }
    }
    let report = defaults_of_todays_gradings(&app).await;
    assert_eq!(report.customer_count, i64::try_from(BOOK).unwrap());
    assert_eq!(report.outcome_count, i64::try_from(bads.len()).unwrap());
    assert_eq!(report.auc, pairwise_auc(&goods, &bads));
    assert!(report.inversions.is_empty(), "{:?}", report.inversions);
}

on_every_backend!(a_new_user_reads_a_book_of_thousands);
