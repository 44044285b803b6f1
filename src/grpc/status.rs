//! Every error a caller can see is made here: storage errors map to status codes in one
//! exhaustive match, and invalid input becomes INVALID_ARGUMENT with a `google.rpc.BadRequest`
//! naming each bad field. Internal details are logged, never sent.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, PreconditionViolation, StatusExt};

use crate::{domain::InvalidValue, storage::StorageError};

impl From<StorageError> for Status {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound { what } => Status::not_found(format!("{what} not found")),
            StorageError::AlreadyExists(message) => Status::already_exists(message),
            StorageError::EtagMismatch => Status::aborted(
                "the etag does not match: the resource changed since it was read; read it again",
            ),
            StorageError::FailedPrecondition(message) => Status::failed_precondition(message),
            StorageError::RequestIdReused => invalid_argument(
                "request_id",
                "was already used for a different request; use a new request_id",
            ),
            StorageError::Contention => {
                Status::aborted("the change conflicted with a concurrent one; retry it")
            }
            StorageError::Unavailable(source) => {
                tracing::warn!(error = ?source, "database unavailable");
                Status::unavailable("the database is unavailable; retry later")
            }
            StorageError::Corrupt(_) | StorageError::InvalidUrl(_) | StorageError::Internal(_) => {
                tracing::error!(error = ?error, "internal storage error");
                Status::internal("internal error")
            }
        }
    }
}

/// INVALID_ARGUMENT for one bad field.
pub fn invalid_argument(field: &str, description: &str) -> Status {
    let mut violations = FieldViolations::default();
    violations.add(field, description);
    violations.into_status()
}

/// How many violations a FAILED_PRECONDITION message spells out.
const SUMMARIZED: usize = 5;

/// FAILED_PRECONDITION with a `google.rpc.PreconditionFailure` detail: one violation of type
/// `kind` per `(subject, description)`, the first few repeated in the message.
pub fn precondition_failed(
    message: &str,
    kind: &str,
    violations: impl IntoIterator<Item = (String, String)>,
) -> Status {
    let violations: Vec<PreconditionViolation> = violations
        .into_iter()
        .map(|(subject, description)| PreconditionViolation::new(kind, subject, description))
        .collect();
    // The message names the first few; the detail holds them all.
    let mut summary = violations
        .iter()
        .take(SUMMARIZED)
        .map(|violation| format!("{}: {}", violation.subject, violation.description))
        .collect::<Vec<_>>()
        .join("; ");
    if violations.len() > SUMMARIZED {
        summary.push_str(&format!("; and {} more", violations.len() - SUMMARIZED));
    }
    Status::with_error_details(
        Code::FailedPrecondition,
        format!("{message}: {summary}"),
        ErrorDetails::with_precondition_failure(violations),
    )
}

/// Collects every problem of a request, so a caller learns all of them in one round trip.
#[derive(Debug, Default)]
pub struct FieldViolations(Vec<FieldViolation>);

impl FieldViolations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    /// Keeps the value if it is valid; otherwise records why under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, InvalidValue>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(InvalidValue(reason)) => {
                self.add(field, reason);
                None
            }
        }
    }

    /// Parses an optional field: `Some(None)` when it is unset, `Some(Some(value))` when it
    /// is valid, `None` (and a violation under `field`) when it is not.
    pub fn check_optional<T, U>(
        &mut self,
        field: &str,
        raw: Option<T>,
        parse: impl FnOnce(T) -> Result<U, InvalidValue>,
    ) -> Option<Option<U>> {
        match raw {
            Some(raw) => self.check(field, parse(raw)).map(Some),
            None => Some(None),
        }
    }

    /// Reads a required message field with `read`, which records its own violations; an
    /// unset field is a violation of its own.
    pub fn require<T, U>(
        &mut self,
        field: &str,
        value: Option<&T>,
        read: impl FnOnce(&T, &mut Self) -> Option<U>,
    ) -> Option<U> {
        match value {
            Some(value) => read(value, self),
            None => {
                self.add(field, "is required");
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was wrong, else INVALID_ARGUMENT listing every violation.
    pub fn finish(self) -> Result<(), Status> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_status())
        }
    }

    fn into_status(self) -> Status {
        // The message repeats the violations for people reading grpcurl output.
        let summary = self
            .0
            .iter()
            .map(|violation| format!("{}: {}", violation.field, violation.description))
            .collect::<Vec<_>>()
            .join("; ");
        Status::with_error_details(
            Code::InvalidArgument,
            format!("invalid request: {summary}"),
            ErrorDetails::with_bad_request(self.0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_all_listed_in_the_details_and_the_message() {
        let mut violations = FieldViolations::default();
        violations.add("customer.display_name", "is required");
        violations.add("customer.kind", "is required");
        let status = violations.finish().err().unwrap_or_else(|| Status::ok(""));
        assert_eq!(status.code(), Code::InvalidArgument);
        let fields: Vec<String> = status
            .get_details_bad_request()
            .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["customer.display_name", "customer.kind"]);
        assert!(status.message().contains("customer.kind: is required"));
    }

    #[test]
    fn internal_errors_do_not_leak_their_text() {
        let status = Status::from(StorageError::Corrupt("secret table detail".to_owned()));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }
}
