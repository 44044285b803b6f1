//! The one error a domain value's parser returns: why a raw value is not acceptable. The gRPC
//! layer pairs it with the field's path to build a `google.rpc.BadRequest` field violation.

/// Why a raw value was refused, in words a caller can act on (lowercase, no trailing period).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

/// Why a business rule refuses an action on valid input (a caller sees FAILED_PRECONDITION):
/// what is in the way and what to do first, in words a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// Checks that `value` has between `min` and `max` characters and no control characters.
pub fn bounded_text(value: &str, min: usize, max: usize) -> Result<(), InvalidValue> {
    let length = value.chars().count();
    if length < min {
        return Err(if min == 1 {
            InvalidValue::new("is required")
        } else {
            InvalidValue::new(format!("must have at least {min} characters"))
        });
    }
    if length > max {
        return Err(InvalidValue::new(format!(
            "must have at most {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(InvalidValue::new("must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_bounds_is_accepted() {
        assert_eq!(bounded_text("abc", 1, 3), Ok(()));
    }

    #[test]
    fn empty_required_text_says_it_is_required() {
        assert_eq!(
            bounded_text("", 1, 3),
            Err(InvalidValue::new("is required"))
        );
    }

    #[test]
    fn text_is_measured_in_characters_not_bytes() {
        assert_eq!(bounded_text("客户分级", 1, 4), Ok(()));
        assert!(bounded_text("客户分级x", 1, 4).is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(bounded_text("a\nb", 0, 10).is_err());
    }
}
