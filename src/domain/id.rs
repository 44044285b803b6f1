//! Server-assigned identities. Every resource the server names (customers, assessments,
//! overrides, outcomes) gets a UUIDv7, so ids sort in creation order, and is parsed back only
//! in the lowercase hyphenated form the server prints, so one resource has one name.

/// Declares an id type: `generate()`, `parse(raw)` (refusing any other spelling, naming the
/// id as `$what` in the reason) and `Display` in the canonical form.
macro_rules! server_id {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize,
            serde::Deserialize,
        )]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh id for a resource being created now.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// The id as the server printed it in a resource name.
            pub fn parse(raw: &str) -> Result<Self, $crate::domain::InvalidValue> {
                $crate::domain::id::canonical_uuid(raw, $what).map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

pub(crate) use server_id;

/// Reads a server-issued UUID: only the lowercase hyphenated form, so one resource has one
/// name; `what` completes "must be ... as returned by the server".
pub(super) fn canonical_uuid(raw: &str, what: &str) -> Result<uuid::Uuid, super::InvalidValue> {
    let is_canonical = raw.len() == 36 && raw == raw.to_ascii_lowercase();
    match uuid::Uuid::try_parse(raw) {
        Ok(uuid) if is_canonical => Ok(uuid),
        _ => Err(super::InvalidValue::new(format!(
            "must be {what} as returned by the server (a lowercase uuid)"
        ))),
    }
}
