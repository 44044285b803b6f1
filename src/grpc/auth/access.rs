//! Which role each gRPC method needs: the rule table and [`required_role`]. Separate so the
//! table can be read, reviewed and tested on its own; opening up a new method or service
//! means editing only this file.

use super::identity::Role;

/// What a gRPC method requires of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone may call it, without a key (health checks, reflection).
    Open,
    /// The caller must hold this role.
    Role(Role),
    /// Nobody may call it (unknown service or method).
    Deny,
}

/// Services callable without a key.
const OPEN_SERVICES: &[&str] = &[
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// One authorization rule: methods of `service` whose name starts with `method_prefix`
/// need `role`.
struct Rule {
    service: &'static str,
    method_prefix: &'static str,
    role: Role,
}

/// Authorization table, scanned top to bottom; the first matching row wins, so specific
/// rows must come before a service's catch-all row (empty prefix). A non-empty prefix
/// matches a whole PascalCase word: `List` matches `ListCustomers` but not `Listen`.
/// Methods of services not listed here are denied.
const RULES: &[Rule] = &[
    rule("custgrade.v1.AssessmentService", "Get", Role::Reader),
    rule("custgrade.v1.AssessmentService", "List", Role::Reader),
    rule("custgrade.v1.AssessmentService", "Explain", Role::Reader),
    rule("custgrade.v1.AssessmentService", "Override", Role::Officer),
    rule("custgrade.v1.AssessmentService", "Revoke", Role::Officer),
    rule("custgrade.v1.AssessmentService", "", Role::Writer),
    rule("custgrade.v1.CustomerService", "Get", Role::Reader),
    rule("custgrade.v1.CustomerService", "List", Role::Reader),
    rule("custgrade.v1.CustomerService", "", Role::Writer),
    // A re-grade assesses customers, as AssessCustomer does.
    rule("custgrade.v1.PortfolioService", "Regrade", Role::Writer),
    rule("custgrade.v1.PortfolioService", "", Role::Reader),
    rule("google.longrunning.Operations", "Get", Role::Reader),
    rule("google.longrunning.Operations", "List", Role::Reader),
    rule("google.longrunning.Operations", "Wait", Role::Reader),
    rule("google.longrunning.Operations", "", Role::Writer),
    rule("custgrade.v1.OutcomeService", "Get", Role::Reader),
    rule("custgrade.v1.OutcomeService", "List", Role::Reader),
    rule("custgrade.v1.OutcomeService", "", Role::Writer),
    rule("custgrade.v1.ScoringModelService", "Get", Role::Reader),
    rule("custgrade.v1.ScoringModelService", "List", Role::Reader),
    rule("custgrade.v1.ScoringModelService", "Validate", Role::Reader),
    // A simulation stores nothing and shows what readers may already read.
    rule("custgrade.v1.ScoringModelService", "Simulate", Role::Reader),
    rule("custgrade.v1.ScoringModelService", "", Role::ModelAdmin),
    rule("custgrade.v1.FiguresService", "Get", Role::Reader),
    rule("custgrade.v1.FiguresService", "List", Role::Reader),
    rule("custgrade.v1.FiguresService", "", Role::Writer),
];

/// Shorthand for a [`Rule`] row, keeping the table one row per line.
const fn rule(service: &'static str, method_prefix: &'static str, role: Role) -> Rule {
    Rule {
        service,
        method_prefix,
        role,
    }
}

fn prefix_matches(method: &str, prefix: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    match method.strip_prefix(prefix) {
        Some(rest) => rest.chars().next().is_none_or(|c| !c.is_ascii_lowercase()),
        None => false,
    }
}

/// Returns what calling the gRPC method at `path` (`/package.Service/Method`) requires.
///
/// Health and reflection are [`Access::Open`]; `custgrade.v1` methods follow the rule
/// table (`Get*`/`List*` need [`Role::Reader`], other methods of the customer and figures
/// services need [`Role::Writer`]); anything else, including malformed paths, is
/// [`Access::Deny`].
pub fn required_role(path: &str) -> Access {
    let Some((service, method)) = path.strip_prefix('/').and_then(|p| p.split_once('/')) else {
        return Access::Deny;
    };
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return Access::Deny;
    }
    if OPEN_SERVICES.contains(&service) {
        return Access::Open;
    }
    RULES
        .iter()
        .find(|rule| rule.service == service && prefix_matches(method, rule.method_prefix))
        .map_or(Access::Deny, |rule| Access::Role(rule.role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case("/grpc.health.v1.Health/Check", Access::Open)]
    #[case("/grpc.health.v1.Health/Watch", Access::Open)]
    #[case(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        Access::Open
    )]
    #[case(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        Access::Open
    )]
    #[case(
        "/custgrade.v1.CustomerService/GetCustomer",
        Access::Role(Role::Reader)
    )]
    #[case(
        "/custgrade.v1.CustomerService/ListCustomers",
        Access::Role(Role::Reader)
    )]
    #[case("/custgrade.v1.CustomerService/Get", Access::Role(Role::Reader))]
    #[case(
        "/custgrade.v1.CustomerService/CreateCustomer",
        Access::Role(Role::Writer)
    )]
    #[case(
        "/custgrade.v1.CustomerService/UpdateCustomer",
        Access::Role(Role::Writer)
    )]
    #[case("/custgrade.v1.CustomerService/Listen", Access::Role(Role::Writer))]
    #[case("/custgrade.v1.FiguresService/GetFigures", Access::Role(Role::Reader))]
    #[case("/custgrade.v1.FiguresService/ListFigures", Access::Role(Role::Reader))]
    #[case(
        "/custgrade.v1.FiguresService/RecordFigures",
        Access::Role(Role::Writer)
    )]
    #[case(
        "/custgrade.v1.AssessmentService/AssessCustomer",
        Access::Role(Role::Writer)
    )]
    #[case(
        "/custgrade.v1.AssessmentService/GetCustomerGrade",
        Access::Role(Role::Reader)
    )]
    #[case(
        "/custgrade.v1.AssessmentService/ExplainAssessment",
        Access::Role(Role::Reader)
    )]
    #[case(
        "/custgrade.v1.ScoringModelService/PublishModelVersion",
        Access::Role(Role::ModelAdmin)
    )]
    #[case(
        "/custgrade.v1.ScoringModelService/ValidateModelVersion",
        Access::Role(Role::Reader)
    )]
    #[case(
        "/custgrade.v1.AssessmentService/OverrideGrade",
        Access::Role(Role::Officer)
    )]
    #[case(
        "/custgrade.v1.AssessmentService/RevokeGradeOverride",
        Access::Role(Role::Officer)
    )]
    #[case("/custgrade.v1.ScoringModelServices/GetModel", Access::Deny)]
    #[case("/custgrade.v1.Unknown/GetThing", Access::Deny)]
    #[case("/grpc.health.v2.Health/Check", Access::Deny)]
    #[case("/custgrade.v1.CustomerService", Access::Deny)]
    #[case("/custgrade.v1.CustomerService/", Access::Deny)]
    #[case("/custgrade.v1.CustomerService/GetCustomer/x", Access::Deny)]
    #[case("custgrade.v1.CustomerService/GetCustomer", Access::Deny)]
    #[case("//GetCustomer", Access::Deny)]
    #[case("/", Access::Deny)]
    #[case("", Access::Deny)]
    fn required_role_follows_the_table(#[case] path: &str, #[case] expected: Access) {
        assert_eq!(required_role(path), expected);
    }

    /// A method added to the contract without a row here would be denied to every caller with
    /// keys configured: each one must need some role.
    #[test]
    #[allow(clippy::expect_used)]
    fn every_method_of_the_contract_needs_a_role() {
        use prost::Message;
        let set = prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set decodes");
        let mut checked = 0;
        for file in set.file.iter().filter(|f| f.package() == "custgrade.v1") {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/custgrade.v1.{}/{}", service.name(), method.name());
                    assert!(
                        matches!(required_role(&path), Access::Role(_)),
                        "{path} has no rule"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 14, "only {checked} methods found");
    }

    proptest! {
        #[test]
        fn required_role_never_panics(path in ".{0,100}") {
            let _ = required_role(&path);
        }
    }
}
