//! Many calls at once over one channel, on a multi-threaded runtime: writes that race must all
//! succeed (SQLite has a single writer, so a naive transaction fails with "database is locked"),
//! a shared `request_id` must still create one customer (or one assessment), racing revisions
//! of one date must each get their own revision number, and racing assessments of one
//! customer (stored by one group commit) must all be kept, the newest as the current grade;
//! reads of many customers' grades at once (answered by one statement) must each get their
//! own.

use std::{collections::BTreeSet, sync::Arc};

use custgrade::proto::custgrade::v1::{
    AssessCustomerRequest, CreateCustomerRequest, Customer, Figures, GetCustomerGradeRequest,
    GetFiguresRequest, ListCustomersRequest, RecordFiguresRequest,
};
use tokio::sync::Barrier;
use tonic::{Code, Status};

use crate::{
    assessments::{
        assess_request, assessment_names, current_grade, record, sound_figures, try_assess,
    },
    customers::{create, customer},
    figures::{cny, create_customer, date, list_all},
    helpers::{TestApp, unique},
    overrides::{graded_b, to_a, try_override},
};

crate::on_every_backend!(
    concurrent_creates_and_records_all_succeed,
    concurrent_creates_with_one_request_id_create_one_customer,
    concurrent_superseding_records_of_one_date_each_get_their_own_revision,
    racing_parent_changes_never_make_a_cycle,
    racing_assessments_of_one_customer_are_all_kept_and_the_newest_is_current,
    racing_assessments_with_one_request_id_store_one,
    grades_read_at_once_are_each_their_own_customers,
);

/// The customers in `industry`, live ones only, in one page.
async fn customers_in(app: &TestApp, industry: &str) -> Vec<Customer> {
    let page = app
        .customers
        .clone()
        .list_customers(ListCustomersRequest {
            page_size: 1000,
            industry: industry.to_owned(),
            ..ListCustomersRequest::default()
        })
        .await
        .expect("the customers are listed")
        .into_inner();
    assert!(page.next_page_token.is_empty(), "one page holds them all");
    page.customers
}

/// Runs each of `calls` on a task of its own, all released together once every task has
/// started, and returns their results in order; a task that panicked fails the test.
async fn at_once<F>(calls: Vec<F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let start = Arc::new(Barrier::new(calls.len()));
    let tasks: Vec<_> = calls
        .into_iter()
        .map(|call| {
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                call.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("the task did not panic"));
    }
    results
}

/// The results of calls that must all succeed; fails the test naming every failed call, as
/// `(index, code, message)`.
fn succeeded<T>(results: Vec<Result<T, Status>>) -> Vec<T> {
    let failed: Vec<(usize, tonic::Code, String)> = results
        .iter()
        .enumerate()
        .filter_map(|(index, result)| result.as_ref().err().map(|status| (index, status)))
        .map(|(index, status)| (index, status.code(), status.message().to_owned()))
        .collect();
    assert!(failed.is_empty(), "every call succeeds: {failed:?}");
    results.into_iter().flatten().collect()
}

async fn concurrent_creates_and_records_all_succeed(app: TestApp) {
    const CALLERS: usize = 32;
    let industry = unique("parallel");

    let calls = (0..CALLERS)
        .map(|_| {
            let (mut customers, mut figures) = (app.customers.clone(), app.figures.clone());
            let customer = customer(&industry);
            async move {
                let created = customers
                    .create_customer(CreateCustomerRequest {
                        customer: Some(customer),
                        request_id: unique("req"),
                    })
                    .await?
                    .into_inner();
                let recorded = figures
                    .record_figures(RecordFiguresRequest {
                        parent: created.name.clone(),
                        figures: Some(Figures {
                            as_of_date: Some(date(2025, 9, 30)),
                            annual_revenue: cny(1_000_000),
                            ..Figures::default()
                        }),
                        supersede: false,
                        request_id: unique("req"),
                    })
                    .await?
                    .into_inner();
                Ok::<_, Status>((created.name, recorded))
            }
        })
        .collect();
    let results = at_once(calls).await;

    let created: BTreeSet<String> = succeeded(results)
        .into_iter()
        .map(|(name, recorded)| {
            assert_eq!(recorded.name, format!("{name}/figures/2025-09-30"));
            assert_eq!(recorded.revision, 1);
            name
        })
        .collect();
    assert_eq!(created.len(), CALLERS, "every customer has its own name");
    let listed: BTreeSet<String> = customers_in(&app, &industry)
        .await
        .into_iter()
        .map(|customer| customer.name)
        .collect();
    assert_eq!(listed, created);
    for name in &created {
        let current = app
            .figures
            .clone()
            .get_figures(GetFiguresRequest {
                parent: name.clone(),
                as_of_date: None,
            })
            .await
            .expect("the recorded figures are read")
            .into_inner();
        assert_eq!(current.annual_revenue, cny(1_000_000));
    }
}

async fn concurrent_creates_with_one_request_id_create_one_customer(app: TestApp) {
    const CALLERS: usize = 16;
    let industry = unique("parallel");
    let request = CreateCustomerRequest {
        customer: Some(customer(&industry)),
        request_id: unique("req"),
    };

    let calls = (0..CALLERS)
        .map(|_| {
            let (mut customers, request) = (app.customers.clone(), request.clone());
            async move {
                customers
                    .create_customer(request)
                    .await
                    .map(|response| response.into_inner().name)
            }
        })
        .collect();
    let results = at_once(calls).await;

    let names: BTreeSet<String> = succeeded(results).into_iter().collect();
    assert_eq!(
        names.len(),
        1,
        "every call returns the same customer: {names:?}"
    );
    let listed: BTreeSet<String> = customers_in(&app, &industry)
        .await
        .into_iter()
        .map(|customer| customer.name)
        .collect();
    assert_eq!(listed, names);
}

async fn concurrent_superseding_records_of_one_date_each_get_their_own_revision(app: TestApp) {
    const CALLERS: usize = 16;
    let parent = create_customer(&app).await;

    let calls = (0..CALLERS)
        .map(|caller| {
            let (mut figures, parent) = (app.figures.clone(), parent.clone());
            async move {
                figures
                    .record_figures(RecordFiguresRequest {
                        parent,
                        figures: Some(Figures {
                            as_of_date: Some(date(2025, 9, 30)),
                            source: format!("writer-{caller}"),
                            ..Figures::default()
                        }),
                        supersede: true,
                        request_id: String::new(),
                    })
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .collect();
    let results = succeeded(at_once(calls).await);
    let all_revisions: BTreeSet<i32> =
        (1..=i32::try_from(CALLERS).expect("a small number")).collect();
    let returned: BTreeSet<i32> = results.iter().map(|recorded| recorded.revision).collect();
    assert_eq!(returned, all_revisions, "each call got its own revision");
    let history = list_all(&app, &parent, true).await;
    let listed: BTreeSet<i32> = history.iter().map(|figures| figures.revision).collect();
    assert_eq!(history.len(), CALLERS);
    assert_eq!(listed, all_revisions);
    let current: Vec<i32> = history
        .iter()
        .filter(|figures| !figures.superseded)
        .map(|figures| figures.revision)
        .collect();
    let highest = all_revisions.last().copied().expect("revisions");
    assert_eq!(current, [highest], "only the highest revision is current");
    // The current revision holds the values of the call that was told it made the highest.
    let last_writer = results
        .iter()
        .find(|recorded| recorded.revision == highest)
        .expect("a call made the highest revision");
    let newest = history
        .iter()
        .find(|figures| !figures.superseded)
        .expect("a current revision");
    assert_eq!(newest.source, last_writer.source);
}

/// Two customers naming each other as parent at the same moment, and a three-customer ring
/// closed by two racing changes: one change wins, the other is refused, and no cycle is
/// stored (on PostgreSQL the checks would otherwise pass side by side, or deadlock).
async fn racing_parent_changes_never_make_a_cycle(app: TestApp) {
    for _ in 0..5 {
        let a = create(&app, customer("ring")).await;
        let b = create(&app, customer("ring")).await;
        let outcomes = set_parents_at_once(&app, [(&a, &b), (&b, &a)]).await;
        assert_one_refused_as_a_cycle(&outcomes);

        let c = create(
            &app,
            Customer {
                parent_customer: a.name.clone(),
                ..customer("ring")
            },
        )
        .await;
        let d = create(&app, customer("ring")).await;
        // c is under a; a under d and d under c would close the ring a -> d -> c -> a.
        let outcomes = set_parents_at_once(&app, [(&a, &d), (&d, &c)]).await;
        assert_one_refused_as_a_cycle(&outcomes);
    }
}

/// Sets each `(child, parent)` pair's parent, all calls released at once.
async fn set_parents_at_once(
    app: &TestApp,
    changes: [(&Customer, &Customer); 2],
) -> Vec<Result<Customer, Status>> {
    let calls = changes
        .into_iter()
        .map(|(child, parent)| {
            let mut client = app.customers.clone();
            let request = custgrade::proto::custgrade::v1::UpdateCustomerRequest {
                customer: Some(Customer {
                    name: child.name.clone(),
                    parent_customer: parent.name.clone(),
                    ..Customer::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["parent_customer".to_owned()],
                }),
            };
            async move {
                client
                    .update_customer(request)
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .collect();
    at_once(calls).await
}

fn assert_one_refused_as_a_cycle(outcomes: &[Result<Customer, Status>]) {
    let refused: Vec<tonic::Code> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().err().map(Status::code))
        .collect();
    assert_eq!(refused, [tonic::Code::FailedPrecondition], "{outcomes:?}");
}

/// `callers` calls of `request` at once, released together.
async fn assess_at_once(
    app: &TestApp,
    callers: usize,
    request: AssessCustomerRequest,
) -> Vec<Result<custgrade::proto::custgrade::v1::Assessment, Status>> {
    let calls = (0..callers)
        .map(|_| {
            let (app, request) = (app.clone_clients(), request.clone());
            async move { try_assess(&app, request).await }
        })
        .collect();
    at_once(calls).await
}

async fn racing_assessments_of_one_customer_are_all_kept_and_the_newest_is_current(app: TestApp) {
    const CALLERS: usize = 32;
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;

    let results = assess_at_once(&app, CALLERS, assess_request(&customer)).await;

    let made: BTreeSet<String> = succeeded(results)
        .into_iter()
        .map(|assessment| assessment.name)
        .collect();
    assert_eq!(made.len(), CALLERS, "each call made its own assessment");
    let stored = assessment_names(&app, &customer).await;
    assert_eq!(stored.iter().cloned().collect::<BTreeSet<_>>(), made);
    let current = current_grade(&app, &customer).await;
    assert_eq!(
        current.assessment, stored[0],
        "the current grade is the newest assessment"
    );
}

async fn racing_assessments_with_one_request_id_store_one(app: TestApp) {
    const CALLERS: usize = 16;
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    let request = AssessCustomerRequest {
        request_id: unique("req"),
        ..assess_request(&customer)
    };

    let results = assess_at_once(&app, CALLERS, request).await;

    let names: BTreeSet<String> = succeeded(results)
        .into_iter()
        .map(|assessment| assessment.name)
        .collect();
    assert_eq!(
        names.len(),
        1,
        "every call returns the same assessment: {names:?}"
    );
    assert_eq!(
        assessment_names(&app, &customer).await,
        names.into_iter().collect::<Vec<_>>()
    );
}

/// Current grades read at once go to the database together, in one statement: each read must
/// get its own customer's grade (with its override), or NOT_FOUND for a customer never
/// assessed or unknown, exactly as when read alone.
async fn grades_read_at_once_are_each_their_own_customers(app: TestApp) {
    const READS_EACH: usize = 3;
    let mut graded = Vec::new();
    for _ in 0..12 {
        graded.push(graded_b(&app).await.0);
    }
    let set = try_override(&app, &graded[0], to_a(3600))
        .await
        .expect("overridden");
    let never_assessed = create_customer(&app).await;
    let unknown = "customers/00000000-0000-7000-8000-000000000000".to_owned();
    let mut names = graded.clone();
    names.extend([never_assessed.clone(), unknown.clone()]);

    let calls = (0..READS_EACH)
        .flat_map(|_| names.iter().cloned())
        .map(|customer| {
            let mut assessments = app.assessments.clone();
            async move {
                let read = assessments
                    .get_customer_grade(GetCustomerGradeRequest {
                        customer: customer.clone(),
                    })
                    .await
                    .map(tonic::Response::into_inner);
                (customer, read)
            }
        })
        .collect();
    let results = at_once(calls).await;

    assert_eq!(results.len(), names.len() * READS_EACH);
    for (customer, read) in results {
        if graded.contains(&customer) {
            let grade = read.expect("a graded customer's grade");
            assert_eq!(grade, current_grade(&app, &customer).await, "as read alone");
            assert_eq!(grade.customer, customer);
            assert!(grade.assessment.starts_with(&format!("{customer}/")));
            let expected = if customer == graded[0] { "A" } else { "B" };
            assert_eq!(grade.grade, expected, "{customer}");
            assert_eq!(
                grade.grade_override.map(|o| o.name),
                (customer == graded[0]).then(|| set.name.clone())
            );
        } else {
            let status = read.expect_err("no grade");
            assert_eq!(status.code(), Code::NotFound, "{status:?}");
            let names_assessment = status.message().contains("assessment");
            assert_eq!(names_assessment, customer == never_assessed, "{status:?}");
        }
    }
}
