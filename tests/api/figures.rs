//! FiguresService over the real socket: recording snapshots, reading the current one as of a
//! date, revisions and history, validation, idempotent retries and paging.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Utc};
use custgrade::proto::{
    custgrade::v1::{
        CreditRating, DeleteCustomerRequest, Figures, GetFiguresRequest, ListFiguresRequest,
        ListFiguresResponse, RecordFiguresRequest,
    },
    google::r#type::{Date, Money},
};
use tonic::{Code, Status};

use crate::{
    customers::{create, customer},
    helpers::{TestApp, bad_request_fields, fields, unique},
    on_every_backend,
};

// ---------------------------------------------------------------------------------------------
// Helpers, shared with the other API tests.

/// A live customer registered for this test alone; returns its resource name.
pub(crate) async fn create_customer(app: &TestApp) -> String {
    create_customer_in(app, "").await
}

/// A live customer in `industry` (empty for none); returns its resource name.
pub(crate) async fn create_customer_in(app: &TestApp, industry: &str) -> String {
    create(app, customer(industry)).await.name
}

/// A `google.type.Date`.
pub(crate) fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

/// The `google.type.Date` of a chrono date.
pub(crate) fn proto_date(day: NaiveDate) -> Date {
    date(
        day.year(),
        i32::try_from(day.month()).expect("a month fits"),
        i32::try_from(day.day()).expect("a day fits"),
    )
}

/// An amount of money with nanos (both of the same sign).
pub(crate) fn money(currency: &str, units: i64, nanos: i32) -> Option<Money> {
    Some(Money {
        currency_code: currency.to_owned(),
        units,
        nanos,
    })
}

/// Whole yuan.
pub(crate) fn cny(units: i64) -> Option<Money> {
    money("CNY", units, 0)
}

/// A small valid snapshot as of `as_of`, with `source` to tell snapshots apart.
fn snapshot(as_of: Date, source: &str) -> Figures {
    Figures {
        as_of_date: Some(as_of),
        source: source.to_owned(),
        annual_revenue: cny(5_000_000),
        on_time_payment_rate_percent: Some(92.5),
        brand_strength: Some(3),
        ..Figures::default()
    }
}

fn record_request(parent: &str, figures: Figures, supersede: bool) -> RecordFiguresRequest {
    RecordFiguresRequest {
        parent: parent.to_owned(),
        figures: Some(figures),
        supersede,
        request_id: String::new(),
    }
}

async fn try_record(app: &TestApp, request: RecordFiguresRequest) -> Result<Figures, Status> {
    app.figures
        .clone()
        .record_figures(request)
        .await
        .map(tonic::Response::into_inner)
}

async fn record(app: &TestApp, parent: &str, figures: Figures, supersede: bool) -> Figures {
    try_record(app, record_request(parent, figures, supersede))
        .await
        .expect("the figures are recorded")
}

async fn try_get(app: &TestApp, parent: &str, as_of: Option<Date>) -> Result<Figures, Status> {
    app.figures
        .clone()
        .get_figures(GetFiguresRequest {
            parent: parent.to_owned(),
            as_of_date: as_of,
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn get(app: &TestApp, parent: &str, as_of: Option<Date>) -> Figures {
    try_get(app, parent, as_of)
        .await
        .expect("the figures are read")
}

async fn try_list(
    app: &TestApp,
    request: ListFiguresRequest,
) -> Result<ListFiguresResponse, Status> {
    app.figures
        .clone()
        .list_figures(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Every snapshot of `parent`, following page tokens to the end.
pub(crate) async fn list_all(app: &TestApp, parent: &str, show_superseded: bool) -> Vec<Figures> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = try_list(
            app,
            ListFiguresRequest {
                parent: parent.to_owned(),
                page_size: 0,
                page_token,
                show_superseded,
            },
        )
        .await
        .expect("the figures are listed");
        all.extend(page.figures);
        if page.next_page_token.is_empty() {
            return all;
        }
        page_token = page.next_page_token;
    }
}

/// `(as_of_date, revision, superseded)` of each snapshot, the shape of a history.
fn history(figures: &[Figures]) -> Vec<(Option<Date>, i32, bool)> {
    figures
        .iter()
        .map(|figures| (figures.as_of_date, figures.revision, figures.superseded))
        .collect()
}

/// A well-formed customer name that no customer has.
fn unknown_customer() -> String {
    format!("customers/{}", uuid::Uuid::now_v7().hyphenated())
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

// ---------------------------------------------------------------------------------------------
// Reading the current snapshot.

on_every_backend!(
    get_figures_without_a_date_returns_the_newest_snapshot,
    get_figures_as_of_a_date_returns_the_newest_snapshot_on_or_before_it,
    get_figures_as_of_a_date_before_every_snapshot_is_not_found,
    get_figures_of_a_customer_without_figures_is_not_found,
    get_figures_of_an_unknown_customer_is_not_found,
    a_malformed_parent_is_invalid_argument_naming_parent,
);

async fn get_figures_without_a_date_returns_the_newest_snapshot(app: TestApp) {
    let parent = create_customer(&app).await;
    // Recorded out of date order, so the newest date is not the last one recorded.
    for (as_of, source) in [
        (date(2025, 6, 30), "q2"),
        (date(2025, 9, 30), "q3"),
        (date(2025, 3, 31), "q1"),
    ] {
        record(&app, &parent, snapshot(as_of, source), false).await;
    }

    let current = get(&app, &parent, None).await;

    assert_eq!(current.as_of_date, Some(date(2025, 9, 30)));
    assert_eq!(current.source, "q3");
}

async fn get_figures_as_of_a_date_returns_the_newest_snapshot_on_or_before_it(app: TestApp) {
    let parent = create_customer(&app).await;
    for (as_of, source) in [
        (date(2025, 3, 31), "q1"),
        (date(2025, 6, 30), "q2"),
        (date(2025, 9, 30), "q3"),
    ] {
        record(&app, &parent, snapshot(as_of, source), false).await;
    }

    let between = get(&app, &parent, Some(date(2025, 8, 15))).await;
    let on = get(&app, &parent, Some(date(2025, 6, 30))).await;
    let day_before = get(&app, &parent, Some(date(2025, 6, 29))).await;

    assert_eq!(
        (between.as_of_date, between.source.as_str()),
        (Some(date(2025, 6, 30)), "q2")
    );
    assert_eq!(
        (on.as_of_date, on.source.as_str()),
        (Some(date(2025, 6, 30)), "q2")
    );
    assert_eq!(
        (day_before.as_of_date, day_before.source.as_str()),
        (Some(date(2025, 3, 31)), "q1")
    );
}

async fn get_figures_as_of_a_date_before_every_snapshot_is_not_found(app: TestApp) {
    let parent = create_customer(&app).await;
    record(&app, &parent, snapshot(date(2025, 3, 31), "q1"), false).await;

    let status = try_get(&app, &parent, Some(date(2025, 3, 30)))
        .await
        .expect_err("no snapshot is dated on or before 2025-03-30");

    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

async fn get_figures_of_a_customer_without_figures_is_not_found(app: TestApp) {
    let parent = create_customer(&app).await;

    let status = try_get(&app, &parent, None)
        .await
        .expect_err("the customer has no figures");

    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

async fn get_figures_of_an_unknown_customer_is_not_found(app: TestApp) {
    let status = try_get(&app, &unknown_customer(), None)
        .await
        .expect_err("no such customer");

    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

async fn a_malformed_parent_is_invalid_argument_naming_parent(app: TestApp) {
    for parent in ["customers/nope", "nope", ""] {
        let got = try_get(&app, parent, None)
            .await
            .expect_err("GetFigures refuses a malformed parent");
        let listed = try_list(
            &app,
            ListFiguresRequest {
                parent: parent.to_owned(),
                ..ListFiguresRequest::default()
            },
        )
        .await
        .expect_err("ListFigures refuses a malformed parent");
        let recorded = try_record(
            &app,
            record_request(parent, snapshot(date(2025, 9, 30), "q3"), false),
        )
        .await
        .expect_err("RecordFigures refuses a malformed parent");

        for status in [got, listed, recorded] {
            assert_eq!(
                bad_request_fields(&status),
                fields(&["parent"]),
                "{parent:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What is recorded is what is read back.

on_every_backend!(
    recorded_figures_come_back_exactly_as_sent,
    inputs_of_zero_stay_present_and_inputs_left_out_stay_absent,
    recording_figures_for_an_unknown_customer_is_not_found,
);

async fn recorded_figures_come_back_exactly_as_sent(app: TestApp) {
    let parent = create_customer(&app).await;
    let sent = Figures {
        as_of_date: Some(date(2025, 9, 30)),
        source: "annual-report-2025".to_owned(),
        annual_revenue: money("CNY", 1234, 500_000_000),
        employee_count: Some(420),
        debt_to_asset_ratio_percent: Some(61.25),
        net_profit_margin_percent: Some(-3.5),
        operating_cash_flow: money("CNY", -250_000, -750_000_000),
        net_assets: money("CNY", 0, 1),
        financial_statements_provided: Some(true),
        credit_rating: CreditRating::Bbb.into(),
        brand_strength: Some(4),
        sales_last_12_months: money("CNY", 98_765, 432_100_000),
        cooperation_years: Some(2.5),
        on_time_payment_rate_percent: Some(97.125),
        longest_overdue_days: Some(45),
        strategic_fit: Some(5),
        ..Figures::default()
    };

    let recorded = record(&app, &parent, sent.clone(), false).await;
    let read = get(&app, &parent, None).await;
    let listed = list_all(&app, &parent, false).await;

    let record_time = recorded.record_time.expect("a record time is set");
    let expected = Figures {
        name: format!("{parent}/figures/2025-09-30"),
        revision: 1,
        superseded: false,
        record_time: Some(record_time),
        ..sent
    };
    assert_eq!(recorded, expected);
    assert_eq!(read, expected);
    assert_eq!(listed, [expected]);
    let age = Utc::now().timestamp() - record_time.seconds;
    assert!((0..60).contains(&age), "recorded {age} s ago");
}

async fn inputs_of_zero_stay_present_and_inputs_left_out_stay_absent(app: TestApp) {
    let parent = create_customer(&app).await;
    let sent = Figures {
        as_of_date: Some(date(2025, 9, 30)),
        employee_count: Some(0),
        financial_statements_provided: Some(false),
        net_profit_margin_percent: Some(0.0),
        longest_overdue_days: Some(0),
        completed_projects: Some(0),
        net_assets: cny(0),
        ..Figures::default()
    };

    let read = {
        record(&app, &parent, sent.clone(), false).await;
        get(&app, &parent, None).await
    };

    let expected = Figures {
        name: format!("{parent}/figures/2025-09-30"),
        revision: 1,
        record_time: read.record_time,
        ..sent
    };
    assert_eq!(read, expected);
    assert_eq!(read.current_ratio, None);
    assert_eq!(read.brand_strength, None);
    assert_eq!(read.annual_revenue, None);
    assert_eq!(read.credit_rating(), CreditRating::Unspecified);
}

async fn recording_figures_for_an_unknown_customer_is_not_found(app: TestApp) {
    let status = try_record(
        &app,
        record_request(
            &unknown_customer(),
            snapshot(date(2025, 9, 30), "q3"),
            false,
        ),
    )
    .await
    .expect_err("no such customer");

    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

// ---------------------------------------------------------------------------------------------
// Revisions.

on_every_backend!(
    recording_a_date_twice_is_already_exists_unless_superseded,
    get_figures_returns_the_superseding_revision,
    list_figures_shows_superseded_revisions_only_when_asked,
);

/// Records `first` and then `second` for the same date, superseding it.
async fn record_two_revisions(app: &TestApp, parent: &str) -> (Figures, Figures) {
    let first = Figures {
        on_time_payment_rate_percent: Some(80.0),
        ..snapshot(date(2025, 9, 30), "erp-export")
    };
    let second = Figures {
        on_time_payment_rate_percent: Some(95.0),
        credit_rating: CreditRating::Aa.into(),
        ..snapshot(date(2025, 9, 30), "erp-export-corrected")
    };
    record(app, parent, first.clone(), false).await;
    record(app, parent, second.clone(), true).await;
    (first, second)
}

async fn recording_a_date_twice_is_already_exists_unless_superseded(app: TestApp) {
    let parent = create_customer(&app).await;
    let first = snapshot(date(2025, 9, 30), "erp-export");
    let again = Figures {
        brand_strength: Some(5),
        ..first.clone()
    };
    record(&app, &parent, first, false).await;

    let refused = try_record(&app, record_request(&parent, again.clone(), false))
        .await
        .expect_err("the date already has a snapshot");
    let superseding = record(&app, &parent, again, true).await;

    assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
    assert_eq!(superseding.revision, 2);
    assert!(!superseding.superseded);
}

async fn get_figures_returns_the_superseding_revision(app: TestApp) {
    let parent = create_customer(&app).await;
    let (_, second) = record_two_revisions(&app, &parent).await;

    let current = get(&app, &parent, None).await;
    let as_of = get(&app, &parent, Some(date(2025, 9, 30))).await;

    let expected = Figures {
        name: format!("{parent}/figures/2025-09-30"),
        revision: 2,
        superseded: false,
        record_time: current.record_time,
        ..second
    };
    assert_eq!(current, expected);
    assert_eq!(as_of, expected);
}

async fn list_figures_shows_superseded_revisions_only_when_asked(app: TestApp) {
    let parent = create_customer(&app).await;
    let (first, second) = record_two_revisions(&app, &parent).await;

    let current = list_all(&app, &parent, false).await;
    let all = list_all(&app, &parent, true).await;

    let day = Some(date(2025, 9, 30));
    assert_eq!(history(&current), [(day, 2, false)]);
    assert_eq!(history(&all), [(day, 2, false), (day, 1, true)]);
    // Each revision keeps its own values: the old one stays as history, unchanged.
    assert_eq!(all[0].source, second.source);
    assert_eq!(
        all[0].on_time_payment_rate_percent,
        second.on_time_payment_rate_percent
    );
    assert_eq!(all[1].source, first.source);
    assert_eq!(
        all[1].on_time_payment_rate_percent,
        first.on_time_payment_rate_percent
    );
    assert_eq!(all[1].credit_rating(), CreditRating::Unspecified);
}

// ---------------------------------------------------------------------------------------------
// Validation.

on_every_backend!(
    each_invalid_input_is_named_in_the_bad_request,
    every_invalid_input_of_one_request_is_named,
    a_refused_snapshot_records_nothing,
);

/// Snapshots that are invalid in exactly one field, and that field.
fn snapshots_invalid_in_one_field() -> Vec<(&'static str, Figures)> {
    let valid = snapshot(date(2025, 9, 30), "erp-export");
    let future = today()
        .checked_add_days(Days::new(3))
        .expect("a date three days from now");
    vec![
        (
            "figures.on_time_payment_rate_percent",
            Figures {
                on_time_payment_rate_percent: Some(150.0),
                ..valid.clone()
            },
        ),
        (
            "figures.brand_strength",
            Figures {
                brand_strength: Some(6),
                ..valid.clone()
            },
        ),
        (
            "figures.longest_overdue_days",
            Figures {
                longest_overdue_days: Some(-1),
                ..valid.clone()
            },
        ),
        (
            "figures.annual_revenue",
            Figures {
                annual_revenue: money("XYZ", 100, 0),
                ..valid.clone()
            },
        ),
        (
            // annual_revenue is in CNY, so the later field in another currency is the bad one.
            "figures.net_assets",
            Figures {
                net_assets: money("EUR", 100, 0),
                ..valid.clone()
            },
        ),
        (
            "figures.as_of_date",
            Figures {
                as_of_date: Some(proto_date(future)),
                ..valid.clone()
            },
        ),
        (
            "figures.as_of_date",
            Figures {
                as_of_date: None,
                ..valid.clone()
            },
        ),
        (
            "figures.sales_last_12_months",
            Figures {
                sales_last_12_months: cny(-1),
                ..valid.clone()
            },
        ),
        (
            "figures.sales_last_12_months",
            Figures {
                sales_last_12_months: money("CNY", 0, -500_000_000),
                ..valid
            },
        ),
    ]
}

async fn each_invalid_input_is_named_in_the_bad_request(app: TestApp) {
    let parent = create_customer(&app).await;

    for (field, figures) in snapshots_invalid_in_one_field() {
        let status = try_record(&app, record_request(&parent, figures, false))
            .await
            .expect_err("an invalid snapshot is refused");

        assert_eq!(bad_request_fields(&status), fields(&[field]), "{status:?}");
    }
}

/// A snapshot with many invalid inputs at once, and the fields the server must name.
fn snapshot_invalid_everywhere() -> (Figures, BTreeSet<String>) {
    let future = today()
        .checked_add_days(Days::new(3))
        .expect("a date three days from now");
    let figures = Figures {
        as_of_date: Some(proto_date(future)),
        annual_revenue: money("XYZ", 100, 0),
        operating_cash_flow: cny(10),
        net_assets: money("EUR", 5, 0),
        sales_last_12_months: cny(-1),
        on_time_payment_rate_percent: Some(150.0),
        brand_strength: Some(6),
        longest_overdue_days: Some(-1),
        // Valid ones among them, which must not be named.
        employee_count: Some(10),
        market_outlook: Some(3),
        ..Figures::default()
    };
    let expected = fields(&[
        "figures.as_of_date",
        "figures.annual_revenue",
        "figures.net_assets",
        "figures.sales_last_12_months",
        "figures.on_time_payment_rate_percent",
        "figures.brand_strength",
        "figures.longest_overdue_days",
    ]);
    (figures, expected)
}

async fn every_invalid_input_of_one_request_is_named(app: TestApp) {
    let parent = create_customer(&app).await;
    let (figures, expected) = snapshot_invalid_everywhere();

    let status = try_record(&app, record_request(&parent, figures, false))
        .await
        .expect_err("an invalid snapshot is refused");

    assert_eq!(bad_request_fields(&status), expected, "{status:?}");
}

async fn a_refused_snapshot_records_nothing(app: TestApp) {
    let parent = create_customer(&app).await;
    let (everywhere, _) = snapshot_invalid_everywhere();
    let refused = snapshots_invalid_in_one_field()
        .into_iter()
        .map(|(_, figures)| figures)
        .chain([everywhere]);

    for figures in refused {
        let status = try_record(&app, record_request(&parent, figures, false))
            .await
            .expect_err("an invalid snapshot is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    }

    let listed = list_all(&app, &parent, true).await;
    assert!(listed.is_empty(), "{listed:?}");
    let status = try_get(&app, &parent, None)
        .await
        .expect_err("nothing was recorded");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

// ---------------------------------------------------------------------------------------------
// Deleted customers.

on_every_backend!(
    recording_figures_for_a_deleted_customer_is_failed_precondition,
    figures_recorded_before_a_delete_stay_readable,
);

pub(crate) async fn delete(app: &TestApp, name: &str) {
    app.customers
        .clone()
        .delete_customer(DeleteCustomerRequest {
            name: name.to_owned(),
            etag: String::new(),
        })
        .await
        .expect("the customer is deleted");
}

async fn recording_figures_for_a_deleted_customer_is_failed_precondition(app: TestApp) {
    let parent = create_customer(&app).await;
    delete(&app, &parent).await;

    let status = try_record(
        &app,
        record_request(&parent, snapshot(date(2025, 9, 30), "q3"), false),
    )
    .await
    .expect_err("a deleted customer takes no figures");

    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let listed = list_all(&app, &parent, true).await;
    assert!(listed.is_empty(), "{listed:?}");
}

async fn figures_recorded_before_a_delete_stay_readable(app: TestApp) {
    let parent = create_customer(&app).await;
    let recorded = record(&app, &parent, snapshot(date(2025, 9, 30), "q3"), false).await;
    delete(&app, &parent).await;

    let read = get(&app, &parent, None).await;
    let listed = list_all(&app, &parent, false).await;

    assert_eq!(read, recorded);
    assert_eq!(listed, [recorded]);
}

// ---------------------------------------------------------------------------------------------
// Retries.

on_every_backend!(
    retrying_record_figures_with_the_same_request_id_returns_the_first_record,
    retrying_a_superseding_record_with_the_same_request_id_adds_no_revision,
    reusing_a_request_id_for_different_figures_is_invalid_argument_naming_request_id,
);

fn with_request_id(mut request: RecordFiguresRequest, request_id: &str) -> RecordFiguresRequest {
    request.request_id = request_id.to_owned();
    request
}

async fn retrying_record_figures_with_the_same_request_id_returns_the_first_record(app: TestApp) {
    let parent = create_customer(&app).await;
    let request = with_request_id(
        record_request(&parent, snapshot(date(2025, 9, 30), "q3"), false),
        &unique("req"),
    );

    let first = try_record(&app, request.clone())
        .await
        .expect("the first call records");
    let retry = try_record(&app, request).await.expect("the retry succeeds");

    assert_eq!(retry, first);
    assert_eq!(
        history(&list_all(&app, &parent, true).await),
        history(&[first])
    );
}

async fn retrying_a_superseding_record_with_the_same_request_id_adds_no_revision(app: TestApp) {
    let parent = create_customer(&app).await;
    record(&app, &parent, snapshot(date(2025, 9, 30), "q3"), false).await;
    let request = with_request_id(
        record_request(&parent, snapshot(date(2025, 9, 30), "q3-corrected"), true),
        &unique("req"),
    );

    let first = try_record(&app, request.clone())
        .await
        .expect("the first call supersedes");
    let retry = try_record(&app, request).await.expect("the retry succeeds");

    assert_eq!(first.revision, 2);
    assert_eq!(retry, first);
    let day = Some(date(2025, 9, 30));
    assert_eq!(
        history(&list_all(&app, &parent, true).await),
        [(day, 2, false), (day, 1, true)]
    );
}

async fn reusing_a_request_id_for_different_figures_is_invalid_argument_naming_request_id(
    app: TestApp,
) {
    let parent = create_customer(&app).await;
    let request_id = unique("req");
    let first = snapshot(date(2025, 9, 30), "q3");
    let different = Figures {
        brand_strength: Some(5),
        ..first.clone()
    };
    try_record(
        &app,
        with_request_id(record_request(&parent, first, false), &request_id),
    )
    .await
    .expect("the first call records");

    let status = try_record(
        &app,
        with_request_id(record_request(&parent, different, true), &request_id),
    )
    .await
    .expect_err("the request id was used for other figures");

    assert_eq!(bad_request_fields(&status), fields(&["request_id"]));
    assert_eq!(list_all(&app, &parent, true).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Paging.

on_every_backend!(
    list_figures_pages_newest_first,
    paging_through_superseded_revisions_skips_and_repeats_nothing,
    a_page_token_reused_with_another_show_superseded_is_invalid_argument_naming_page_token,
    a_page_token_reused_for_another_customer_is_invalid_argument_naming_page_token,
    a_negative_page_size_is_invalid_argument_naming_page_size,
    listing_figures_of_an_unknown_customer_is_not_found,
);

/// Seven month-end dates, in no particular order.
fn seven_dates() -> Vec<Date> {
    vec![
        date(2025, 4, 30),
        date(2024, 12, 31),
        date(2025, 7, 31),
        date(2025, 1, 31),
        date(2025, 6, 30),
        date(2025, 2, 28),
        date(2025, 3, 31),
    ]
}

/// A date's position in time, for sorting `google.type.Date` values.
fn sort_key(day: &Date) -> (i32, i32, i32) {
    (day.year, day.month, day.day)
}

async fn record_seven_dates(app: &TestApp, parent: &str) -> Vec<Date> {
    let dates = seven_dates();
    for (index, day) in dates.iter().enumerate() {
        record(
            app,
            parent,
            snapshot(*day, &format!("export-{index}")),
            false,
        )
        .await;
    }
    dates
}

async fn list_figures_pages_newest_first(app: TestApp) {
    let parent = create_customer(&app).await;
    let mut expected = record_seven_dates(&app, &parent).await;
    expected.sort_by_key(|day| std::cmp::Reverse(sort_key(day)));

    let mut pages = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = try_list(
            &app,
            ListFiguresRequest {
                parent: parent.clone(),
                page_size: 3,
                page_token,
                show_superseded: false,
            },
        )
        .await
        .expect("a page is listed");
        page_token = page.next_page_token.clone();
        pages.push(page);
        if page_token.is_empty() || pages.len() > 7 {
            break;
        }
    }

    let sizes: Vec<usize> = pages.iter().map(|page| page.figures.len()).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let dates: Vec<Date> = pages
        .iter()
        .flat_map(|page| &page.figures)
        .map(|figures| figures.as_of_date.expect("a date"))
        .collect();
    assert_eq!(dates, expected);
}

async fn paging_through_superseded_revisions_skips_and_repeats_nothing(app: TestApp) {
    let parent = create_customer(&app).await;
    let (older, newer) = (date(2025, 6, 30), date(2025, 9, 30));
    for (day, supersede) in [
        (older, false),
        (older, true),
        (newer, false),
        (newer, true),
        (newer, true),
    ] {
        record(&app, &parent, snapshot(day, "erp-export"), supersede).await;
    }

    let mut seen = Vec::new();
    let mut page_token = String::new();
    for _ in 0..5 {
        let page = try_list(
            &app,
            ListFiguresRequest {
                parent: parent.clone(),
                page_size: 2,
                page_token,
                show_superseded: true,
            },
        )
        .await
        .expect("a page is listed");
        seen.extend(page.figures);
        page_token = page.next_page_token;
        if page_token.is_empty() {
            break;
        }
    }

    let (older, newer) = (Some(older), Some(newer));
    assert_eq!(
        history(&seen),
        [
            (newer, 3, false),
            (newer, 2, true),
            (newer, 1, true),
            (older, 2, false),
            (older, 1, true),
        ]
    );
}

/// The token after the first page of `parent`'s snapshots, listed two at a time.
async fn second_page_token(app: &TestApp, parent: &str, show_superseded: bool) -> String {
    let token = try_list(
        app,
        ListFiguresRequest {
            parent: parent.to_owned(),
            page_size: 2,
            page_token: String::new(),
            show_superseded,
        },
    )
    .await
    .expect("the first page is listed")
    .next_page_token;
    assert!(!token.is_empty(), "there is a second page");
    token
}

async fn a_page_token_reused_with_another_show_superseded_is_invalid_argument_naming_page_token(
    app: TestApp,
) {
    let parent = create_customer(&app).await;
    record_seven_dates(&app, &parent).await;
    let token = second_page_token(&app, &parent, false).await;

    let status = try_list(
        &app,
        ListFiguresRequest {
            parent: parent.clone(),
            page_size: 2,
            page_token: token,
            show_superseded: true,
        },
    )
    .await
    .expect_err("the token was issued without show_superseded");

    assert_eq!(bad_request_fields(&status), fields(&["page_token"]));
}

async fn a_page_token_reused_for_another_customer_is_invalid_argument_naming_page_token(
    app: TestApp,
) {
    let parent = create_customer(&app).await;
    let other = create_customer(&app).await;
    record_seven_dates(&app, &parent).await;
    record_seven_dates(&app, &other).await;
    let token = second_page_token(&app, &parent, false).await;

    let status = try_list(
        &app,
        ListFiguresRequest {
            parent: other,
            page_size: 2,
            page_token: token,
            show_superseded: false,
        },
    )
    .await
    .expect_err("the token was issued for another customer");

    assert_eq!(bad_request_fields(&status), fields(&["page_token"]));
}

async fn a_negative_page_size_is_invalid_argument_naming_page_size(app: TestApp) {
    let parent = create_customer(&app).await;
    record(&app, &parent, snapshot(date(2025, 9, 30), "q3"), false).await;

    let status = try_list(
        &app,
        ListFiguresRequest {
            parent,
            page_size: -1,
            page_token: String::new(),
            show_superseded: false,
        },
    )
    .await
    .expect_err("a page size cannot be negative");

    assert_eq!(bad_request_fields(&status), fields(&["page_size"]));
}

async fn listing_figures_of_an_unknown_customer_is_not_found(app: TestApp) {
    let status = try_list(
        &app,
        ListFiguresRequest {
            parent: unknown_customer(),
            ..ListFiguresRequest::default()
        },
    )
    .await
    .expect_err("no such customer");

    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}
