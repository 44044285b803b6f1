//! Who a caller is and what it may hold: the [`Role`]s and the [`CallerIdentity`] that handlers
//! read from the request extensions. Separate because the key configuration, the access table
//! and the layer all speak in these terms, while this module depends on none of them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A permission a caller can hold; methods require one of these (see [`required_role`]).
///
/// Roles are independent: holding `Writer` does not grant `Reader`.
///
/// [`required_role`]: super::required_role
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// May call read-only methods (`Get*`, `List*`).
    Reader,
    /// May call methods that change customers or figures.
    Writer,
    /// May manage scoring models.
    ModelAdmin,
    /// May override grades.
    Officer,
}

impl Role {
    /// Every role, in declaration order; the anonymous identity holds all of them.
    pub const ALL: [Role; 4] = [Role::Reader, Role::Writer, Role::ModelAdmin, Role::Officer];

    /// The configuration spelling of the role (`reader`, `writer`, `model-admin`, `officer`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::ModelAdmin => "model-admin",
            Role::Officer => "officer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when a string is not one of the role names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected reader, writer, model-admin or officer)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Who is making the current request; [`AuthService`] puts it in the request extensions.
///
/// [`AuthService`]: super::AuthService
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The API key name, or `anonymous` when the server runs open.
    pub name: String,
    /// The roles the caller holds.
    pub roles: BTreeSet<Role>,
}

impl CallerIdentity {
    /// Name of the identity used when no API keys are configured.
    pub const ANONYMOUS: &'static str = "anonymous";

    /// The identity of every caller when the server runs open: named `anonymous`, all roles.
    pub fn anonymous() -> Self {
        Self {
            name: Self::ANONYMOUS.to_owned(),
            roles: Role::ALL.into_iter().collect(),
        }
    }

    /// True when the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("reader", Role::Reader)]
    #[case("writer", Role::Writer)]
    #[case("model-admin", Role::ModelAdmin)]
    #[case("officer", Role::Officer)]
    fn role_round_trips(#[case] text: &str, #[case] role: Role) {
        assert_eq!(text.parse::<Role>().unwrap(), role);
        assert_eq!(role.to_string(), text);
    }

    #[rstest]
    #[case("Reader")]
    #[case("admin")]
    #[case("")]
    fn unknown_role_is_rejected(#[case] text: &str) {
        assert_eq!(text.parse::<Role>(), Err(UnknownRole(text.to_owned())));
    }

    #[test]
    fn anonymous_identity_has_every_role() {
        let anonymous = CallerIdentity::anonymous();
        assert_eq!(anonymous.name, "anonymous");
        assert!(Role::ALL.into_iter().all(|role| anonymous.has_role(role)));
    }
}
