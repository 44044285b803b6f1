//! The `request_id` that makes create-like calls safe to retry (AIP-155), validated the same
//! way for every method that takes one.

use super::status::FieldViolations;

/// A `request_id`: optional, 1-128 printable ASCII characters.
pub fn request_id(raw: &str, violations: &mut FieldViolations) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    let printable = raw.chars().all(|c| c.is_ascii_graphic());
    if raw.len() > 128 || !printable {
        violations.add("request_id", "must be 1-128 printable ASCII characters");
        return None;
    }
    Some(raw.to_owned())
}
