//! Resource names (`customers/{customer}`, `customers/{customer}/figures/{date}`,
//! `customers/{customer}/assessments/{assessment}`, `models/{model}/versions/{version}`,
//! `operations/{operation}`) and
//! etags: the identifiers a caller sees, parsed and printed in one place.

use chrono::NaiveDate;

use crate::domain::{
    InvalidValue,
    customer::{CustomerId, CustomerKind},
    grading::{AssessmentId, OverrideId, VersionKey, validate_model_id},
    regrade::OperationId,
};

const CUSTOMERS: &str = "customers/";

pub fn customer_name(id: CustomerId) -> String {
    format!("{CUSTOMERS}{id}")
}

pub fn parse_customer_name(name: &str) -> Result<CustomerId, InvalidValue> {
    let Some(id) = name.strip_prefix(CUSTOMERS) else {
        return Err(InvalidValue::new(format!(
            "must be a customer name of the form customers/{{customer}}, got {name:?}"
        )));
    };
    CustomerId::parse(id)
}

/// The name of a snapshot revision. The current revision of a date is
/// `customers/{customer}/figures/{YYYY-MM-DD}`; a superseded one appends `@{revision}`, as
/// AIP-162 names revisions, so every revision in a list has a name of its own.
pub fn figures_name(
    customer: CustomerId,
    as_of: NaiveDate,
    revision: i32,
    superseded: bool,
) -> String {
    let current = format!("{CUSTOMERS}{customer}/figures/{}", as_of.format("%Y-%m-%d"));
    if superseded {
        format!("{current}@{revision}")
    } else {
        current
    }
}

pub fn assessment_name(customer: CustomerId, id: AssessmentId) -> String {
    format!("{CUSTOMERS}{customer}/assessments/{id}")
}

pub fn parse_assessment_name(name: &str) -> Result<(CustomerId, AssessmentId), InvalidValue> {
    let malformed = || {
        InvalidValue::new(format!(
            "must be an assessment name of the form \
             customers/{{customer}}/assessments/{{assessment}}, got {name:?}"
        ))
    };
    let (customer, id) = name
        .strip_prefix(CUSTOMERS)
        .and_then(|rest| rest.split_once("/assessments/"))
        .ok_or_else(malformed)?;
    Ok((CustomerId::parse(customer)?, AssessmentId::parse(id)?))
}

pub fn parse_model_name(name: &str) -> Result<String, InvalidValue> {
    let id = name.strip_prefix("models/").ok_or_else(|| {
        InvalidValue::new(format!(
            "must be a model name of the form models/{{model}}, got {name:?}"
        ))
    })?;
    validate_model_id(id)?;
    Ok(id.to_owned())
}

/// `champions/existing` or `champions/prospect`: the champion of a customer kind.
pub fn champion_name(population: CustomerKind) -> String {
    format!("champions/{}", population.as_str())
}

pub fn parse_champion_name(name: &str) -> Result<CustomerKind, InvalidValue> {
    name.strip_prefix("champions/")
        .and_then(|population| population.parse().ok())
        .ok_or_else(|| {
            InvalidValue::new(format!(
                "must be champions/existing or champions/prospect, got {name:?}"
            ))
        })
}

pub fn override_name(customer: CustomerId, id: OverrideId) -> String {
    format!("{CUSTOMERS}{customer}/gradeOverrides/{id}")
}

pub fn parse_override_name(name: &str) -> Result<(CustomerId, OverrideId), InvalidValue> {
    let (customer, id) = name
        .strip_prefix(CUSTOMERS)
        .and_then(|rest| rest.split_once("/gradeOverrides/"))
        .ok_or_else(|| {
            InvalidValue::new(format!(
                "must be an override name of the form \
                 customers/{{customer}}/gradeOverrides/{{grade_override}}, got {name:?}"
            ))
        })?;
    Ok((CustomerId::parse(customer)?, OverrideId::parse(id)?))
}

const OPERATIONS: &str = "operations/";

pub fn operation_name(id: OperationId) -> String {
    format!("{OPERATIONS}{id}")
}

pub fn parse_operation_name(name: &str) -> Result<OperationId, InvalidValue> {
    let Some(id) = name.strip_prefix(OPERATIONS) else {
        return Err(InvalidValue::new(format!(
            "must be an operation name of the form operations/{{operation}}, got {name:?}"
        )));
    };
    OperationId::parse(id)
}

pub fn model_version_name(key: &VersionKey) -> String {
    format!("models/{}/versions/{}", key.model, key.version)
}

pub fn parse_model_version_name(name: &str) -> Result<VersionKey, InvalidValue> {
    let malformed = || {
        InvalidValue::new(format!(
            "must be a model version name of the form models/{{model}}/versions/{{version}}, \
             got {name:?}"
        ))
    };
    let (model, version) = name
        .strip_prefix("models/")
        .and_then(|rest| rest.split_once("/versions/"))
        .ok_or_else(malformed)?;
    validate_model_id(model)?;
    let version = version
        .parse::<i32>()
        .ok()
        // Only the canonical spelling (no sign, no leading zero), so one version has one name.
        .filter(|number| *number >= 1 && number.to_string() == version)
        .ok_or_else(malformed)?;
    Ok(VersionKey {
        model: model.to_owned(),
        version,
    })
}

/// The etag of a resource at `version`: opaque to callers, and a change of version changes it.
pub fn etag(version: i64) -> String {
    format!("v{version}")
}

/// The version an etag stands for; an empty etag means "no condition".
pub fn parse_etag(etag: &str) -> Result<Option<i64>, InvalidValue> {
    if etag.is_empty() {
        return Ok(None);
    }
    etag.strip_prefix('v')
        .and_then(|version| version.parse().ok())
        .map(Some)
        .ok_or_else(|| InvalidValue::new("is not an etag this server issued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_name_round_trips() {
        let id = CustomerId::generate();
        assert_eq!(parse_customer_name(&customer_name(id)), Ok(id));
    }

    #[test]
    fn a_bare_id_is_not_a_customer_name() {
        let id = CustomerId::generate();
        assert!(parse_customer_name(&id.to_string()).is_err());
        assert!(parse_customer_name(&format!("customer/{id}")).is_err());
    }

    #[test]
    fn an_etag_round_trips_and_garbage_is_refused() {
        assert_eq!(parse_etag(&etag(7)), Ok(Some(7)));
        assert_eq!(parse_etag(""), Ok(None));
        assert!(parse_etag("7").is_err());
        assert!(parse_etag("vx").is_err());
    }

    #[test]
    fn an_assessment_name_round_trips_and_needs_both_ids() {
        let customer = CustomerId::generate();
        let id = AssessmentId::generate();
        let name = assessment_name(customer, id);
        assert_eq!(parse_assessment_name(&name), Ok((customer, id)));
        assert!(parse_assessment_name(&format!("customers/{customer}/assessments/")).is_err());
        assert!(parse_assessment_name(&format!("customers/{customer}/figures/{id}")).is_err());
    }

    #[test]
    fn a_model_version_name_round_trips_and_refuses_other_numbers() {
        let key = VersionKey {
            model: "existing-customers".to_owned(),
            version: 12,
        };
        assert_eq!(parse_model_version_name(&model_version_name(&key)), Ok(key));
        for bad in [
            "models/existing-customers/versions/0",
            "models/existing-customers/versions/01",
            "models/existing-customers/versions/+1",
            "models/existing-customers/versions/x",
            "models/Existing/versions/1",
            "existing-customers/versions/1",
        ] {
            assert!(parse_model_version_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_override_name_round_trips() {
        let customer = CustomerId::generate();
        let id = OverrideId::generate();
        assert_eq!(
            parse_override_name(&override_name(customer, id)),
            Ok((customer, id))
        );
        assert!(parse_override_name(&assessment_name(customer, AssessmentId::generate())).is_err());
    }

    #[test]
    fn champion_names_name_a_customer_kind() {
        for kind in CustomerKind::ALL {
            assert_eq!(parse_champion_name(&champion_name(kind)), Ok(kind));
        }
        assert!(parse_champion_name("champions/EXISTING").is_err());
        assert!(parse_champion_name("existing").is_err());
    }

    #[test]
    fn a_model_name_holds_a_model_id() {
        assert_eq!(
            parse_model_name("models/my-model"),
            Ok("my-model".to_owned())
        );
        assert!(parse_model_name("models/my_model").is_err());
        assert!(parse_model_name("my-model").is_err());
    }

    #[test]
    fn a_figures_name_carries_the_iso_date_and_a_superseded_revision() {
        let id = CustomerId::generate();
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let current = format!("customers/{id}/figures/2026-03-01");
        assert_eq!(figures_name(id, date, 2, false), current);
        assert_eq!(figures_name(id, date, 1, true), format!("{current}@1"));
    }
}
