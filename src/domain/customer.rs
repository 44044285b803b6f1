//! A customer: who it is, which population it belongs to, and the rules its attributes obey.

use std::{collections::BTreeMap, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    id::server_id,
    invalid::{InvalidValue, bounded_text},
};

server_id!(
    /// The server-assigned identity of a customer: a UUIDv7, so that ids sort in the order
    /// customers were registered and lists have a stable, meaningful order.
    CustomerId,
    "a customer id"
);

/// The population a customer belongs to; each is graded by its own scoring model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    /// Already trades with the company: graded on value delivered and behaviour observed.
    Existing,
    /// A potential customer: graded on what can be known before trading.
    Prospect,
}

impl CustomerKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 2] = [Self::Existing, Self::Prospect];

    /// The stable lowercase word used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Existing => "existing",
            Self::Prospect => "prospect",
        }
    }
}

impl FromStr for CustomerKind {
    type Err = InvalidValue;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "existing" => Ok(Self::Existing),
            "prospect" => Ok(Self::Prospect),
            _ => Err(InvalidValue::new(format!("unknown customer kind {raw:?}"))),
        }
    }
}

/// The most labels a customer may carry.
pub const MAX_LABELS: usize = 64;

/// What a caller states about a customer: everything but the server-kept fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerProfile {
    pub external_id: String,
    pub display_name: String,
    pub kind: CustomerKind,
    pub industry: String,
    pub region: String,
    pub parent: Option<CustomerId>,
    pub corporate_group: String,
    /// Sorted, so that two equal profiles serialize to the same bytes (idempotency keys hash
    /// them).
    pub labels: BTreeMap<String, String>,
}

/// A stored customer: the profile plus what the server keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub profile: CustomerProfile,
    pub create_time: DateTime<Utc>,
    pub update_time: DateTime<Utc>,
    pub delete_time: Option<DateTime<Utc>>,
    /// Incremented on every change; exposed as the etag.
    pub version: i64,
}

impl Customer {
    pub fn is_deleted(&self) -> bool {
        self.delete_time.is_some()
    }
}

/// A partial change to a profile: `None` leaves a field as it is. Built from an update mask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub kind: Option<CustomerKind>,
    pub industry: Option<String>,
    pub region: Option<String>,
    /// `Some(None)` removes the parent.
    pub parent: Option<Option<CustomerId>>,
    pub corporate_group: Option<String>,
    /// Replaces all labels.
    pub labels: Option<BTreeMap<String, String>>,
}

impl ProfileChange {
    /// The profile with this change applied.
    pub fn apply_to(self, mut profile: CustomerProfile) -> CustomerProfile {
        if let Some(external_id) = self.external_id {
            profile.external_id = external_id;
        }
        if let Some(display_name) = self.display_name {
            profile.display_name = display_name;
        }
        if let Some(kind) = self.kind {
            profile.kind = kind;
        }
        if let Some(industry) = self.industry {
            profile.industry = industry;
        }
        if let Some(region) = self.region {
            profile.region = region;
        }
        if let Some(parent) = self.parent {
            profile.parent = parent;
        }
        if let Some(corporate_group) = self.corporate_group {
            profile.corporate_group = corporate_group;
        }
        if let Some(labels) = self.labels {
            profile.labels = labels;
        }
        profile
    }
}

/// The caller's own key for a customer, e.g. the ERP's customer code.
pub fn validate_external_id(value: &str) -> Result<(), InvalidValue> {
    bounded_text(value, 1, 128)?;
    if value.trim() != value {
        return Err(InvalidValue::new("must not start or end with white space"));
    }
    Ok(())
}

pub fn validate_display_name(value: &str) -> Result<(), InvalidValue> {
    bounded_text(value, 1, 200)
}

/// Industry, region and corporate group: optional free text.
pub fn validate_attribute(value: &str) -> Result<(), InvalidValue> {
    bounded_text(value, 0, 100)
}

/// A label key: 1-63 characters of lowercase letters, digits, `_` and `-`, starting with a
/// letter (the convention of Kubernetes and Google Cloud labels, which callers already know).
pub fn validate_label_key(key: &str) -> Result<(), InvalidValue> {
    let starts_with_letter = key.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if key.is_empty() || key.len() > 63 || !starts_with_letter || !allowed {
        return Err(InvalidValue::new(format!(
            "label key {key:?} must be 1-63 characters of a-z, 0-9, _ and -, starting with a letter"
        )));
    }
    Ok(())
}

pub fn validate_label_value(key: &str, value: &str) -> Result<(), InvalidValue> {
    bounded_text(value, 0, 63)
        .map_err(|reason| InvalidValue::new(format!("label {key:?} value {reason}")))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[test]
    fn a_generated_id_round_trips_through_its_text_form() {
        let id = CustomerId::generate();
        assert_eq!(CustomerId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn ids_generated_later_sort_later() {
        let first = CustomerId::generate();
        let second = CustomerId::generate();
        assert!(first.to_string() < second.to_string());
    }

    #[rstest]
    #[case("")]
    #[case("42")]
    #[case("0193A1B2-0000-7000-8000-000000000000")]
    #[case("0193a1b20000700080000000000000000000")]
    #[case("{0193a1b2-0000-7000-8000-000000000000}")]
    fn malformed_ids_are_refused(#[case] raw: &str) {
        assert!(CustomerId::parse(raw).is_err());
    }

    #[rstest]
    #[case(CustomerKind::Existing)]
    #[case(CustomerKind::Prospect)]
    fn kinds_round_trip_through_their_storage_word(#[case] kind: CustomerKind) {
        assert_eq!(kind.as_str().parse::<CustomerKind>(), Ok(kind));
    }

    #[rstest]
    #[case("tier", true)]
    #[case("cost-centre_2", true)]
    #[case("Tier", false)]
    #[case("2tier", false)]
    #[case("", false)]
    #[case("a.b", false)]
    fn label_keys_follow_the_usual_convention(#[case] key: &str, #[case] accepted: bool) {
        assert_eq!(validate_label_key(key).is_ok(), accepted);
    }

    #[test]
    fn a_label_key_of_64_characters_is_too_long() {
        assert!(validate_label_key(&"a".repeat(63)).is_ok());
        assert!(validate_label_key(&"a".repeat(64)).is_err());
    }

    fn profile() -> CustomerProfile {
        CustomerProfile {
            external_id: "C-001".to_owned(),
            display_name: "Acme".to_owned(),
            kind: CustomerKind::Existing,
            industry: "machinery".to_owned(),
            region: "east".to_owned(),
            parent: None,
            corporate_group: String::new(),
            labels: BTreeMap::from([("tier".to_owned(), "gold".to_owned())]),
        }
    }

    #[test]
    fn an_empty_change_leaves_the_profile_as_it_was() {
        assert_eq!(ProfileChange::default().apply_to(profile()), profile());
    }

    #[test]
    fn a_change_touches_only_the_fields_it_names() {
        let change = ProfileChange {
            region: Some("west".to_owned()),
            labels: Some(BTreeMap::new()),
            ..ProfileChange::default()
        };
        let changed = change.apply_to(profile());
        assert_eq!(changed.region, "west");
        assert!(changed.labels.is_empty());
        assert_eq!(changed.display_name, "Acme");
    }

    #[test]
    fn a_change_can_remove_the_parent() {
        let parent = CustomerId::generate();
        let with_parent = CustomerProfile {
            parent: Some(parent),
            ..profile()
        };
        let change = ProfileChange {
            parent: Some(None),
            ..ProfileChange::default()
        };
        assert_eq!(change.apply_to(with_parent).parent, None);
    }

    #[test]
    fn external_ids_with_surrounding_space_are_refused() {
        assert!(validate_external_id(" C-001").is_err());
        assert!(validate_external_id("C-001").is_ok());
    }
}
