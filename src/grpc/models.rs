//! `custgrade.v1.ScoringModelService`: drafts, validation, publishing and champions. Models
//! travel as YAML or JSON documents, read and checked by the same code as the offline
//! `custgrade model validate`.

use tonic::{Request, Response, Status};

use super::{
    convert::timestamp,
    model_definition::{definition_from_proto, definition_to_proto},
    names::{
        champion_name, etag, model_version_name, parse_champion_name, parse_etag, parse_model_name,
        parse_model_version_name,
    },
    pagination,
    request_id::request_id,
    simulation::simulate,
    status::{FieldViolations, invalid_argument, precondition_failed},
};
use crate::{
    domain::{
        InvalidValue,
        grading::{Champion, ModelVersion, VersionState},
        scoring::{ModelProblem, ScoringModel, validate},
    },
    proto::custgrade::v1::{self as pb, scoring_model_service_server::ScoringModelService},
    storage::{StorageError, Store},
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
            Some(version) => model_of(version, &mut violations),
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
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode(&last.key.version.to_string(), &request.parent)
        });
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
        let sent = if version.definition.is_some() {
            "definition"
        } else {
            "document"
        };
        if paths != [sent] {
            violations.add(
                "update_mask",
                format!(
                    "must be exactly [\"{sent}\"]: a draft changes only its model, in the form \
                     sent"
                ),
            );
        }
        let definition = model_of(&version, &mut violations);
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
        let definition = match (
            request.name.is_empty(),
            request.document.is_empty(),
            &request.definition,
        ) {
            (false, true, None) => {
                let key = parse_model_version_name(&request.name)
                    .map_err(|InvalidValue(reason)| invalid_argument("name", &reason))?;
                self.store.get_model_version(&key).await?.definition
            }
            (true, false, None) => document(&request.document)
                .map_err(|InvalidValue(reason)| invalid_argument("document", &reason))?,
            (true, true, Some(definition)) => {
                let mut violations = FieldViolations::default();
                let read = definition_from_proto(definition, "definition", &mut violations);
                violations.finish()?;
                read.ok_or_else(|| invalid_argument("definition", "is invalid"))?
            }
            _ => {
                return Err(invalid_argument(
                    "name",
                    "set exactly one of name (a stored version), document and definition",
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
        // A draft edited between our read and our write fails on the etag; without a caller's
        // etag that is no conflict of theirs, so read and try once more.
        for attempt in 1..=2 {
            let current = self.store.get_model_version(&key).await?;
            if current.state == VersionState::Published {
                // Publishing is idempotent: a retry of a publish that succeeded (with the etag
                // the draft had, or none) gets the published version.
                let retried = expected.is_none_or(|etag| etag + 1 >= current.etag_version);
                return if retried {
                    Ok(Response::new(version_to_proto(&current, None)))
                } else {
                    Err(StorageError::EtagMismatch.into())
                };
            }
            if expected.is_some_and(|etag| etag != current.etag_version) {
                return Err(StorageError::EtagMismatch.into());
            }
            let problems = validate(&current.definition);
            if !problems.is_empty() {
                return Err(refused_for(&problems));
            }
            // Publishes exactly what was validated.
            match self
                .store
                .publish_model_version(&key, Some(current.etag_version))
                .await
            {
                Err(StorageError::EtagMismatch) if expected.is_none() && attempt == 1 => {}
                result => {
                    let published = result?;
                    tracing::info!("model version published");
                    return Ok(Response::new(version_to_proto(&published, None)));
                }
            }
        }
        Err(StorageError::Contention.into())
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

    async fn simulate_model_version(
        &self,
        request: Request<pb::SimulateModelVersionRequest>,
    ) -> Result<Response<pb::SimulateModelVersionResponse>, Status> {
        simulate(&self.store, request.into_inner())
            .await
            .map(Response::new)
    }
}

/// The model a version carries, as a document or as a definition (exactly one).
fn model_of(version: &pb::ModelVersion, violations: &mut FieldViolations) -> Option<ScoringModel> {
    match (&version.definition, version.document.is_empty()) {
        (Some(definition), true) => {
            definition_from_proto(definition, "model_version.definition", violations)
        }
        (None, _) => violations.check("model_version.document", document(&version.document)),
        (Some(_), false) => {
            violations.add(
                "model_version",
                "set document or definition, not both: they are two forms of one model",
            );
            None
        }
    }
}

/// A model document as the caller sent it; parse errors say where.
fn document(text: &str) -> Result<ScoringModel, InvalidValue> {
    if text.trim().is_empty() {
        return Err(InvalidValue::new(
            "is required: a YAML or JSON scoring model (or send a definition)",
        ));
    }
    ScoringModel::from_document(text).map_err(|error| InvalidValue::new(error.to_string()))
}

/// FAILED_PRECONDITION naming every problem of a draft that cannot be published.
/// At most this many problems travel with the status: clients cap response metadata at a few
/// KiB (8 KiB in grpc-java and C-core), and ValidateModelVersion lists them all.
const LISTED_PROBLEMS: usize = 50;

pub(super) fn refused_for(problems: &[ModelProblem]) -> Status {
    let listed = if problems.len() > LISTED_PROBLEMS {
        format!(", the first {LISTED_PROBLEMS} listed (ValidateModelVersion lists them all)")
    } else {
        String::new()
    };
    precondition_failed(
        &format!(
            "the model version has {} problem(s){listed}",
            problems.len()
        ),
        "MODEL_PROBLEM",
        problems
            .iter()
            .take(LISTED_PROBLEMS)
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
    let structured = format.map(|_| definition_to_proto(definition));
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
        definition: structured,
    }
}

fn champion_to_proto(champion: &Champion) -> pb::Champion {
    pb::Champion {
        name: champion_name(champion.population),
        model_version: model_version_name(&champion.model_version),
        set_time: Some(timestamp(champion.set_time)),
    }
}
