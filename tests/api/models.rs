//! ScoringModelService over the real socket: the defaults published on first start, drafts
//! that are edited and validated, publishing (and the refusal to edit what is published),
//! champions, and a new champion grading while old assessments still explain themselves.

use custgrade::{
    domain::scoring::document::DEFAULT_EXISTING,
    proto::custgrade::v1::{
        AssessCustomerRequest, CreateModelVersionRequest, DocumentFormat, ExplainAssessmentRequest,
        FigureInput, GetAssessmentRequest, GetChampionRequest, GetModelVersionRequest,
        ListModelVersionsRequest, ModelVersion, ModelVersionView, PublishModelVersionRequest,
        SetChampionRequest, UpdateModelVersionRequest, ValidateModelVersionRequest,
        model_version::State,
    },
};
use prost_types::FieldMask;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::{
    assessments::{assess, assess_request, record, sound_figures, try_assess},
    figures::create_customer,
    helpers::{TestApp, bad_request_fields, fields},
    on_every_backend,
};

const EXISTING_V1: &str = "models/existing-customers/versions/1";
const EXISTING_V2: &str = "models/existing-customers/versions/2";

/// The default model for existing customers with grade A from 80 instead of 85.
pub fn a_from_80() -> String {
    let edited = DEFAULT_EXISTING.replacen(
        "{ grade: A, min_score: 85 }",
        "{ grade: A, min_score: 80 }",
        1,
    );
    assert_ne!(
        edited, DEFAULT_EXISTING,
        "the default model still has an A at 85"
    );
    edited
}

pub async fn try_create(
    app: &TestApp,
    parent: &str,
    document: &str,
) -> Result<ModelVersion, Status> {
    app.models
        .clone()
        .create_model_version(CreateModelVersionRequest {
            parent: parent.to_owned(),
            model_version: Some(ModelVersion {
                document: document.to_owned(),
                ..ModelVersion::default()
            }),
            request_id: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn try_publish(app: &TestApp, name: &str, etag: &str) -> Result<ModelVersion, Status> {
    app.models
        .clone()
        .publish_model_version(PublishModelVersionRequest {
            name: name.to_owned(),
            etag: etag.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn try_set_champion(
    app: &TestApp,
    population: &str,
    version: &str,
) -> Result<String, Status> {
    app.models
        .clone()
        .set_champion(SetChampionRequest {
            name: format!("champions/{population}"),
            model_version: version.to_owned(),
        })
        .await
        .map(|response| response.into_inner().model_version)
}

async fn champion_of(app: &TestApp, population: &str) -> String {
    app.models
        .clone()
        .get_champion(GetChampionRequest {
            name: format!("champions/{population}"),
        })
        .await
        .expect("a champion")
        .into_inner()
        .model_version
}

async fn try_update(
    app: &TestApp,
    name: &str,
    document: &str,
    etag: &str,
) -> Result<ModelVersion, Status> {
    app.models
        .clone()
        .update_model_version(UpdateModelVersionRequest {
            model_version: Some(ModelVersion {
                name: name.to_owned(),
                document: document.to_owned(),
                etag: etag.to_owned(),
                ..ModelVersion::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["document".to_owned()],
            }),
        })
        .await
        .map(tonic::Response::into_inner)
}

// ---------------------------------------------------------------------------------------------

async fn the_default_models_are_published_champions_on_first_start(app: TestApp) {
    assert_eq!(champion_of(&app, "existing").await, EXISTING_V1);
    assert_eq!(
        champion_of(&app, "prospect").await,
        "models/prospects/versions/1"
    );
    let full = app
        .models
        .clone()
        .get_model_version(GetModelVersionRequest {
            name: EXISTING_V1.to_owned(),
            view: ModelVersionView::Full.into(),
            document_format: DocumentFormat::Json.into(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(full.state(), State::Published);
    assert!(full.publish_time.is_some());
    assert_eq!(full.grades, ["A", "B", "C", "D"]);
    assert_eq!(full.validity_months, 12);
    assert_eq!(full.criteria.len(), 7);
    assert!(full.document.starts_with('{'), "JSON was asked for");
    assert!(full.document.contains("\"sales_contribution\""));

    let basic = app
        .models
        .clone()
        .list_model_versions(ListModelVersionsRequest {
            parent: "models/prospects".to_owned(),
            ..ListModelVersionsRequest::default()
        })
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(basic.model_versions.len(), 1);
    assert!(
        basic.model_versions[0].document.is_empty(),
        "lists omit documents"
    );
}

/// The "done when": edit a copy of the default model, publish it, make it champion;
/// a new assessment names the new version while the old one still explains itself.
async fn a_published_copy_becomes_champion_and_old_assessments_keep_their_version(app: TestApp) {
    let customer = create_customer(&app).await;
    record(&app, &customer, sound_figures(), false).await;
    let before = assess(&app, &customer).await;
    // 82.00 under version 1: a B (A needs 85).
    assert_eq!(
        (before.grade.as_str(), before.model_version.as_str()),
        ("B", EXISTING_V1)
    );

    let draft = try_create(&app, "models/existing-customers", &a_from_80())
        .await
        .expect("the draft is created");
    assert_eq!(draft.name, EXISTING_V2);
    assert_eq!(draft.state(), State::Draft);
    let with_draft = AssessCustomerRequest {
        model_version: EXISTING_V2.to_owned(),
        ..assess_request(&customer)
    };
    let status = try_assess(&app, with_draft).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let status = try_set_champion(&app, "existing", EXISTING_V2)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let published = try_publish(&app, EXISTING_V2, &draft.etag)
        .await
        .expect("published");
    assert_eq!(published.state(), State::Published);
    assert_eq!(
        try_set_champion(&app, "existing", EXISTING_V2)
            .await
            .expect("set"),
        EXISTING_V2
    );
    assert_eq!(champion_of(&app, "existing").await, EXISTING_V2);

    // The same figures under version 2: 82.00 is now an A, which grants 3 months of
    // 3 000 000 a year = 750 000 (under 20 % of net assets and 10 % of revenue) on 60 days.
    let after = assess(&app, &customer).await;
    assert_eq!(after.model_version, EXISTING_V2);
    assert_eq!(
        (after.total_score.as_str(), after.grade.as_str()),
        ("82.00", "A")
    );
    let credit = after.credit.expect("A has a policy");
    assert_eq!(credit.credit_limit.map(|limit| limit.units), Some(750_000));
    assert_eq!(credit.payment_terms_days, 60);

    let old = app
        .assessments
        .clone()
        .get_assessment(GetAssessmentRequest {
            name: before.name.clone(),
            locale: String::new(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(old, before);
    let report = app
        .assessments
        .clone()
        .explain_assessment(ExplainAssessmentRequest {
            name: before.name.clone(),
            locale: String::new(),
        })
        .await
        .expect("explained")
        .into_inner()
        .text;
    assert!(report.contains("version 1"), "{report}");
    assert!(report.contains("Grade: B"), "{report}");
}

async fn a_published_version_never_changes_and_a_draft_changes_only_with_its_etag(app: TestApp) {
    let status = try_update(&app, EXISTING_V1, &a_from_80(), "")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("published"), "{status:?}");

    let draft = try_create(&app, "models/my-copy", DEFAULT_EXISTING)
        .await
        .expect("created");
    assert_eq!(draft.name, "models/my-copy/versions/1");
    let edited = try_update(&app, &draft.name, &a_from_80(), &draft.etag)
        .await
        .expect("the draft is edited");
    assert_ne!(edited.etag, draft.etag);
    let status = try_update(&app, &draft.name, DEFAULT_EXISTING, &draft.etag)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    let status = try_publish(&app, &draft.name, &draft.etag)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted, "{status:?}");

    let published = try_publish(&app, &edited.name, &edited.etag)
        .await
        .expect("published");
    // A retry of a publish that succeeded, with the draft's etag or none, gets the same version.
    let retried = try_publish(&app, &published.name, &edited.etag).await;
    assert_eq!(retried.expect("a retry is fine"), published);
    let again = try_publish(&app, &published.name, "").await;
    assert_eq!(again.expect("publishing is idempotent"), published);
    let status = try_publish(&app, &published.name, &draft.etag)
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::Aborted,
        "an older etag is stale: {status:?}"
    );
    let status = try_update(&app, &published.name, DEFAULT_EXISTING, "")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let status = app
        .models
        .clone()
        .update_model_version(UpdateModelVersionRequest {
            model_version: Some(ModelVersion {
                name: "models/my-copy/versions/1".to_owned(),
                document: DEFAULT_EXISTING.to_owned(),
                ..ModelVersion::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["state".to_owned()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["update_mask"]));
}

/// Weights of 20 + 15 + 20 + 15 + 10 + 10 + 5 = 95 and a B threshold above A's: every
/// problem comes back at once, each with its path, and publishing refuses with all of them.
async fn validation_lists_every_problem_and_publishing_refuses_them(app: TestApp) {
    let broken = DEFAULT_EXISTING
        .replacen("weight_percent: 25", "weight_percent: 20", 1)
        .replacen(
            "{ grade: B, min_score: 70 }",
            "{ grade: B, min_score: 90 }",
            1,
        );
    let problems = app
        .models
        .clone()
        .validate_model_version(ValidateModelVersionRequest {
            name: String::new(),
            document: broken.clone(),
            definition: None,
        })
        .await
        .expect("validated")
        .into_inner()
        .problems;
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.contains(&"criteria"), "{problems:?}");
    assert!(
        paths.iter().any(|path| path.starts_with("grades")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.message.contains("95")),
        "the weight problem names the sum: {problems:?}"
    );

    let draft = try_create(&app, "models/broken", &broken)
        .await
        .expect("a draft may have problems");
    let status = try_publish(&app, &draft.name, "").await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let failure = status
        .get_details_precondition_failure()
        .expect("a PreconditionFailure detail");
    let subjects: Vec<String> = failure
        .violations
        .iter()
        .map(|v| v.subject.clone())
        .collect();
    assert_eq!(subjects, paths, "every problem is a violation");
    assert!(
        failure
            .violations
            .iter()
            .all(|v| v.r#type == "MODEL_PROBLEM")
    );

    let stored = app
        .models
        .clone()
        .validate_model_version(ValidateModelVersionRequest {
            name: draft.name.clone(),
            document: String::new(),
            definition: None,
        })
        .await
        .expect("validated")
        .into_inner()
        .problems;
    assert_eq!(stored, problems);

    let clean = app
        .models
        .clone()
        .validate_model_version(ValidateModelVersionRequest {
            name: EXISTING_V1.to_owned(),
            document: String::new(),
            definition: None,
        })
        .await
        .expect("validated")
        .into_inner()
        .problems;
    assert!(clean.is_empty(), "{clean:?}");
}

async fn bad_documents_and_names_are_invalid_arguments(app: TestApp) {
    let typo = DEFAULT_EXISTING.replacen("weight_percent: 15", "weight: 15", 1);
    let status = try_create(&app, "models/Bad_Name", &typo)
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["parent", "model_version.document"])
    );
    assert!(
        status.message().contains("unknown field `weight`"),
        "{status:?}"
    );
    assert!(status.message().contains("line"), "{status:?}");

    let status = try_create(&app, "models/empty", "").await.unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["model_version.document"])
    );

    let status = try_set_champion(&app, "everyone", "models/x/versions/0")
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&["name", "model_version"])
    );
    let status = try_set_champion(&app, "existing", "models/nothing/versions/1")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    let status = app
        .models
        .clone()
        .validate_model_version(ValidateModelVersionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let status = app
        .models
        .clone()
        .list_model_versions(ListModelVersionsRequest {
            parent: "models/never-created".to_owned(),
            ..ListModelVersionsRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

async fn versions_are_listed_newest_first_and_a_retried_create_makes_one(app: TestApp) {
    let request = CreateModelVersionRequest {
        parent: "models/paged".to_owned(),
        model_version: Some(ModelVersion {
            document: DEFAULT_EXISTING.to_owned(),
            ..ModelVersion::default()
        }),
        request_id: "create-paged-1".to_owned(),
    };
    let first = app
        .models
        .clone()
        .create_model_version(request.clone())
        .await
        .expect("created");
    let retry = app
        .models
        .clone()
        .create_model_version(request)
        .await
        .expect("created");
    assert_eq!(retry.into_inner(), first.into_inner());
    for _ in 0..2 {
        try_create(&app, "models/paged", DEFAULT_EXISTING)
            .await
            .expect("created");
    }

    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .models
            .clone()
            .list_model_versions(ListModelVersionsRequest {
                parent: "models/paged".to_owned(),
                page_size: 2,
                page_token,
            })
            .await
            .expect("listed")
            .into_inner();
        names.extend(page.model_versions.into_iter().map(|v| v.name));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(
        names,
        [3, 2, 1].map(|n| format!("models/paged/versions/{n}"))
    );
}

/// The structured form is the document's twin: a version read as messages can be edited and
/// stored as messages, and both forms of a version say the same.
async fn a_model_travels_as_structured_messages_too(app: TestApp) {
    let v1 = app
        .models
        .clone()
        .get_model_version(GetModelVersionRequest {
            name: EXISTING_V1.to_owned(),
            view: ModelVersionView::Full.into(),
            document_format: DocumentFormat::Unspecified.into(),
        })
        .await
        .expect("found")
        .into_inner();
    let mut definition = v1.definition.expect("the FULL view has the definition");
    assert_eq!(definition.criteria.len(), 7);
    assert_eq!(definition.criteria[0].weight_percent, "25");
    assert_eq!(
        definition.criteria[0].input(),
        FigureInput::SalesLast12Months
    );
    assert_eq!(definition.grades[0].min_score, "85");
    definition.grades[0].min_score = "80".to_owned();

    let created = app
        .models
        .clone()
        .create_model_version(CreateModelVersionRequest {
            parent: "models/structured".to_owned(),
            model_version: Some(ModelVersion {
                definition: Some(definition.clone()),
                ..ModelVersion::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("created from messages")
        .into_inner();
    let stored = app
        .models
        .clone()
        .get_model_version(GetModelVersionRequest {
            name: created.name.clone(),
            view: ModelVersionView::Full.into(),
            document_format: DocumentFormat::Yaml.into(),
        })
        .await
        .expect("found")
        .into_inner();
    assert_eq!(stored.definition.as_ref(), Some(&definition));
    assert_eq!(stored.document, a_from_80_as_written(&app).await);

    definition.criteria[0].weight_percent = "20".to_owned();
    let problems = app
        .models
        .clone()
        .validate_model_version(ValidateModelVersionRequest {
            name: String::new(),
            document: String::new(),
            definition: Some(definition.clone()),
        })
        .await
        .expect("validated")
        .into_inner()
        .problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "criteria");

    let both = app
        .models
        .clone()
        .create_model_version(CreateModelVersionRequest {
            parent: "models/structured".to_owned(),
            model_version: Some(ModelVersion {
                definition: Some(definition.clone()),
                document: DEFAULT_EXISTING.to_owned(),
                ..ModelVersion::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&both), fields(&["model_version"]));

    definition.criteria[1].weight_percent = "lots".to_owned();
    let updated = app
        .models
        .clone()
        .update_model_version(UpdateModelVersionRequest {
            model_version: Some(ModelVersion {
                name: created.name.clone(),
                definition: Some(definition),
                ..ModelVersion::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["definition".to_owned()],
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&updated),
        fields(&["model_version.definition.criteria[1].weight_percent"])
    );
}

/// The YAML the server writes for the default model with A from 80.
async fn a_from_80_as_written(app: &TestApp) -> String {
    let draft = try_create(app, "models/written", &a_from_80())
        .await
        .expect("created");
    app.models
        .clone()
        .get_model_version(GetModelVersionRequest {
            name: draft.name,
            view: ModelVersionView::Full.into(),
            document_format: DocumentFormat::Yaml.into(),
        })
        .await
        .expect("found")
        .into_inner()
        .document
        .replace("models/written", "models/structured")
}

async fn concurrent_champion_changes_all_succeed(app: TestApp) {
    let calls: Vec<_> = (0..8)
        .map(|n| {
            let app_models = app.models.clone();
            let version = if n % 2 == 0 {
                EXISTING_V1
            } else {
                "models/prospects/versions/1"
            };
            tokio::spawn(async move {
                app_models
                    .clone()
                    .set_champion(SetChampionRequest {
                        name: "champions/existing".to_owned(),
                        model_version: version.to_owned(),
                    })
                    .await
                    .map(|response| response.into_inner().model_version)
            })
        })
        .collect();
    let mut set = Vec::new();
    for call in calls {
        set.push(
            call.await
                .expect("the task ran")
                .expect("every change succeeds"),
        );
    }
    let champion = champion_of(&app, "existing").await;
    assert!(
        set.contains(&champion),
        "{champion} was one of the versions set"
    );
}

on_every_backend!(
    concurrent_champion_changes_all_succeed,
    a_model_travels_as_structured_messages_too,
    the_default_models_are_published_champions_on_first_start,
    a_published_copy_becomes_champion_and_old_assessments_keep_their_version,
    a_published_version_never_changes_and_a_draft_changes_only_with_its_etag,
    validation_lists_every_problem_and_publishing_refuses_them,
    bad_documents_and_names_are_invalid_arguments,
    versions_are_listed_newest_first_and_a_retried_create_makes_one,
);
