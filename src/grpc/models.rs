//! `custgrade.v1.ScoringModelService`: drafts, validation, publishing and champions. Models
//! travel as YAML or JSON documents, read and checked by the same code as the offline
//! `custgrade model validate`.

use tonic::{Request, Response, Status};

use super::{
    convert::timestamp,
    names::{
        champion_name, etag, model_version_name, parse_champion_name, parse_etag, parse_model_name,
        parse_model_version_name,
    },
    pagination,
    request_id::request_id,
    status::{FieldViolations, invalid_argument, precondition_failed},
};
use crate::{
    domain::{
        InvalidValue,
        grading::{Champion, ModelVersion, VersionState},
        scoring::{ModelProblem, ScoringModel, validate},
    },
    proto::custgrade::v1::{self as pb, scoring_model_service_server::ScoringModelService},
    storage::Store,
};

pub struct ScoringModelApi {
    store: Store,
}

impl ScoringModelApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl ScoringModelService for ScoringModelApi {
    #[tracing::instrument(skip_all, fields(model = tracing::field::Empty))]
    async fn create_model_version(
        &self,
        request: Request<pb::CreateModelVersionRequest>,
    ) -> Result<Response<pb::ModelVersion>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let model = violations.check("parent", parse_model_name(&request.parent));
        let definition = match &request.model_version {
            Some(version) => {
                violations.check("model_version.document", document(&version.document))
            }
            None => {
                violations.add("model_version", "is required");
                None
            }
        };
        let request_id = request_id(&request.request_id, &mut violations);
        violations.finish()?;
        let (Some(model), Some(definition)) = (model, definition) else {
            return Err(invalid_argument("model_version", "is invalid"));
        };
        tracing::Span::current().record("model", model.as_str());
        let created = self
            .store
            .create_model_version(&model, &definition, request_id.as_deref())
            .await?;
        tracing::info!(version = created.key.version, "model version created");
        Ok(Response::new(version_to_proto(&created, None)))
    }

    async fn get_model_version(
        &self,
        request: Request<pb::GetModelVersionRequest>,
    ) -> Result<Response<pb::ModelVersion>, Status> {
        let request = request.into_inner();
        let key = parse_model_version_name(&request.name)
            .map_err(|InvalidValue(reason)| invalid_argument("name", &reason))?;
        let version = self.store.get_model_version(&key).await?;
        let format =
            (request.view() == pb::ModelVersionView::Full).then(|| request.document_format());
        Ok(Response::new(version_to_proto(&version, format)))
    }

    async fn list_model_versions(
        &self,
        request: Request<pb::ListModelVersionsRequest>,
    ) -> Result<Response<pb::ListModelVersionsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let model = violations.check("parent", parse_model_name(&request.parent));
        let limit = violations.check("page_size", pagination::page_size(request.page_size));
        let after = violations.check(
            "page_token",
            version_cursor(&request.page_token, &request.parent),
        );
        violations.finish()?;
        let (Some(model), Some(limit), Some(after)) = (model, limit, after) else {
            return Err(invalid_argument("parent", "is invalid"));
        };
        let page = self.store.list_model_versions(&model, after, limit).await?;
        let next_page_token = match page.items.last() {
            Some(last) if page.has_more => {
                pagination::encode(&last.key.version.to_string(), &request.parent)
            }
            _ => String::new(),
        };
        Ok(Response::new(pb::ListModelVersionsResponse {
            model_versions: page
                .items
                .iter()
                .map(|v| version_to_proto(v, None))
                .collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn update_model_version(
        &self,
        request: Request<pb::UpdateModelVersionRequest>,
    ) -> Result<Response<pb::ModelVersion>, Status> {
        let request = request.into_inner();
        let Some(version) = request.model_version else {
            return Err(invalid_argument("model_version", "is required"));
        };
        let mut violations = FieldViolations::default();
        let key = violations.check(
            "model_version.name",
            parse_model_version_name(&version.name),
        );
        let expected = violations.check("model_version.etag", parse_etag(&version.etag));
        let paths = request
            .update_mask
            .map(|mask| mask.paths)
            .unwrap_or_default();
        if paths != ["document"] {
            violations.add(
                "update_mask",
                "must be exactly [\"document\"], the one field a draft changes",
            );
        }
        let definition = violations.check("model_version.document", document(&version.document));
        violations.finish()?;
        let (Some(key), Some(expected), Some(definition)) = (key, expected, definition) else {
            return Err(invalid_argument("model_version", "is invalid"));
        };
        let updated = self
            .store
            .update_model_version(&key, expected, &definition)
            .await?;
        Ok(Response::new(version_to_proto(&updated, None)))
    }

    async fn validate_model_version(
        &self,
        request: Request<pb::ValidateModelVersionRequest>,
    ) -> Result<Response<pb::ValidateModelVersionResponse>, Status> {
        let request = request.into_inner();
        let definition = match (request.name.is_empty(), request.document.is_empty()) {
            (false, true) => {
                let key = parse_model_version_name(&request.name)
                    .map_err(|InvalidValue(reason)| invalid_argument("name", &reason))?;
                self.store.get_model_version(&key).await?.definition
            }
            (true, false) => document(&request.document)
                .map_err(|InvalidValue(reason)| invalid_argument("document", &reason))?,
            _ => {
                return Err(invalid_argument(
                    "name",
                    "set exactly one of name (a stored version) and document",
                ));
            }
        };
        let mut problems = validate(&definition);
        // The server assigns the name and version of a stored version.
        problems.retain(|problem| problem.path != "name" && problem.path != "version");
        Ok(Response::new(pb::ValidateModelVersionResponse {
            problems: problems.iter().map(problem_to_proto).collect(),
        }))
    }

    #[tracing::instrument(skip_all, fields(model_version = %request.get_ref().name))]
    async fn publish_model_version(
        &self,
        request: Request<pb::PublishModelVersionRequest>,
    ) -> Result<Response<pb::ModelVersion>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let key = violations.check("name", parse_model_version_name(&request.name));
        let expected = violations.check("etag", parse_etag(&request.etag));
        violations.finish()?;
        let (Some(key), Some(expected)) = (key, expected) else {
            return Err(invalid_argument("name", "is invalid"));
        };
        let current = self.store.get_model_version(&key).await?;
        if expected.is_some_and(|expected| expected != current.etag_version) {
            return Err(crate::storage::StorageError::EtagMismatch.into());
        }
        if current.state == VersionState::Draft {
            let problems = validate(&current.definition);
            if !problems.is_empty() {
                return Err(refused_for(&problems));
            }
        }
        // Publishes exactly what was validated: a draft changed since fails on the etag.
        let published = self
            .store
            .publish_model_version(&key, Some(current.etag_version))
            .await?;
        tracing::info!("model version published");
        Ok(Response::new(version_to_proto(&published, None)))
    }

    #[tracing::instrument(skip_all, fields(champion = %request.get_ref().name))]
    async fn set_champion(
        &self,
        request: Request<pb::SetChampionRequest>,
    ) -> Result<Response<pb::Champion>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let population = violations.check("name", parse_champion_name(&request.name));
        let key = violations.check(
            "model_version",
            parse_model_version_name(&request.model_version),
        );
        violations.finish()?;
        let (Some(population), Some(key)) = (population, key) else {
            return Err(invalid_argument("name", "is invalid"));
        };
        let champion = self.store.set_champion(population, &key).await?;
        tracing::info!(model_version = %request.model_version, "champion set");
        Ok(Response::new(champion_to_proto(&champion)))
    }

    async fn get_champion(
        &self,
        request: Request<pb::GetChampionRequest>,
    ) -> Result<Response<pb::Champion>, Status> {
        let population = parse_champion_name(&request.get_ref().name)
            .map_err(|InvalidValue(reason)| invalid_argument("name", &reason))?;
        let champion = self.store.get_champion(population).await?;
        Ok(Response::new(champion_to_proto(&champion)))
    }
}

/// A model document as the caller sent it; parse errors say where.
fn document(text: &str) -> Result<ScoringModel, InvalidValue> {
    if text.trim().is_empty() {
        return Err(InvalidValue::new(
            "is required: a YAML or JSON scoring model",
        ));
    }
    ScoringModel::from_document(text).map_err(|error| InvalidValue::new(error.to_string()))
}

/// FAILED_PRECONDITION naming every problem of a draft that cannot be published.
fn refused_for(problems: &[ModelProblem]) -> Status {
    precondition_failed(
        &format!("the model version has {} problem(s)", problems.len()),
        "MODEL_PROBLEM",
        problems
            .iter()
            .map(|problem| (problem.path.clone(), problem.message.clone())),
    )
}

/// Where a page of versions continues: the token carries the last version number.
fn version_cursor(token: &str, parent: &String) -> Result<Option<i32>, InvalidValue> {
    let Some(raw) = pagination::decode(token, parent)? else {
        return Ok(None);
    };
    raw.parse()
        .map(Some)
        .map_err(|_| InvalidValue::new("is not a page token this server issued"))
}

fn problem_to_proto(problem: &ModelProblem) -> pb::ModelProblem {
    pb::ModelProblem {
        path: problem.path.clone(),
        message: problem.message.clone(),
    }
}

/// The version as the contract shows it; with `format`, the document too.
fn version_to_proto(
    version: &ModelVersion,
    format: Option<pb::DocumentFormat>,
) -> pb::ModelVersion {
    let definition = &version.definition;
    let document = match format {
        None => String::new(),
        Some(pb::DocumentFormat::Json) => definition.to_json().unwrap_or_default(),
        Some(_) => definition.to_yaml().unwrap_or_default(),
    };
    pb::ModelVersion {
        name: model_version_name(&version.key),
        state: match version.state {
            VersionState::Draft => pb::model_version::State::Draft,
            VersionState::Published => pb::model_version::State::Published,
        }
        .into(),
        document,
        validity_months: i32::try_from(definition.validity_months).unwrap_or(i32::MAX),
        grades: definition.grades.iter().map(|g| g.grade.clone()).collect(),
        criteria: definition.criteria.iter().map(|c| c.key.clone()).collect(),
        create_time: Some(timestamp(version.create_time)),
        update_time: Some(timestamp(version.update_time)),
        publish_time: version.publish_time.map(timestamp),
        etag: etag(version.etag_version),
    }
}

fn champion_to_proto(champion: &Champion) -> pb::Champion {
    pb::Champion {
        name: champion_name(champion.population),
        model_version: model_version_name(&champion.model_version),
        set_time: Some(timestamp(champion.set_time)),
    }
}
