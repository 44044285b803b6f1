//! PortfolioService over the real socket, on a generated book. Each customer is made from a
//! template whose grade under the default model is known by construction (worked out in
//! `assessments.rs` for the sound customer), with its sales drawn from a range that keeps
//! the grade; the expected counts, sums and shares are computed here from what was
//! generated, never by calling the code under test.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;

use custgrade::proto::{
    custgrade::v1::{
        CreditRating, DeleteCustomerRequest, Figures, GetGradeDistributionRequest,
        GetGradeMigrationRequest, GetParetoReportRequest, GradeDistribution, GradeOverride,
        ListCustomerGradesRequest, OverrideGradeRequest, PortfolioFilter,
    },
    google::r#type::Money,
};
use tonic::Code;

use crate::{
    assessments::{assess, record, sound_figures},
    customers::{create, customer},
    figures::{cny, date, money},
    helpers::{TestApp, bad_request_fields, fields, unique},
    on_every_backend,
    overrides::revoke,
};

/// How many customers the generated book holds.
const BOOK: usize = 240;

/// A customer of the book: its name, the grade its template earns, its sales in yuan.
pub struct Booked {
    pub name: String,
    pub grade: &'static str,
    pub sales: i64,
}

/// A small deterministic generator, so a failing run can be repeated.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (self.0 >> 33) % bound
    }
}

/// The figures of template `index % 4` with `sales`, and the grade they earn:
/// - A: the sound customer with sales of 5 000 000 or more (100 points instead of 80, so
///   25.00 instead of 20.00): 87.00;
/// - B: the sound customer, sales in [2 000 000, 5 000 000): 82.00;
/// - C: the same without financial statements: 82.00, capped at C;
/// - D: the same with a 120-day overdue: 69.25, capped at D.
fn template(index: usize, rng: &mut Lcg) -> (Figures, &'static str, i64) {
    let in_band_b = 2_000_000 + i64::try_from(rng.below(3_000_000)).unwrap();
    match index % 4 {
        0 => {
            let sales = 5_000_000 + i64::try_from(rng.below(15_000_000)).unwrap();
            (with_sales(sound_figures(), sales), "A", sales)
        }
        1 => (with_sales(sound_figures(), in_band_b), "B", in_band_b),
        2 => {
            let figures = Figures {
                financial_statements_provided: None,
                ..sound_figures()
            };
            (with_sales(figures, in_band_b), "C", in_band_b)
        }
        _ => {
            let figures = Figures {
                longest_overdue_days: Some(120),
                ..sound_figures()
            };
            (with_sales(figures, in_band_b), "D", in_band_b)
        }
    }
}

fn with_sales(figures: Figures, sales: i64) -> Figures {
    Figures {
        sales_last_12_months: cny(sales),
        ..figures
    }
}

/// Registers, records and assesses a book of `size` customers, eight at a time; industry
/// `{industry}-even` for even indexes (templates A and C), `{industry}-odd` for odd ones
/// (B and D).
pub async fn load_book(app: &TestApp, industry: &str, size: usize) -> Vec<Booked> {
    let mut rng = Lcg(20_261_123);
    let plans: Vec<(usize, Figures, &'static str, i64)> = (0..size)
        .map(|index| {
            let (figures, grade, sales) = template(index, &mut rng);
            (index, figures, grade, sales)
        })
        .collect();
    let mut book = Vec::new();
    for chunk in plans.chunks(8) {
        let tasks: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|(index, figures, grade, sales)| {
                let app = app.clone_clients();
                let parity = if index % 2 == 0 { "even" } else { "odd" };
                let industry = format!("{industry}-{parity}");
                tokio::spawn(async move {
                    let name = create(&app, customer(&industry)).await.name;
                    record(&app, &name, figures, false).await;
                    let assessment = assess(&app, &name).await;
                    assert_eq!(assessment.grade, grade, "the template's grade");
                    Booked { name, grade, sales }
                })
            })
            .collect();
        for task in tasks {
            book.push(task.await.expect("the task ran"));
        }
    }
    book
}

pub async fn list_all(app: &TestApp, filter: PortfolioFilter) -> Vec<String> {
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .portfolio
            .clone()
            .list_customer_grades(ListCustomerGradesRequest {
                filter: Some(filter.clone()),
                page_size: 37,
                page_token,
            })
            .await
            .expect("listed")
            .into_inner();
        names.extend(page.customer_grades.into_iter().map(|grade| grade.customer));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    names
}

async fn distribution(app: &TestApp, filter: PortfolioFilter) -> GradeDistribution {
    app.portfolio
        .clone()
        .get_grade_distribution(GetGradeDistributionRequest {
            filter: Some(filter),
            currency_code: String::new(),
            as_of_time: None,
        })
        .await
        .expect("a distribution")
        .into_inner()
}

pub fn in_industry(industry: &str) -> PortfolioFilter {
    PortfolioFilter {
        industry: industry.to_owned(),
        ..PortfolioFilter::default()
    }
}

/// `part / whole` in percent with two decimals, half away from zero, in integer arithmetic.
pub(crate) fn percent(part: i64, whole: i64) -> String {
    let scaled = (i128::from(part) * 100_000 / i128::from(whole) + 5) / 10;
    format!("{}.{:02}", scaled / 100, scaled % 100)
}

fn units(money: Option<&Money>) -> i64 {
    let money = money.expect("an amount");
    assert_eq!(money.currency_code, "CNY");
    assert_eq!(money.nanos, 0, "whole yuan in, whole yuan out");
    money.units
}

// ---------------------------------------------------------------------------------------------

async fn the_book_lists_by_grade_and_customer_filters(app: TestApp) {
    let industry = unique("portfolio");
    let book = load_book(&app, &industry, BOOK).await;
    let even = format!("{industry}-even");

    let expected_a: Vec<&String> = book
        .iter()
        .filter(|c| c.grade == "A")
        .map(|c| &c.name)
        .collect();
    let mut listed_a = Vec::new();
    for parity in ["even", "odd"] {
        let filter = PortfolioFilter {
            grade: "A".to_owned(),
            ..in_industry(&format!("{industry}-{parity}"))
        };
        listed_a.extend(list_all(&app, filter).await);
    }
    assert_eq!(
        listed_a.iter().collect::<BTreeSet<_>>(),
        expected_a.iter().copied().collect::<BTreeSet<_>>()
    );

    let even_names = list_all(&app, in_industry(&even)).await;
    let mut sorted = even_names.clone();
    sorted.sort();
    assert_eq!(even_names, sorted, "registration (id) order");
    assert_eq!(even_names.len(), BOOK / 2);

    let by_version = PortfolioFilter {
        model_version: "models/existing-customers/versions/1".to_owned(),
        ..in_industry(&even)
    };
    assert_eq!(list_all(&app, by_version).await.len(), BOOK / 2);
    let stale = PortfolioFilter {
        assessed_before: Some(date(2000, 1, 1)),
        ..in_industry(&even)
    };
    assert!(list_all(&app, stale).await.is_empty());
    let before_tomorrow = PortfolioFilter {
        assessed_before: Some(date(2100, 1, 1)),
        ..in_industry(&even)
    };
    assert_eq!(list_all(&app, before_tomorrow).await.len(), BOOK / 2);
}

async fn the_distribution_and_pareto_add_up_what_was_generated(app: TestApp) {
    let industry = unique("spread");
    let book = load_book(&app, &industry, BOOK).await;
    let even = format!("{industry}-even");
    let mine: Vec<&Booked> = book
        .iter()
        .enumerate()
        .filter(|(index, _)| index % 2 == 0)
        .map(|(_, booked)| booked)
        .collect();

    let expected = check_distribution(&app, &even, &mine).await;
    check_pareto(&app, &even, &mine).await;

    // Even indexes are templates A and C only.
    assert_eq!(expected.keys().copied().collect::<Vec<_>>(), ["A", "C"]);
    let only_c = PortfolioFilter {
        grade: "C".to_owned(),
        ..in_industry(&even)
    };
    assert_eq!(
        distribution(&app, only_c).await.customer_count,
        expected["C"].0
    );
}

/// The distribution of `book` (the customers of `industry`) worked out here: customers and
/// sales per grade, shares of each; returns customers and sales per grade.
pub async fn check_distribution(
    app: &TestApp,
    industry: &str,
    book: &[&Booked],
) -> BTreeMap<&'static str, (i64, i64)> {
    let mut expected: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for booked in book {
        let entry = expected.entry(booked.grade).or_default();
        entry.0 += 1;
        entry.1 += booked.sales;
    }
    let total_sales: i64 = book.iter().map(|b| b.sales).sum();
    let count = i64::try_from(book.len()).unwrap();

    let spread = distribution(app, in_industry(industry)).await;
    assert_eq!(spread.customer_count, count);
    assert_eq!(units(spread.sales.as_ref()), total_sales);
    // Every template has a 25 % gross margin; the sales are whole yuan, so a quarter of them
    // is exact to the cent.
    let profit = spread.gross_profit.expect("a gross profit");
    let quarter_cents = i128::from(total_sales) * 25;
    assert_eq!(
        i128::from(profit.units) * 100 + i128::from(profit.nanos / 10_000_000),
        quarter_cents
    );
    let got: Vec<(&str, i64, i64)> = spread
        .grades
        .iter()
        .map(|share| {
            (
                share.grade.as_str(),
                share.customer_count,
                units(share.sales.as_ref()),
            )
        })
        .collect();
    let want: Vec<(&str, i64, i64)> = expected
        .iter()
        .map(|(grade, (n, sales))| (*grade, *n, *sales))
        .collect();
    assert_eq!(got, want);
    for share in &spread.grades {
        let (n, sales) = expected[share.grade.as_str()];
        assert_eq!(
            share.customer_share_percent,
            percent(n, count),
            "{}",
            share.grade
        );
        assert_eq!(
            share.sales_share_percent,
            percent(sales, total_sales),
            "{}",
            share.grade
        );
        assert_eq!(
            share.gross_profit_share_percent,
            percent(sales, total_sales),
            "one margin for all: profit shares are sales shares"
        );
    }

    expected
}

/// The 20/80 check worked out here: rank by sales (ties by name, which is registration order),
/// take the top fifth rounded up, add up the grades best first, and cut A/B/C at 80 % and
/// 95 % of the sales before each customer.
pub async fn check_pareto(app: &TestApp, industry: &str, book: &[&Booked]) {
    let mut ranked: Vec<&Booked> = book.to_vec();
    ranked.sort_by(|a, b| b.sales.cmp(&a.sales).then(a.name.cmp(&b.name)));
    let total: i64 = ranked.iter().map(|b| b.sales).sum();
    let count = i64::try_from(ranked.len()).unwrap();
    let top = ranked.len().div_ceil(5);
    let top_sales: i64 = ranked[..top].iter().map(|b| b.sales).sum();

    let mut cumulative = Vec::new();
    let (mut customers, mut sales) = (0, 0);
    for grade in ["A", "B", "C", "D"] {
        let of_grade: Vec<&&Booked> = ranked.iter().filter(|b| b.grade == grade).collect();
        if of_grade.is_empty() {
            continue;
        }
        customers += i64::try_from(of_grade.len()).unwrap();
        sales += of_grade.iter().map(|b| b.sales).sum::<i64>();
        cumulative.push((grade.to_owned(), customers, percent(sales, total)));
    }

    let mut abc: BTreeMap<i32, (i64, i64, BTreeMap<String, i64>)> = BTreeMap::new();
    let mut before = 0_i64;
    for booked in &ranked {
        let class = if before * 100 < total * 80 {
            1
        } else if before * 100 < total * 95 {
            2
        } else {
            3
        };
        before += booked.sales;
        let entry = abc.entry(class).or_default();
        entry.0 += 1;
        entry.1 += booked.sales;
        *entry.2.entry(booked.grade.to_owned()).or_default() += 1;
    }

    let report = app
        .portfolio
        .clone()
        .get_pareto_report(GetParetoReportRequest {
            filter: Some(in_industry(industry)),
            currency_code: String::new(),
        })
        .await
        .expect("a report")
        .into_inner();
    assert_eq!(report.customer_count, count);
    assert_eq!(units(report.sales.as_ref()), total);
    assert_eq!(report.top_fifth_customer_count, i64::try_from(top).unwrap());
    assert_eq!(
        report.top_fifth_sales_share_percent,
        percent(top_sales, total)
    );
    let got: Vec<(String, i64, String)> = report
        .top_grades
        .iter()
        .map(|s| {
            (
                s.up_to_grade.clone(),
                s.customer_count,
                s.sales_share_percent.clone(),
            )
        })
        .collect();
    assert_eq!(got, cumulative);
    let got: Vec<(i32, i64, String, BTreeMap<String, i64>)> = report
        .abc_classes
        .iter()
        .map(|class| {
            let grades = class
                .grades
                .iter()
                .map(|g| (g.grade.clone(), g.customer_count))
                .collect();
            (
                class.abc_class,
                class.customer_count,
                class.sales_share_percent.clone(),
                grades,
            )
        })
        .collect();
    let want: Vec<(i32, i64, String, BTreeMap<String, i64>)> = abc
        .into_iter()
        .map(|(class, (n, sales, grades))| (class, n, percent(sales, total), grades))
        .collect();
    assert_eq!(got, want);
}

async fn a_book_in_two_currencies_needs_one_chosen(app: TestApp) {
    let industry = unique("currencies");
    for currency in ["CNY", "USD"] {
        let name = create(&app, customer(&industry)).await.name;
        let figures = Figures {
            sales_last_12_months: money(currency, 3_000_000, 0),
            net_assets: money(currency, 10_000_000, 0),
            annual_revenue: money(currency, 50_000_000, 0),
            credit_rating: CreditRating::Aa.into(),
            ..sound_figures()
        };
        record(&app, &name, figures, false).await;
        assess(&app, &name).await;
    }
    let status = app
        .portfolio
        .clone()
        .get_grade_distribution(GetGradeDistributionRequest {
            filter: Some(in_industry(&industry)),
            currency_code: String::new(),
            as_of_time: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("CNY, USD"), "{status:?}");
    let in_usd = app
        .portfolio
        .clone()
        .get_grade_distribution(GetGradeDistributionRequest {
            filter: Some(in_industry(&industry)),
            currency_code: "USD".to_owned(),
            as_of_time: None,
        })
        .await
        .expect("a distribution")
        .into_inner();
    assert_eq!(in_usd.customer_count, 2, "both are counted");
    assert_eq!(
        in_usd.sales.map(|m| (m.currency_code, m.units)),
        Some(("USD".to_owned(), 3_000_000))
    );
}

async fn malformed_filters_name_every_bad_field(app: TestApp) {
    let status = app
        .portfolio
        .clone()
        .list_customer_grades(ListCustomerGradesRequest {
            filter: Some(PortfolioFilter {
                kind: 9,
                label: "Bad Key".to_owned(),
                model_version: "models/x".to_owned(),
                assessed_before: Some(date(2026, 2, 30)),
                ..PortfolioFilter::default()
            }),
            page_size: -1,
            page_token: "garbage".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "filter.kind",
            "filter.label",
            "filter.model_version",
            "filter.assessed_before",
            "page_size",
            "page_token",
        ])
    );
    let status = app
        .portfolio
        .clone()
        .get_grade_distribution(GetGradeDistributionRequest {
            filter: None,
            currency_code: "yuan".to_owned(),
            as_of_time: None,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["currency_code"]));
}

on_every_backend!(
    the_book_lists_by_grade_and_customer_filters,
    the_distribution_and_pareto_add_up_what_was_generated,
    a_book_in_two_currencies_needs_one_chosen,
    malformed_filters_name_every_bad_field,
);

fn at_now() -> Option<prost_types::Timestamp> {
    let now = chrono::Utc::now();
    Some(prost_types::Timestamp {
        seconds: now.timestamp(),
        nanos: i32::try_from(now.timestamp_subsec_nanos()).unwrap(),
    })
}

/// Three customers graded B, then: one pays worse and falls to D (overdue 120 days), one gets
/// financial-statement trouble and falls to C, one stays; a fourth is first graded after the
/// first time.
async fn the_migration_matrix_shows_who_moved(app: TestApp) {
    let industry = unique("migration");
    let mut names = Vec::new();
    for _ in 0..3 {
        let name = create(&app, customer(&industry)).await.name;
        record(&app, &name, sound_figures(), false).await;
        assert_eq!(assess(&app, &name).await.grade, "B");
        names.push(name);
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let from = at_now();
    let falls_to_d = Figures {
        longest_overdue_days: Some(120),
        ..sound_figures()
    };
    record(&app, &names[0], falls_to_d, true).await;
    assert_eq!(assess(&app, &names[0]).await.grade, "D");
    let falls_to_c = Figures {
        financial_statements_provided: None,
        ..sound_figures()
    };
    record(&app, &names[1], falls_to_c, true).await;
    assert_eq!(assess(&app, &names[1]).await.grade, "C");
    assess(&app, &names[2]).await;
    let newcomer = create(&app, customer(&industry)).await.name;
    record(&app, &newcomer, sound_figures(), false).await;
    assess(&app, &newcomer).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let migration = app
        .portfolio
        .clone()
        .get_grade_migration(GetGradeMigrationRequest {
            filter: Some(in_industry(&industry)),
            from_time: from,
            to_time: at_now(),
            list_movers: true,
        })
        .await
        .expect("a migration")
        .into_inner();
    let cells: Vec<(&str, &str, i64)> = migration
        .cells
        .iter()
        .map(|c| (c.from_grade.as_str(), c.to_grade.as_str(), c.customer_count))
        .collect();
    assert_eq!(
        cells,
        vec![("", "B", 1), ("B", "B", 1), ("B", "C", 1), ("B", "D", 1)]
    );
    assert_eq!(
        (
            migration.upgraded_count,
            migration.downgraded_count,
            migration.unchanged_count,
            migration.newly_graded_count
        ),
        (0, 2, 1, 1)
    );
    let movers: Vec<(String, String, String)> = migration
        .movers
        .into_iter()
        .map(|m| (m.customer, m.from_grade, m.to_grade))
        .collect();
    assert_eq!(
        movers,
        vec![
            (names[0].clone(), "B".to_owned(), "D".to_owned()),
            (names[1].clone(), "B".to_owned(), "C".to_owned()),
        ]
    );

    let status = app
        .portfolio
        .clone()
        .get_grade_migration(GetGradeMigrationRequest {
            filter: Some(PortfolioFilter {
                grade: "A".to_owned(),
                ..in_industry(&industry)
            }),
            from_time: at_now(),
            to_time: from,
            list_movers: false,
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["filter.grade", "to_time"])
    );
}

async fn distribution_at(
    app: &TestApp,
    filter: PortfolioFilter,
    as_of_time: Option<prost_types::Timestamp>,
) -> Result<GradeDistribution, tonic::Status> {
    app.portfolio
        .clone()
        .get_grade_distribution(GetGradeDistributionRequest {
            filter: Some(filter),
            currency_code: String::new(),
            as_of_time,
        })
        .await
        .map(tonic::Response::into_inner)
}

fn per_grade(distribution: &GradeDistribution) -> Vec<(String, i64, i64)> {
    distribution
        .grades
        .iter()
        .map(|share| {
            (
                share.grade.clone(),
                share.customer_count,
                units(share.sales.as_ref()),
            )
        })
        .collect()
}

/// Three customers graded B with sales of 3, 4 and 2 million. Then the first falls to D on
/// new figures (sales 1 million), the second is overridden to A and, later, revoked; a
/// fourth is graded. Each past distribution counts the grade that counted then, with the
/// sales of the figures graded then.
async fn a_past_distribution_is_the_book_as_it_stood(app: TestApp) {
    let industry = unique("as-of");
    let mut names = Vec::new();
    for sales in [3_000_000, 4_000_000, 2_000_000] {
        let name = create(&app, customer(&industry)).await.name;
        record(&app, &name, with_sales(sound_figures(), sales), false).await;
        assert_eq!(assess(&app, &name).await.grade, "B");
        names.push(name);
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let all_b = at_now();

    let falls_to_d = Figures {
        longest_overdue_days: Some(120),
        ..with_sales(sound_figures(), 2_500_000)
    };
    record(&app, &names[0], falls_to_d, true).await;
    assert_eq!(assess(&app, &names[0]).await.grade, "D");
    let set = app
        .assessments
        .clone()
        .override_grade(OverrideGradeRequest {
            parent: names[1].clone(),
            grade_override: Some(GradeOverride {
                grade: "A".to_owned(),
                reason: "parent guarantee".to_owned(),
                expire_time: Some(prost_types::Timestamp {
                    seconds: chrono::Utc::now().timestamp() + 3600,
                    nanos: 0,
                }),
                ..GradeOverride::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("overridden")
        .into_inner();
    let newcomer = create(&app, customer(&industry)).await.name;
    record(
        &app,
        &newcomer,
        with_sales(sound_figures(), 5_000_000),
        false,
    )
    .await;
    assert_eq!(assess(&app, &newcomer).await.grade, "A");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let overridden = at_now();
    revoke(&app, set.name).await;

    let book = in_industry(&industry);
    let then = distribution_at(&app, book.clone(), all_b).await.unwrap();
    assert_eq!(per_grade(&then), [("B".to_owned(), 3, 9_000_000)]);
    let later = distribution_at(&app, book.clone(), overridden)
        .await
        .unwrap();
    assert_eq!(
        per_grade(&later),
        [
            ("A".to_owned(), 2, 9_000_000),
            ("B".to_owned(), 1, 2_000_000),
            ("D".to_owned(), 1, 2_500_000),
        ],
        "the override applied then; the newcomer is A"
    );
    let now = distribution_at(&app, book.clone(), None).await.unwrap();
    assert_eq!(
        per_grade(&now),
        [
            ("A".to_owned(), 1, 5_000_000),
            ("B".to_owned(), 2, 6_000_000),
            ("D".to_owned(), 1, 2_500_000),
        ],
        "revoked since"
    );
    // A customer deleted since was in the book then.
    app.customers
        .clone()
        .delete_customer(DeleteCustomerRequest {
            name: names[2].clone(),
            etag: String::new(),
        })
        .await
        .expect("deleted");
    let then = distribution_at(&app, book.clone(), all_b).await.unwrap();
    assert_eq!(per_grade(&then), [("B".to_owned(), 3, 9_000_000)]);
    let before_anything = prost_types::Timestamp {
        seconds: 0,
        nanos: 0,
    };
    let empty = distribution_at(&app, book.clone(), Some(before_anything))
        .await
        .unwrap();
    assert_eq!(empty.customer_count, 0);

    let status = distribution_at(
        &app,
        PortfolioFilter {
            grade: "A".to_owned(),
            ..book
        },
        Some(prost_types::Timestamp {
            seconds: chrono::Utc::now().timestamp() + 3600,
            nanos: 0,
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["filter.grade", "as_of_time"])
    );
}

/// Three customers: one graded on figures of mid-2025 (valid until 2026-06-30, expired), one
/// on figures of 2026-09-30 (valid until 2027-09-30), and one like it that has recorded new
/// figures since it was graded.
async fn grades_due_for_regrading_are_listed(app: TestApp) {
    let industry = unique("due");
    let mut names = Vec::new();
    for as_of in [date(2025, 6, 30), date(2026, 9, 30), date(2026, 9, 30)] {
        let name = create(&app, customer(&industry)).await.name;
        let figures = Figures {
            as_of_date: Some(as_of),
            ..sound_figures()
        };
        record(&app, &name, figures, false).await;
        assess(&app, &name).await;
        names.push(name);
    }
    let newer = Figures {
        as_of_date: Some(date(2026, 10, 31)),
        ..sound_figures()
    };
    record(&app, &names[2], newer, false).await;

    let listed = |filter: PortfolioFilter| {
        let app = app.clone_clients();
        async move { list_all(&app, filter).await }
    };
    let expiring_before = |day| PortfolioFilter {
        valid_until_before: Some(day),
        ..in_industry(&industry)
    };
    let today = chrono::Utc::now().date_naive();
    let today = date(
        today.year(),
        i32::try_from(today.month()).unwrap(),
        i32::try_from(today.day()).unwrap(),
    );
    assert_eq!(listed(expiring_before(today)).await, [names[0].clone()]);
    assert_eq!(
        listed(expiring_before(date(2027, 9, 30))).await,
        [names[0].clone()],
        "valid until 2027-09-30 is still valid that day"
    );
    assert_eq!(
        listed(expiring_before(date(2027, 10, 1))).await,
        names.clone()
    );
    let changed = PortfolioFilter {
        figures_changed: true,
        ..in_industry(&industry)
    };
    // Figures dated before the graded snapshot do not make a grade stale.
    let older = Figures {
        as_of_date: Some(date(2026, 6, 30)),
        ..sound_figures()
    };
    record(&app, &names[1], older, false).await;
    assert_eq!(listed(changed.clone()).await, [names[2].clone()]);
    assess(&app, &names[2]).await;
    assert!(listed(changed).await.is_empty(), "graded on them since");

    let status = app
        .portfolio
        .clone()
        .get_grade_migration(GetGradeMigrationRequest {
            filter: Some(PortfolioFilter {
                figures_changed: true,
                valid_until_before: Some(today),
                ..in_industry(&industry)
            }),
            from_time: at_now(),
            to_time: None,
            list_movers: false,
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "filter.valid_until_before",
            "filter.figures_changed",
            "to_time"
        ])
    );
}

on_every_backend!(
    the_migration_matrix_shows_who_moved,
    a_past_distribution_is_the_book_as_it_stood,
    grades_due_for_regrading_are_listed,
);
