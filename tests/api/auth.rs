//! API keys over the wire: no key or an unknown key is UNAUTHENTICATED, a key without the
//! method's role is PERMISSION_DENIED, health stays open.

use custgrade::{
    grpc::auth::hash_secret,
    proto::custgrade::v1::{
        AssessCustomerRequest, CreateCustomerRequest, GetChampionRequest, GradeOverride,
        ListCustomersRequest, OverrideGradeRequest, PublishModelVersionRequest,
        RecordFiguresRequest,
    },
};
use tonic::{Code, Request};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::{
    assessments::sound_figures,
    customers::customer,
    helpers::{Backend, TestApp, spawn_app_with},
};

const READER_SECRET: &str = "reader-secret-3f9a";
const WRITER_SECRET: &str = "writer-secret-81cc";

async fn app_with_keys() -> TestApp {
    let keys = format!(
        "dashboard:{}:reader; erp-sync:{}:reader,writer",
        hash_secret(READER_SECRET),
        hash_secret(WRITER_SECRET)
    );
    spawn_app_with(Backend::Sqlite, |settings| {
        settings.api_keys = keys.parse().unwrap();
    })
    .await
    .unwrap()
}

fn with_key<T>(message: T, secret: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    request
}

fn create_request() -> CreateCustomerRequest {
    CreateCustomerRequest {
        customer: Some(customer("machinery")),
        request_id: String::new(),
    }
}

#[tokio::test]
async fn a_call_without_a_key_is_unauthenticated_but_health_stays_open() {
    let app = app_with_keys().await;

    let status = app
        .customers
        .clone()
        .list_customers(ListCustomersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let health = app
        .health
        .clone()
        .check(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status(), ServingStatus::Serving);
}

#[tokio::test]
async fn an_unknown_key_is_unauthenticated() {
    let app = app_with_keys().await;
    let status = app
        .customers
        .clone()
        .list_customers(with_key(ListCustomersRequest::default(), "guessed"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_reader_may_list_but_not_create() {
    let app = app_with_keys().await;
    let mut client = app.customers.clone();

    client
        .list_customers(with_key(ListCustomersRequest::default(), READER_SECRET))
        .await
        .unwrap();
    let status = client
        .create_customer(with_key(create_request(), READER_SECRET))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_writer_may_create() {
    let app = app_with_keys().await;
    let created = app
        .customers
        .clone()
        .create_customer(with_key(create_request(), WRITER_SECRET))
        .await
        .unwrap()
        .into_inner();
    assert!(created.name.starts_with("customers/"));
}

#[tokio::test]
async fn publishing_models_needs_model_admin_even_for_a_writer() {
    let app = app_with_keys().await;
    let mut models = app.models.clone();
    let publish = PublishModelVersionRequest {
        name: "models/existing-customers/versions/1".to_owned(),
        etag: String::new(),
    };
    let status = models
        .publish_model_version(with_key(publish, WRITER_SECRET))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let champion = GetChampionRequest {
        name: "champions/existing".to_owned(),
    };
    models
        .get_champion(with_key(champion, READER_SECRET))
        .await
        .unwrap();
}

#[tokio::test]
async fn only_an_officer_overrides_and_the_override_names_its_key() {
    const OFFICER_SECRET: &str = "officer-secret-5d21";
    let keys = format!(
        "erp-sync:{}:reader,writer; risk-lead:{}:officer",
        hash_secret(WRITER_SECRET),
        hash_secret(OFFICER_SECRET)
    );
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.api_keys = keys.parse().unwrap();
    })
    .await
    .unwrap();
    let name = app
        .customers
        .clone()
        .create_customer(with_key(create_request(), WRITER_SECRET))
        .await
        .unwrap()
        .into_inner()
        .name;
    let figures = RecordFiguresRequest {
        parent: name.clone(),
        figures: Some(sound_figures()),
        supersede: false,
        request_id: String::new(),
    };
    app.figures
        .clone()
        .record_figures(with_key(figures, WRITER_SECRET))
        .await
        .unwrap();
    let assess = AssessCustomerRequest {
        parent: name.clone(),
        ..AssessCustomerRequest::default()
    };
    app.assessments
        .clone()
        .assess_customer(with_key(assess, WRITER_SECRET))
        .await
        .unwrap();

    let expire = chrono::Utc::now() + chrono::Duration::days(30);
    let wanted = OverrideGradeRequest {
        parent: name,
        grade_override: Some(GradeOverride {
            grade: "A".to_owned(),
            reason: "board decision".to_owned(),
            author: "someone-else".to_owned(),
            expire_time: Some(prost_types::Timestamp {
                seconds: expire.timestamp(),
                nanos: 0,
            }),
            ..GradeOverride::default()
        }),
        request_id: String::new(),
    };
    let status = app
        .assessments
        .clone()
        .override_grade(with_key(wanted.clone(), WRITER_SECRET))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let set = app
        .assessments
        .clone()
        .override_grade(with_key(wanted, OFFICER_SECRET))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(set.author, "risk-lead");
}
