//! `custgrade.v1.CustomerService`: validate the request, convert it to the domain, call the
//! repository, convert the result back.

use std::collections::BTreeMap;

use serde::Serialize;
use tonic::{Request, Response, Status};

use super::{
    convert::timestamp,
    names::{customer_name, etag, parse_customer_name, parse_etag},
    pagination,
    request_id::request_id,
    status::{FieldViolations, invalid_argument},
};
use crate::{
    domain::{
        InvalidValue,
        customer::{
            self, Customer, CustomerId, CustomerKind, CustomerProfile, MAX_LABELS, ProfileChange,
        },
    },
    proto::custgrade::v1::{
        self as pb, customer_service_server::CustomerService, get_customer_request::Key,
    },
    storage::{Store, customers::CustomerFilter},
};

/// The service, holding only the store: handlers are stateless.
pub struct CustomerApi {
    store: Store,
}

impl CustomerApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl CustomerService for CustomerApi {
    #[tracing::instrument(skip_all)]
    async fn create_customer(
        &self,
        request: Request<pb::CreateCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let profile = match &request.customer {
            Some(customer) => profile_from_proto(customer, &mut violations),
            None => {
                violations.add("customer", "is required");
                None
            }
        };
        let request_id = request_id(&request.request_id, &mut violations);
        violations.finish()?;
        let Some(profile) = profile else {
            return Err(invalid_argument("customer", "is invalid"));
        };
        let created = self
            .store
            .create_customer(profile, request_id.as_deref())
            .await?;
        tracing::info!(customer = %created.id, "customer registered");
        Ok(Response::new(customer_to_proto(&created)))
    }

    async fn get_customer(
        &self,
        request: Request<pb::GetCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let found = match request.into_inner().key {
            Some(Key::Name(name)) => {
                let id = parse_customer_name(&name)
                    .map_err(|reason| invalid_argument("name", &reason.0))?;
                self.store.get_customer(id).await?
            }
            Some(Key::ExternalId(external_id)) => {
                customer::validate_external_id(&external_id)
                    .map_err(|reason| invalid_argument("external_id", &reason.0))?;
                self.store
                    .find_customer_by_external_id(&external_id)
                    .await?
            }
            None => {
                return Err(invalid_argument(
                    "name",
                    "one of name or external_id is required",
                ));
            }
        };
        Ok(Response::new(customer_to_proto(&found)))
    }

    async fn list_customers(
        &self,
        request: Request<pb::ListCustomersRequest>,
    ) -> Result<Response<pb::ListCustomersResponse>, Status> {
        let request = request.into_inner();
        let mut violations = FieldViolations::default();
        let limit = violations.check("page_size", pagination::page_size(request.page_size));
        let filter = filter_from_proto(&request, &mut violations);
        let after = filter.as_ref().and_then(|filter| {
            violations.check("page_token", customer_cursor(&request.page_token, filter))
        });
        violations.finish()?;
        let (Some(limit), Some(filter), Some(after)) = (limit, filter, after) else {
            return Err(invalid_argument("page_token", "is invalid"));
        };
        let page = self.store.list_customers(&filter, after, limit).await?;
        let next_page_token = pagination::next_page_token(&page.items, page.has_more, |last| {
            pagination::encode(&last.id.to_string(), &FilterKey(&filter))
        });
        Ok(Response::new(pb::ListCustomersResponse {
            customers: page.items.iter().map(customer_to_proto).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn update_customer(
        &self,
        request: Request<pb::UpdateCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let request = request.into_inner();
        let Some(customer) = request.customer else {
            return Err(invalid_argument("customer", "is required"));
        };
        let mut violations = FieldViolations::default();
        let id = violations.check("customer.name", parse_customer_name(&customer.name));
        let expected = violations.check("customer.etag", parse_etag(&customer.etag));
        let change = match request.update_mask {
            Some(mask) if !mask.paths.is_empty() => {
                change_from_proto(&customer, &mask.paths, &mut violations)
            }
            _ => {
                violations.add(
                    "update_mask",
                    "is required and must name at least one field",
                );
                None
            }
        };
        violations.finish()?;
        let (Some(id), Some(expected), Some(change)) = (id, expected, change) else {
            return Err(invalid_argument("customer", "is invalid"));
        };
        record_customer(id);
        let updated = self.store.update_customer(id, expected, change).await?;
        Ok(Response::new(customer_to_proto(&updated)))
    }

    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn delete_customer(
        &self,
        request: Request<pb::DeleteCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let request = request.into_inner();
        self.set_deleted(&request.name, &request.etag, true).await
    }

    #[tracing::instrument(skip_all, fields(customer = tracing::field::Empty))]
    async fn undelete_customer(
        &self,
        request: Request<pb::UndeleteCustomerRequest>,
    ) -> Result<Response<pb::Customer>, Status> {
        let request = request.into_inner();
        self.set_deleted(&request.name, &request.etag, false).await
    }
}

impl CustomerApi {
    async fn set_deleted(
        &self,
        name: &str,
        etag: &str,
        deleted: bool,
    ) -> Result<Response<pb::Customer>, Status> {
        let mut violations = FieldViolations::default();
        let id = violations.check("name", parse_customer_name(name));
        let expected = violations.check("etag", parse_etag(etag));
        violations.finish()?;
        let (Some(id), Some(expected)) = (id, expected) else {
            return Err(invalid_argument("name", "is invalid"));
        };
        record_customer(id);
        let changed = self
            .store
            .set_customer_deleted(id, expected, deleted)
            .await?;
        Ok(Response::new(customer_to_proto(&changed)))
    }
}

/// Names the customer a call is about on the call's span (its server-assigned id, never
/// personal data), so every log line of the call carries it.
pub(super) fn record_customer(id: CustomerId) {
    tracing::Span::current().record("customer", tracing::field::display(id));
}

/// The filters of a list, as the page token's fingerprint sees them.
#[derive(Serialize)]
struct FilterKey<'a>(#[serde(serialize_with = "serialize_filter")] &'a CustomerFilter);

fn serialize_filter<S: serde::Serializer>(
    filter: &&CustomerFilter,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    (
        filter.kind,
        &filter.industry,
        &filter.region,
        &filter.label,
        filter.show_deleted,
    )
        .serialize(serializer)
}

/// Where a page of customers continues, from its token.
fn customer_cursor(
    token: &str,
    filter: &CustomerFilter,
) -> Result<Option<CustomerId>, InvalidValue> {
    customer_cursor_id(token, &FilterKey(filter))
}

/// Where a page ordered by customer id continues: the token carries the last id.
pub(super) fn customer_cursor_id(
    token: &str,
    filter: &impl serde::Serialize,
) -> Result<Option<CustomerId>, InvalidValue> {
    pagination::decode(token, filter)?
        .map(|raw| CustomerId::parse(&raw))
        .transpose()
}

fn kind_from_proto(raw: i32) -> Result<CustomerKind, InvalidValue> {
    match pb::CustomerKind::try_from(raw) {
        Ok(pb::CustomerKind::Existing) => Ok(CustomerKind::Existing),
        Ok(pb::CustomerKind::Prospect) => Ok(CustomerKind::Prospect),
        Ok(pb::CustomerKind::Unspecified) => Err(InvalidValue::new(
            "is required: CUSTOMER_KIND_EXISTING or CUSTOMER_KIND_PROSPECT",
        )),
        Err(_) => Err(InvalidValue::new(format!("{raw} is not a customer kind"))),
    }
}

pub(super) fn kind_to_proto(kind: CustomerKind) -> pb::CustomerKind {
    match kind {
        CustomerKind::Existing => pb::CustomerKind::Existing,
        CustomerKind::Prospect => pb::CustomerKind::Prospect,
    }
}

fn parent_from_proto(raw: &str) -> Result<Option<CustomerId>, InvalidValue> {
    if raw.is_empty() {
        return Ok(None);
    }
    parse_customer_name(raw).map(Some)
}

fn labels_from_proto(
    labels: &std::collections::HashMap<String, String>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<BTreeMap<String, String>> {
    let before = violations.len();
    if labels.len() > MAX_LABELS {
        violations.add(field, format!("must have at most {MAX_LABELS} entries"));
    }
    for (key, value) in labels {
        violations.check(field, customer::validate_label_key(key));
        violations.check(field, customer::validate_label_value(key, value));
    }
    (violations.len() == before)
        .then(|| labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

fn profile_from_proto(
    customer: &pb::Customer,
    violations: &mut FieldViolations,
) -> Option<CustomerProfile> {
    let external_id = violations.check(
        "customer.external_id",
        customer::validate_external_id(&customer.external_id),
    );
    let display_name = violations.check(
        "customer.display_name",
        customer::validate_display_name(&customer.display_name),
    );
    let kind = violations.check("customer.kind", kind_from_proto(customer.kind));
    let industry = violations.check(
        "customer.industry",
        customer::validate_attribute(&customer.industry),
    );
    let region = violations.check(
        "customer.region",
        customer::validate_attribute(&customer.region),
    );
    let parent = violations.check(
        "customer.parent_customer",
        parent_from_proto(&customer.parent_customer),
    );
    let corporate_group = violations.check(
        "customer.corporate_group",
        customer::validate_attribute(&customer.corporate_group),
    );
    let labels = labels_from_proto(&customer.labels, "customer.labels", violations);
    Some(CustomerProfile {
        external_id: external_id.map(|()| customer.external_id.clone())?,
        display_name: display_name.map(|()| customer.display_name.clone())?,
        kind: kind?,
        industry: industry.map(|()| customer.industry.clone())?,
        region: region.map(|()| customer.region.clone())?,
        parent: parent?,
        corporate_group: corporate_group.map(|()| customer.corporate_group.clone())?,
        labels: labels?,
    })
}

/// The change an update mask asks for, every named field validated.
fn change_from_proto(
    customer: &pb::Customer,
    paths: &[String],
    violations: &mut FieldViolations,
) -> Option<ProfileChange> {
    let mut change = ProfileChange::default();
    for path in paths {
        let field = format!("customer.{path}");
        match path.as_str() {
            "external_id" => {
                change.external_id = violations
                    .check(
                        &field,
                        customer::validate_external_id(&customer.external_id),
                    )
                    .map(|()| customer.external_id.clone());
            }
            "display_name" => {
                change.display_name = violations
                    .check(
                        &field,
                        customer::validate_display_name(&customer.display_name),
                    )
                    .map(|()| customer.display_name.clone());
            }
            "kind" => change.kind = violations.check(&field, kind_from_proto(customer.kind)),
            "industry" => {
                change.industry = violations
                    .check(&field, customer::validate_attribute(&customer.industry))
                    .map(|()| customer.industry.clone());
            }
            "region" => {
                change.region = violations
                    .check(&field, customer::validate_attribute(&customer.region))
                    .map(|()| customer.region.clone());
            }
            "parent_customer" => {
                change.parent =
                    violations.check(&field, parent_from_proto(&customer.parent_customer));
            }
            "corporate_group" => {
                change.corporate_group = violations
                    .check(
                        &field,
                        customer::validate_attribute(&customer.corporate_group),
                    )
                    .map(|()| customer.corporate_group.clone());
            }
            "labels" => change.labels = labels_from_proto(&customer.labels, &field, violations),
            other => violations.add(
                "update_mask",
                format!("{other:?} is not a field that can be updated"),
            ),
        }
    }
    violations.is_empty().then_some(change)
}

fn filter_from_proto(
    request: &pb::ListCustomersRequest,
    violations: &mut FieldViolations,
) -> Option<CustomerFilter> {
    customer_filter(
        CustomerFilterFields {
            kind: request.kind,
            industry: &request.industry,
            region: &request.region,
            label: &request.label,
            show_deleted: request.show_deleted,
        },
        "",
        violations,
    )
}

/// The customer filter fields a list request carries, as sent.
pub(super) struct CustomerFilterFields<'a> {
    pub kind: i32,
    pub industry: &'a str,
    pub region: &'a str,
    /// `key` or `key=value`.
    pub label: &'a str,
    pub show_deleted: bool,
}

/// Reads a customer filter; violations are named `{prefix}kind`, `{prefix}label`.
pub(super) fn customer_filter(
    fields: CustomerFilterFields<'_>,
    prefix: &str,
    violations: &mut FieldViolations,
) -> Option<CustomerFilter> {
    let kind = match pb::CustomerKind::try_from(fields.kind) {
        Ok(pb::CustomerKind::Unspecified) => Some(None),
        Ok(_) => violations.check(
            &format!("{prefix}kind"),
            kind_from_proto(fields.kind).map(Some),
        ),
        Err(_) => {
            violations.add(
                format!("{prefix}kind"),
                format!("{} is not a customer kind", fields.kind),
            );
            None
        }
    };
    let label = if fields.label.is_empty() {
        Some(None)
    } else {
        let (key, value) = match fields.label.split_once('=') {
            Some((key, value)) => (key, Some(value.to_owned())),
            None => (fields.label, None),
        };
        violations
            .check(&format!("{prefix}label"), customer::validate_label_key(key))
            .map(|()| Some((key.to_owned(), value)))
    };
    let non_empty = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    Some(CustomerFilter {
        kind: kind?,
        industry: non_empty(fields.industry),
        region: non_empty(fields.region),
        label: label?,
        show_deleted: fields.show_deleted,
    })
}

pub(super) fn customer_to_proto(customer: &Customer) -> pb::Customer {
    let profile = &customer.profile;
    pb::Customer {
        name: customer_name(customer.id),
        external_id: profile.external_id.clone(),
        display_name: profile.display_name.clone(),
        kind: kind_to_proto(profile.kind).into(),
        industry: profile.industry.clone(),
        region: profile.region.clone(),
        parent_customer: profile.parent.map(customer_name).unwrap_or_default(),
        corporate_group: profile.corporate_group.clone(),
        labels: profile.labels.clone().into_iter().collect(),
        create_time: Some(timestamp(customer.create_time)),
        update_time: Some(timestamp(customer.update_time)),
        delete_time: customer.delete_time.map(timestamp),
        etag: etag(customer.version),
    }
}
