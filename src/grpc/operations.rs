//! `google.longrunning.Operations` over the server's operations (portfolio re-grades), and the
//! mapping of a re-grade to a `google.longrunning.Operation`: its progress as the metadata, its
//! counts as the response once it succeeded, CANCELLED or INTERNAL as the error otherwise.

use std::time::Duration;

use prost::Message;
use tonic::{Code, Request, Response, Status};

use super::{
    convert::{count_to_proto, timestamp},
    names::{customer_name, model_version_name, operation_name, parse_operation_name},
    pagination,
    regrade::filter_to_proto,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::regrade::{RegradeState, SkipReason},
    proto::{
        custgrade::v1 as pb,
        google::longrunning::{
            self as lro, operation::Result as Outcome, operations_server::Operations,
        },
    },
    storage::{Store, operations::RegradeOperation},
};

/// How long WaitOperation waits when the request names no timeout, and at most.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// How often WaitOperation looks at the operation again.
const WAIT_POLL: Duration = Duration::from_millis(100);

/// What ListOperations' `filter` accepts.
const FILTERS: &str = "empty, `done=true` or `done=false`";

pub struct OperationsApi {
    store: Store,
}

impl OperationsApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl Operations for OperationsApi {
    async fn list_operations(
        &self,
        request: Request<lro::ListOperationsRequest>,
    ) -> Result<Response<lro::ListOperationsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        if !matches!(request.name.as_str(), "" | "operations") {
            violations.add("name", "must be `operations` or empty");
        }
        let done = match request.filter.replace(' ', "").as_str() {
            "" => None,
            "done=true" => Some(true),
            "done=false" => Some(false),
            _ => {
                violations.add("filter", format!("must be {FILTERS}"));
                None
            }
        };
        let limit = violations.check("page_size", pagination::page_size(request.page_size));
        let after = violations.check(
            "page_token",
            pagination::decode(&request.page_token, &done).and_then(|cursor| {
                cursor
                    .map(|raw| crate::domain::regrade::OperationId::parse(&raw))
                    .transpose()
            }),
        );
        violations.finish()?;
        let (Some(limit), Some(after)) = (limit, after) else {
            return Err(invalid_argument("page_size", "is invalid"));
        };
        let page = self.store.list_operations(done, after, limit).await?;
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode(&last.id.to_string(), &done)
        });
        Ok(Response::new(lro::ListOperationsResponse {
            operations: page.items.iter().map(operation_to_proto).collect(),
            next_page_token,
            unreachable: Vec::new(),
        }))
    }

    async fn get_operation(
        &self,
        request: Request<lro::GetOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        let id = operation_id(&request.into_inner().name)?;
        let found = self.store.get_operation(id).await?;
        Ok(Response::new(operation_to_proto(&found)))
    }

    async fn delete_operation(
        &self,
        request: Request<lro::DeleteOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let id = operation_id(&request.into_inner().name)?;
        self.store.delete_operation(id).await?;
        tracing::info!(operation = %id, "operation deleted");
        Ok(Response::new(()))
    }

    async fn cancel_operation(
        &self,
        request: Request<lro::CancelOperationRequest>,
    ) -> Result<Response<()>, Status> {
        let id = operation_id(&request.into_inner().name)?;
        let cancelled = self.store.cancel_operation(id).await?;
        tracing::info!(operation = %id, processed = cancelled.progress.processed, "operation cancelled");
        Ok(Response::new(()))
    }

    async fn wait_operation(
        &self,
        request: Request<lro::WaitOperationRequest>,
    ) -> Result<Response<lro::Operation>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let id = violations.check("name", parse_operation_name(&request.name));
        let timeout = match request.timeout {
            None => Some(LONGEST_WAIT),
            Some(timeout) => violations.check(
                "timeout",
                Duration::try_from(timeout)
                    .map(|timeout| timeout.min(LONGEST_WAIT))
                    .map_err(|_| {
                        crate::domain::InvalidValue::new("must not be negative".to_owned())
                    }),
            ),
        };
        violations.finish()?;
        let (Some(id), Some(timeout)) = (id, timeout) else {
            return Err(invalid_argument("name", "is invalid"));
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let found = self.store.get_operation(id).await?;
            if found.progress.state.is_done() || tokio::time::Instant::now() >= deadline {
                return Ok(Response::new(operation_to_proto(&found)));
            }
            tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + WAIT_POLL)).await;
        }
    }
}

fn operation_id(name: &str) -> Result<crate::domain::regrade::OperationId, Status> {
    parse_operation_name(name).map_err(|invalid| invalid_argument("name", &invalid.0))
}

/// A re-grade as a `google.longrunning.Operation`.
pub(super) fn operation_to_proto(operation: &RegradeOperation) -> lro::Operation {
    let progress = &operation.progress;
    let metadata = pb::RegradePortfolioMetadata {
        state: state_to_proto(progress.state).into(),
        total_customer_count: count_to_proto(progress.total),
        processed_customer_count: count_to_proto(progress.processed),
        assessed_customer_count: count_to_proto(progress.assessed),
        skips: progress
            .skips
            .iter()
            .map(|(reason, skipped)| pb::RegradeSkips {
                reason: skip_reason_to_proto(reason).into(),
                customer_count: count_to_proto(skipped.count),
                sample_customers: skipped.sample.iter().copied().map(customer_name).collect(),
            })
            .collect(),
        customers_per_second: progress.customers_per_second(),
        create_time: Some(timestamp(progress.create_time)),
        update_time: Some(timestamp(progress.update_time)),
        end_time: progress.end_time.map(timestamp),
        request: Some(pb::RegradePortfolioRequest {
            filter: Some(filter_to_proto(&operation.spec.filter)),
            model_version: operation
                .spec
                .model_version
                .as_ref()
                .map(model_version_name)
                .unwrap_or_default(),
            max_customers_per_second: i32::try_from(operation.spec.pace.max_per_second)
                .unwrap_or(i32::MAX),
            request_id: String::new(),
        }),
    };
    let result = match progress.state {
        RegradeState::Running => None,
        RegradeState::Succeeded => Some(Outcome::Response(any(
            "RegradePortfolioResponse",
            &pb::RegradePortfolioResponse {
                assessed_customer_count: count_to_proto(progress.assessed),
                skipped_customer_count: count_to_proto(progress.skips.total()),
            },
        ))),
        RegradeState::Cancelled => Some(Outcome::Error(error(
            Code::Cancelled,
            "the re-grade was cancelled; the customers assessed before then keep their new grades",
        ))),
        RegradeState::Failed => Some(Outcome::Error(error(
            Code::Internal,
            operation.error.as_deref().unwrap_or("the re-grade failed"),
        ))),
    };
    lro::Operation {
        name: operation_name(operation.id),
        metadata: Some(any("RegradePortfolioMetadata", &metadata)),
        done: progress.state.is_done(),
        result,
    }
}

/// `message` packed as a `google.protobuf.Any` of type `custgrade.v1.{type_name}`.
fn any(type_name: &str, message: &impl Message) -> prost_types::Any {
    prost_types::Any {
        type_url: format!("type.googleapis.com/custgrade.v1.{type_name}"),
        value: message.encode_to_vec(),
    }
}

fn error(code: Code, message: &str) -> tonic_types::pb::Status {
    tonic_types::pb::Status {
        code: code.into(),
        message: message.to_owned(),
        details: Vec::new(),
    }
}

fn state_to_proto(state: RegradeState) -> pb::RegradeState {
    match state {
        RegradeState::Running => pb::RegradeState::Running,
        RegradeState::Succeeded => pb::RegradeState::Succeeded,
        RegradeState::Cancelled => pb::RegradeState::Cancelled,
        RegradeState::Failed => pb::RegradeState::Failed,
    }
}

fn skip_reason_to_proto(reason: SkipReason) -> pb::RegradeSkipReason {
    match reason {
        SkipReason::NoFigures => pb::RegradeSkipReason::NoFigures,
        SkipReason::NoChampion => pb::RegradeSkipReason::NoChampion,
    }
}
