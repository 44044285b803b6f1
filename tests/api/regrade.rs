//! PortfolioService.RegradePortfolio and google.longrunning.Operations over the real socket:
//! a run grades every selected customer once, reports its progress, can be cancelled, and
//! survives a restart of the server in the middle, and a holder whose lease ran out, without
//! grading anyone twice. Expected counts come from the customers each test made, never from
//! the server.

use std::{collections::BTreeMap, time::Duration};

use custgrade::proto::{
    custgrade::v1::{
        Figures, PortfolioFilter, RegradePortfolioMetadata, RegradePortfolioRequest,
        RegradePortfolioResponse, RegradeSkipReason, RegradeState,
    },
    google::longrunning::{
        CancelOperationRequest, DeleteOperationRequest, GetOperationRequest, ListOperationsRequest,
        Operation, WaitOperationRequest, operation::Result as Outcome,
    },
};
use prost::Message;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use tonic::Code;

use crate::{
    assessments::{assess, assessment_names, current_grade, record, sound_figures},
    customers::{create, customer},
    figures::date,
    helpers::{Backend, TestApp, bad_request_fields, fields, spawn_app, unique},
    models::try_create,
    on_every_backend,
    portfolio::in_industry,
};

on_every_backend!(
    a_regrade_assesses_every_selected_customer_once,
    a_filter_on_grades_regrades_only_the_stale_ones,
    a_cancelled_regrade_stops_where_it_was,
    a_regrade_survives_a_restart_and_grades_each_customer_once,
    a_retried_regrade_returns_the_same_operation,
    bad_regrade_and_operation_requests_are_refused,
);

/// `count` customers in `industry`, each with the sound figures recorded and never assessed.
async fn customers_with_figures(app: &TestApp, industry: &str, count: usize) -> Vec<String> {
    let mut names = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|_| {
                let app = app.clone_clients();
                let industry = industry.to_owned();
                tokio::spawn(async move {
                    let name = create(&app, customer(&industry)).await.name;
                    record(&app, &name, sound_figures(), false).await;
                    name
                })
            })
            .collect();
        for task in tasks {
            names.push(task.await.expect("the task ran"));
        }
    }
    names.sort();
    names
}

async fn regrade(app: &TestApp, request: RegradePortfolioRequest) -> Operation {
    app.portfolio
        .clone()
        .regrade_portfolio(request)
        .await
        .expect("the re-grade starts")
        .into_inner()
}

fn of_industry(industry: &str) -> RegradePortfolioRequest {
    RegradePortfolioRequest {
        filter: Some(in_industry(industry)),
        ..RegradePortfolioRequest::default()
    }
}

fn metadata(operation: &Operation) -> RegradePortfolioMetadata {
    let any = operation
        .metadata
        .as_ref()
        .expect("an operation has metadata");
    assert_eq!(
        any.type_url,
        "type.googleapis.com/custgrade.v1.RegradePortfolioMetadata"
    );
    RegradePortfolioMetadata::decode(any.value.as_slice()).expect("the metadata decodes")
}

async fn get(app: &TestApp, name: &str) -> Operation {
    app.operations
        .clone()
        .get_operation(GetOperationRequest {
            name: name.to_owned(),
        })
        .await
        .expect("the operation is found")
        .into_inner()
}

/// Waits for the operation to end, with WaitOperation in slices of at most 5 s.
async fn wait_done(app: &TestApp, name: &str) -> Operation {
    for _ in 0..24 {
        let operation = app
            .operations
            .clone()
            .wait_operation(WaitOperationRequest {
                name: name.to_owned(),
                timeout: Some(prost_types::Duration {
                    seconds: 5,
                    nanos: 0,
                }),
            })
            .await
            .expect("waited")
            .into_inner();
        if operation.done {
            return operation;
        }
    }
    panic!("the operation {name} did not end within 2 minutes");
}

/// Polls until the run has stored at least one batch; returns the progress seen.
async fn first_progress(app: &TestApp, name: &str) -> RegradePortfolioMetadata {
    for _ in 0..200 {
        let progress = metadata(&get(app, name).await);
        if progress.processed_customer_count > 0 {
            return progress;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the operation {name} made no progress within 5 s");
}

/// A run over `count` new customers in an industry named after `prefix`, graded at
/// `per_second`, once it has stored its first batch: the customers, the operation and the
/// progress seen then.
async fn slow_regrade_under_way(
    app: &TestApp,
    prefix: &str,
    count: usize,
    per_second: i32,
) -> (Vec<String>, Operation, RegradePortfolioMetadata) {
    let industry = unique(prefix);
    let customers = customers_with_figures(app, &industry, count).await;
    let started = regrade(
        app,
        RegradePortfolioRequest {
            max_customers_per_second: per_second,
            ..of_industry(&industry)
        },
    )
    .await;
    let progress = first_progress(app, &started.name).await;
    (customers, started, progress)
}

/// Waits for the run to end and checks that it succeeded with every one of `customers`
/// assessed exactly once.
async fn assert_each_graded_once(app: &TestApp, name: &str, customers: &[String]) {
    let done = wait_done(app, name).await;
    let progress = metadata(&done);
    let count = i64::try_from(customers.len()).unwrap();
    assert_eq!(progress.state(), RegradeState::Succeeded, "{done:?}");
    assert_eq!(progress.processed_customer_count, count);
    assert_eq!(progress.assessed_customer_count, count);
    let counts = counts_by_customer(app, customers).await;
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

async fn assessment_count(app: &TestApp, customer: &str) -> usize {
    assessment_names(app, customer).await.len()
}

async fn counts_by_customer(app: &TestApp, customers: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for customer in customers {
        counts.insert(customer.clone(), assessment_count(app, customer).await);
    }
    counts
}

/// Twelve customers with figures (five of them assessed before) and three without, plus a
/// customer of another industry that must be left alone.
async fn a_regrade_assesses_every_selected_customer_once(app: TestApp) {
    let industry = unique("regrade");
    let with_figures = customers_with_figures(&app, &industry, 12).await;
    let mut graded_before = BTreeMap::new();
    for customer in &with_figures[..5] {
        assess(&app, customer).await;
        let current = current_grade(&app, customer).await.assessment;
        graded_before.insert(customer.clone(), current);
    }
    let mut without_figures = Vec::new();
    for _ in 0..3 {
        without_figures.push(create(&app, customer(&industry)).await.name);
    }
    without_figures.sort();
    let elsewhere = customers_with_figures(&app, &unique("elsewhere"), 1).await;
    let before = counts_by_customer(&app, &with_figures).await;

    let started = regrade(&app, of_industry(&industry)).await;
    assert!(started.name.starts_with("operations/"), "{started:?}");
    let started_metadata = metadata(&started);
    assert_eq!(started_metadata.total_customer_count, 15);
    assert!(started_metadata.create_time.is_some());
    assert_eq!(
        started_metadata
            .request
            .and_then(|request| request.filter)
            .map(|filter| filter.industry),
        Some(industry.clone()),
        "the metadata repeats the request"
    );

    let done = wait_done(&app, &started.name).await;
    let progress = metadata(&done);
    assert_eq!(progress.state(), RegradeState::Succeeded);
    assert_eq!(progress.processed_customer_count, 15);
    assert_eq!(progress.assessed_customer_count, 12);
    assert!(progress.end_time.is_some());
    assert_eq!(progress.skips.len(), 1, "{:?}", progress.skips);
    assert_eq!(progress.skips[0].reason(), RegradeSkipReason::NoFigures);
    assert_eq!(progress.skips[0].customer_count, 3);
    let mut skipped = progress.skips[0].sample_customers.clone();
    skipped.sort();
    assert_eq!(skipped, without_figures);
    let Some(Outcome::Response(response)) = &done.result else {
        panic!("a successful run has a response: {done:?}");
    };
    assert_eq!(
        response.type_url,
        "type.googleapis.com/custgrade.v1.RegradePortfolioResponse"
    );
    let response = RegradePortfolioResponse::decode(response.value.as_slice()).expect("decodes");
    assert_eq!(response.assessed_customer_count, 12);
    assert_eq!(response.skipped_customer_count, 3);

    let after = counts_by_customer(&app, &with_figures).await;
    for customer in &with_figures {
        assert_eq!(after[customer], before[customer] + 1, "{customer}");
        let current = current_grade(&app, customer).await.assessment;
        assert!(current.starts_with(customer.as_str()), "{current}");
        assert_ne!(
            Some(&current),
            graded_before.get(customer),
            "the grade read before the re-grade was replaced"
        );
    }
    assert_eq!(assessment_count(&app, &elsewhere[0]).await, 0);

    let listed = app
        .operations
        .clone()
        .list_operations(ListOperationsRequest {
            name: "operations".to_owned(),
            filter: "done=true".to_owned(),
            ..ListOperationsRequest::default()
        })
        .await
        .expect("listed")
        .into_inner();
    assert!(
        listed
            .operations
            .iter()
            .any(|listed| listed.name == started.name),
        "a finished run is listed as done"
    );
    let running = app
        .operations
        .clone()
        .list_operations(ListOperationsRequest {
            filter: "done=false".to_owned(),
            ..ListOperationsRequest::default()
        })
        .await
        .expect("listed")
        .into_inner();
    assert!(running.operations.iter().all(|listed| !listed.done));

    app.operations
        .clone()
        .delete_operation(DeleteOperationRequest {
            name: started.name.clone(),
        })
        .await
        .expect("a finished operation may be deleted");
    let status = app
        .operations
        .clone()
        .get_operation(GetOperationRequest {
            name: started.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

/// Three customers graded on old figures, one of which has recorded newer figures since: a
/// re-grade of the changed ones grades only that one, and one never graded is not selected.
async fn a_filter_on_grades_regrades_only_the_stale_ones(app: TestApp) {
    let industry = unique("stale");
    let graded = customers_with_figures(&app, &industry, 3).await;
    for customer in &graded {
        assess(&app, customer).await;
    }
    customers_with_figures(&app, &industry, 1).await;
    let newer = Figures {
        as_of_date: Some(date(2026, 10, 31)),
        ..sound_figures()
    };
    record(&app, &graded[1], newer, false).await;

    let request = RegradePortfolioRequest {
        filter: Some(PortfolioFilter {
            figures_changed: true,
            ..in_industry(&industry)
        }),
        ..RegradePortfolioRequest::default()
    };
    let started = regrade(&app, request).await;
    assert_eq!(metadata(&started).total_customer_count, 1);
    let progress = metadata(&wait_done(&app, &started.name).await);
    assert_eq!(progress.assessed_customer_count, 1);
    let counts = counts_by_customer(&app, &graded).await;
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), [1, 2, 1]);
}

/// Forty customers at ten a second: cancelled after its first batch, the run ends CANCELLED
/// with the customers it graded so far, and grades no more.
async fn a_cancelled_regrade_stops_where_it_was(app: TestApp) {
    let (customers, started, _) = slow_regrade_under_way(&app, "cancel", 40, 10).await;
    app.operations
        .clone()
        .cancel_operation(CancelOperationRequest {
            name: started.name.clone(),
        })
        .await
        .expect("cancelled");
    let cancelled = get(&app, &started.name).await;
    assert!(cancelled.done);
    let Some(Outcome::Error(error)) = &cancelled.result else {
        panic!("a cancelled run ends with an error: {cancelled:?}");
    };
    assert_eq!(error.code, i32::from(Code::Cancelled));
    let progress = metadata(&cancelled);
    assert_eq!(progress.state(), RegradeState::Cancelled);
    assert!(progress.processed_customer_count < 40, "{progress:?}");

    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = metadata(&get(&app, &started.name).await);
    assert_eq!(
        later.processed_customer_count,
        progress.processed_customer_count
    );
    let graded: usize = counts_by_customer(&app, &customers).await.values().sum();
    assert_eq!(
        graded,
        usize::try_from(progress.assessed_customer_count).unwrap()
    );
    // Cancelling again changes nothing.
    app.operations
        .clone()
        .cancel_operation(CancelOperationRequest {
            name: started.name.clone(),
        })
        .await
        .expect("cancelling a finished operation is accepted");
}

/// Sixty customers at forty a second: the server is restarted after the first batch, and the
/// new server finishes the run. Every customer ends with exactly one assessment.
async fn a_regrade_survives_a_restart_and_grades_each_customer_once(app: TestApp) {
    let (customers, started, before_restart) =
        slow_regrade_under_way(&app, "restart", 60, 40).await;
    assert!(before_restart.processed_customer_count < 60);

    let app = app.restart().await;
    let at_restart = metadata(&get(&app, &started.name).await);
    assert!(
        at_restart.processed_customer_count < 60,
        "the restart came in the middle of the run: {at_restart:?}"
    );
    assert_each_graded_once(&app, &started.name, &customers).await;
}

/// A server that stops renewing its lease (it crashed, or stalled past the lease) loses its
/// run: once the lease has run out, a server's scan for runs nobody holds takes the run over
/// and finishes it, and the old holder, should it wake, stores no batch of it again. Here
/// the lease is made to run out at once, in the database, naming a holder that is gone;
/// the server that was running it goes on living, as a stalled holder would. PostgreSQL
/// only: on SQLite a second connection in this process would drop the server's claim on
/// its file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regrade_whose_lease_ran_out_is_taken_over_and_grades_each_customer_once() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let (customers, started, _) = slow_regrade_under_way(&app, "lease", 60, 40).await;

    let id = started.name.strip_prefix("operations/").unwrap();
    let database = Database::connect(app.database_url.as_str()).await.unwrap();
    let expired = database
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE operations SET owner = 'a-server-that-crashed', \
             lease_until = now() - interval '1 second' WHERE id = $1 AND state = 'running'",
            [id.into()],
        ))
        .await
        .unwrap();
    assert_eq!(expired.rows_affected(), 1, "the run was still running");

    assert_each_graded_once(&app, &started.name, &customers).await;
}

async fn a_retried_regrade_returns_the_same_operation(app: TestApp) {
    let industry = unique("retry");
    customers_with_figures(&app, &industry, 2).await;
    let request = RegradePortfolioRequest {
        request_id: unique("request"),
        ..of_industry(&industry)
    };
    let first = regrade(&app, request.clone()).await;
    let retried = regrade(&app, request.clone()).await;
    assert_eq!(retried.name, first.name);
    wait_done(&app, &first.name).await;
    let after_the_end = regrade(&app, request.clone()).await;
    assert_eq!(after_the_end.name, first.name);
    assert!(after_the_end.done);

    let other = RegradePortfolioRequest {
        max_customers_per_second: 5,
        ..request
    };
    let status = app
        .portfolio
        .clone()
        .regrade_portfolio(other)
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["request_id"]));
}

async fn bad_regrade_and_operation_requests_are_refused(app: TestApp) {
    let status = app
        .portfolio
        .clone()
        .regrade_portfolio(RegradePortfolioRequest {
            filter: Some(PortfolioFilter {
                kind: 9,
                model_version: "models/x".to_owned(),
                ..PortfolioFilter::default()
            }),
            model_version: "versions/1".to_owned(),
            max_customers_per_second: -1,
            request_id: "has space".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "filter.kind",
            "filter.model_version",
            "model_version",
            "max_customers_per_second",
            "request_id",
        ])
    );

    let unknown_version = RegradePortfolioRequest {
        model_version: "models/existing-customers/versions/99".to_owned(),
        ..RegradePortfolioRequest::default()
    };
    let status = app
        .portfolio
        .clone()
        .regrade_portfolio(unknown_version)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    let draft = try_create(
        &app,
        "models/regrade-draft",
        crate::models::a_from_80().as_str(),
    )
    .await
    .expect("a draft");
    let status = app
        .portfolio
        .clone()
        .regrade_portfolio(RegradePortfolioRequest {
            model_version: draft.name,
            ..RegradePortfolioRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let mut operations = app.operations.clone();
    let status = operations
        .get_operation(GetOperationRequest {
            name: "operations/NOT-A-UUID".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["name"]));
    let unknown = format!("operations/{}", uuid::Uuid::now_v7());
    let status = operations
        .get_operation(GetOperationRequest {
            name: unknown.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let status = operations
        .cancel_operation(CancelOperationRequest { name: unknown })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let status = operations
        .list_operations(ListOperationsRequest {
            name: "elsewhere".to_owned(),
            filter: "state=RUNNING".to_owned(),
            page_size: -1,
            page_token: "garbage".to_owned(),
            return_partial_success: false,
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["name", "filter", "page_size", "page_token"])
    );

    // A running operation must be cancelled before it is deleted; a short wait returns it
    // unfinished.
    let industry = unique("slow");
    customers_with_figures(&app, &industry, 3).await;
    let slow = regrade(
        &app,
        RegradePortfolioRequest {
            max_customers_per_second: 1,
            ..of_industry(&industry)
        },
    )
    .await;
    let waited = operations
        .wait_operation(WaitOperationRequest {
            name: slow.name.clone(),
            timeout: Some(prost_types::Duration {
                seconds: 0,
                nanos: 200_000_000,
            }),
        })
        .await
        .expect("waited")
        .into_inner();
    assert!(!waited.done);
    let status = operations
        .delete_operation(DeleteOperationRequest {
            name: slow.name.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    operations
        .cancel_operation(CancelOperationRequest {
            name: slow.name.clone(),
        })
        .await
        .expect("cancelled");
}
