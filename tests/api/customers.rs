//! CustomerService over the wire: create (idempotent), get, list (pages, filters), update
//! (mask, etag), soft delete and undelete, and the error codes of each.

use std::collections::HashMap;

use custgrade::proto::custgrade::v1::{
    CreateCustomerRequest, Customer, CustomerKind, DeleteCustomerRequest, GetCustomerRequest,
    ListCustomersRequest, UndeleteCustomerRequest, UpdateCustomerRequest,
    get_customer_request::Key,
};
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::{TestApp, bad_request_fields, fields, unique};

crate::on_every_backend!(
    creating_a_customer_returns_it_with_a_server_assigned_name,
    retrying_a_create_with_the_same_request_id_returns_the_first_customer,
    reusing_a_request_id_for_another_customer_is_invalid,
    a_second_customer_with_the_same_external_id_already_exists,
    a_create_with_bad_fields_names_every_bad_field,
    a_customer_is_found_by_name_and_by_external_id,
    unknown_and_malformed_names_are_told_apart,
    listing_pages_through_every_customer_in_registration_order,
    lists_filter_by_kind_region_and_label,
    a_page_token_is_refused_under_other_filters,
    an_update_changes_only_the_fields_in_its_mask,
    an_update_with_a_stale_etag_is_aborted_and_changes_nothing,
    an_update_needs_a_mask_of_known_fields,
    a_deleted_customer_leaves_lists_and_returns_when_undeleted,
    a_parent_must_exist_and_must_not_make_a_cycle,
    an_external_id_cannot_move_to_a_customer_while_another_holds_it,
    a_delete_with_a_stale_etag_is_aborted,
);

/// A valid customer in `industry`, with a unique external id.
pub(crate) fn customer(industry: &str) -> Customer {
    Customer {
        external_id: unique("ERP"),
        display_name: "Acme Machinery Co.".to_owned(),
        kind: CustomerKind::Existing.into(),
        industry: industry.to_owned(),
        region: "east-china".to_owned(),
        labels: HashMap::from([("tier".to_owned(), "key".to_owned())]),
        ..Customer::default()
    }
}

pub(crate) async fn create(app: &TestApp, customer: Customer) -> Customer {
    app.customers
        .clone()
        .create_customer(CreateCustomerRequest {
            customer: Some(customer),
            request_id: String::new(),
        })
        .await
        .expect("the customer is created")
        .into_inner()
}

async fn get_by_name(app: &TestApp, name: &str) -> Customer {
    app.customers
        .clone()
        .get_customer(GetCustomerRequest {
            key: Some(Key::Name(name.to_owned())),
        })
        .await
        .expect("the customer is found")
        .into_inner()
}

async fn list(
    app: &TestApp,
    request: ListCustomersRequest,
) -> Result<(Vec<Customer>, String), tonic::Status> {
    let response = app
        .customers
        .clone()
        .list_customers(request)
        .await?
        .into_inner();
    Ok((response.customers, response.next_page_token))
}

fn in_industry(industry: &str) -> ListCustomersRequest {
    ListCustomersRequest {
        industry: industry.to_owned(),
        ..ListCustomersRequest::default()
    }
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|path| (*path).to_owned()).collect(),
    })
}

async fn creating_a_customer_returns_it_with_a_server_assigned_name(app: TestApp) {
    let sent = customer("machinery");
    let created = create(&app, sent.clone()).await;

    assert!(created.name.starts_with("customers/"), "{}", created.name);
    assert_eq!(created.external_id, sent.external_id);
    assert_eq!(created.display_name, sent.display_name);
    assert_eq!(created.kind(), CustomerKind::Existing);
    assert_eq!(created.labels, sent.labels);
    assert!(created.create_time.is_some());
    assert_eq!(created.create_time, created.update_time);
    assert!(created.delete_time.is_none());
    assert!(!created.etag.is_empty());
}

async fn retrying_a_create_with_the_same_request_id_returns_the_first_customer(app: TestApp) {
    let industry = unique("retry");
    let request = CreateCustomerRequest {
        customer: Some(customer(&industry)),
        request_id: unique("req"),
    };
    let first = app
        .customers
        .clone()
        .create_customer(request.clone())
        .await
        .unwrap()
        .into_inner();
    let retry = app
        .customers
        .clone()
        .create_customer(request)
        .await
        .unwrap()
        .into_inner();

    assert_eq!(retry, first);
    let (listed, _) = list(&app, in_industry(&industry)).await.unwrap();
    assert_eq!(listed.len(), 1);
}

async fn reusing_a_request_id_for_another_customer_is_invalid(app: TestApp) {
    let request_id = unique("req");
    let first = CreateCustomerRequest {
        customer: Some(customer("machinery")),
        request_id: request_id.clone(),
    };
    app.customers.clone().create_customer(first).await.unwrap();

    let other = CreateCustomerRequest {
        customer: Some(customer("machinery")),
        request_id,
    };
    let status = app
        .customers
        .clone()
        .create_customer(other)
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["request_id"]));
}

async fn a_second_customer_with_the_same_external_id_already_exists(app: TestApp) {
    let first = create(&app, customer("machinery")).await;
    let twin = Customer {
        external_id: first.external_id.clone(),
        ..customer("machinery")
    };
    let status = app
        .customers
        .clone()
        .create_customer(CreateCustomerRequest {
            customer: Some(twin),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(
        status.message().contains(&first.name),
        "{}",
        status.message()
    );
}

async fn a_create_with_bad_fields_names_every_bad_field(app: TestApp) {
    let bad = Customer {
        external_id: String::new(),
        display_name: "x".repeat(201),
        kind: CustomerKind::Unspecified.into(),
        parent_customer: "not-a-name".to_owned(),
        labels: HashMap::from([("Bad Key".to_owned(), "v".to_owned())]),
        ..customer("machinery")
    };
    let status = app
        .customers
        .clone()
        .create_customer(CreateCustomerRequest {
            customer: Some(bad),
            request_id: "has spaces".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&status),
        fields(&[
            "customer.external_id",
            "customer.display_name",
            "customer.kind",
            "customer.parent_customer",
            "customer.labels",
            "request_id",
        ])
    );

    let missing = app
        .customers
        .clone()
        .create_customer(CreateCustomerRequest::default())
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&missing), fields(&["customer"]));
}

async fn a_customer_is_found_by_name_and_by_external_id(app: TestApp) {
    let created = create(&app, customer("machinery")).await;

    let by_name = get_by_name(&app, &created.name).await;
    let by_external_id = app
        .customers
        .clone()
        .get_customer(GetCustomerRequest {
            key: Some(Key::ExternalId(created.external_id.clone())),
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(by_name, created);
    assert_eq!(by_external_id, created);
}

async fn unknown_and_malformed_names_are_told_apart(app: TestApp) {
    let mut client = app.customers.clone();
    let get = |key| GetCustomerRequest { key: Some(key) };

    let unknown = client
        .get_customer(get(Key::Name(
            "customers/00000000-0000-7000-8000-000000000000".to_owned(),
        )))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let unknown_external = client
        .get_customer(get(Key::ExternalId(unique("nobody"))))
        .await
        .unwrap_err();
    assert_eq!(unknown_external.code(), Code::NotFound);

    let malformed = client
        .get_customer(get(Key::Name("customers/42".to_owned())))
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&malformed), fields(&["name"]));

    let no_key = client
        .get_customer(GetCustomerRequest { key: None })
        .await
        .unwrap_err();
    assert_eq!(no_key.code(), Code::InvalidArgument);
}

async fn listing_pages_through_every_customer_in_registration_order(app: TestApp) {
    let industry = unique("paging");
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(create(&app, customer(&industry)).await.name);
    }

    let mut seen = Vec::new();
    let mut page_sizes = Vec::new();
    let mut page_token = String::new();
    loop {
        let (page, next) = list(
            &app,
            ListCustomersRequest {
                page_size: 3,
                page_token: page_token.clone(),
                ..in_industry(&industry)
            },
        )
        .await
        .unwrap();
        page_sizes.push(page.len());
        seen.extend(page.into_iter().map(|customer| customer.name));
        if next.is_empty() {
            break;
        }
        page_token = next;
    }

    assert_eq!(page_sizes, [3, 3, 1]);
    assert_eq!(
        seen, created,
        "pages follow registration order, without gaps or repeats"
    );
}

async fn lists_filter_by_kind_region_and_label(app: TestApp) {
    let industry = unique("filters");
    let existing_east = create(&app, customer(&industry)).await;
    let prospect_west = create(
        &app,
        Customer {
            kind: CustomerKind::Prospect.into(),
            region: "west-china".to_owned(),
            labels: HashMap::from([("tier".to_owned(), "watch".to_owned())]),
            ..customer(&industry)
        },
    )
    .await;
    let unlabelled = create(
        &app,
        Customer {
            labels: HashMap::new(),
            ..customer(&industry)
        },
    )
    .await;

    let names = |customers: Vec<Customer>| -> Vec<String> {
        customers
            .into_iter()
            .map(|customer| customer.name)
            .collect()
    };
    let prospects = ListCustomersRequest {
        kind: CustomerKind::Prospect.into(),
        ..in_industry(&industry)
    };
    let west = ListCustomersRequest {
        region: "west-china".to_owned(),
        ..in_industry(&industry)
    };
    let any_tier = ListCustomersRequest {
        label: "tier".to_owned(),
        ..in_industry(&industry)
    };
    let key_tier = ListCustomersRequest {
        label: "tier=key".to_owned(),
        ..in_industry(&industry)
    };

    assert_eq!(
        names(list(&app, prospects).await.unwrap().0),
        [prospect_west.name.as_str()]
    );
    assert_eq!(
        names(list(&app, west).await.unwrap().0),
        [prospect_west.name.as_str()]
    );
    assert_eq!(
        names(list(&app, any_tier).await.unwrap().0),
        [existing_east.name.clone(), prospect_west.name.clone()]
    );
    assert_eq!(
        names(list(&app, key_tier).await.unwrap().0),
        [existing_east.name.as_str()]
    );
    assert_eq!(
        names(list(&app, in_industry(&industry)).await.unwrap().0),
        [existing_east.name, prospect_west.name, unlabelled.name]
    );
}

async fn a_page_token_is_refused_under_other_filters(app: TestApp) {
    let industry = unique("token");
    for _ in 0..2 {
        create(&app, customer(&industry)).await;
    }
    let (_, token) = list(
        &app,
        ListCustomersRequest {
            page_size: 1,
            ..in_industry(&industry)
        },
    )
    .await
    .unwrap();
    assert!(!token.is_empty());

    let status = list(
        &app,
        ListCustomersRequest {
            page_size: 1,
            page_token: token,
            region: "elsewhere".to_owned(),
            ..in_industry(&industry)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad_request_fields(&status), fields(&["page_token"]));

    let negative = list(
        &app,
        ListCustomersRequest {
            page_size: -1,
            ..in_industry(&industry)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad_request_fields(&negative), fields(&["page_size"]));
}

async fn an_update_changes_only_the_fields_in_its_mask(app: TestApp) {
    let created = create(&app, customer("machinery")).await;
    let mut change = created.clone();
    change.display_name = "Acme Heavy Industries".to_owned();
    change.labels = HashMap::from([("tier".to_owned(), "strategic".to_owned())]);
    change.region = "ignored-because-not-in-mask".to_owned();

    let updated = app
        .customers
        .clone()
        .update_customer(UpdateCustomerRequest {
            customer: Some(change),
            update_mask: mask(&["display_name", "labels"]),
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(updated.display_name, "Acme Heavy Industries");
    assert_eq!(updated.labels["tier"], "strategic");
    assert_eq!(updated.region, created.region);
    assert_eq!(updated.external_id, created.external_id);
    assert_ne!(updated.etag, created.etag);
    assert_eq!(updated.create_time, created.create_time);
    let instant = |time: Option<prost_types::Timestamp>| time.map(|t| (t.seconds, t.nanos));
    assert!(instant(updated.update_time) > instant(created.update_time));
}

async fn an_update_with_a_stale_etag_is_aborted_and_changes_nothing(app: TestApp) {
    let created = create(&app, customer("machinery")).await;
    let update = |display_name: &str, etag: &str| UpdateCustomerRequest {
        customer: Some(Customer {
            display_name: display_name.to_owned(),
            etag: etag.to_owned(),
            ..created.clone()
        }),
        update_mask: mask(&["display_name"]),
    };
    let first = app
        .customers
        .clone()
        .update_customer(update("First Writer", &created.etag))
        .await
        .unwrap()
        .into_inner();

    let stale = app
        .customers
        .clone()
        .update_customer(update("Second Writer", &created.etag))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);

    let stored = get_by_name(&app, &created.name).await;
    assert_eq!(stored, first);
}

async fn an_update_needs_a_mask_of_known_fields(app: TestApp) {
    let created = create(&app, customer("machinery")).await;
    let mut client = app.customers.clone();

    let no_mask = client
        .update_customer(UpdateCustomerRequest {
            customer: Some(created.clone()),
            update_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&no_mask), fields(&["update_mask"]));

    let unknown_path = client
        .update_customer(UpdateCustomerRequest {
            customer: Some(created.clone()),
            update_mask: mask(&["create_time"]),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_request_fields(&unknown_path), fields(&["update_mask"]));

    let bad_value = client
        .update_customer(UpdateCustomerRequest {
            customer: Some(Customer {
                display_name: String::new(),
                ..created.clone()
            }),
            update_mask: mask(&["display_name"]),
        })
        .await
        .unwrap_err();
    assert_eq!(
        bad_request_fields(&bad_value),
        fields(&["customer.display_name"])
    );

    let unknown_customer = client
        .update_customer(UpdateCustomerRequest {
            customer: Some(Customer {
                name: "customers/00000000-0000-7000-8000-000000000000".to_owned(),
                ..created
            }),
            update_mask: mask(&["region"]),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_customer.code(), Code::NotFound);
}

async fn a_deleted_customer_leaves_lists_and_returns_when_undeleted(app: TestApp) {
    let industry = unique("deleted");
    let created = create(&app, customer(&industry)).await;
    let mut client = app.customers.clone();

    let deleted = client
        .delete_customer(DeleteCustomerRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(deleted.delete_time.is_some());

    assert!(
        list(&app, in_industry(&industry))
            .await
            .unwrap()
            .0
            .is_empty()
    );
    let with_deleted = ListCustomersRequest {
        show_deleted: true,
        ..in_industry(&industry)
    };
    assert_eq!(
        list(&app, with_deleted).await.unwrap().0,
        vec![deleted.clone()]
    );

    let again = client
        .delete_customer(DeleteCustomerRequest {
            name: created.name.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again, deleted, "deleting twice changes nothing");

    let update = client
        .update_customer(UpdateCustomerRequest {
            customer: Some(deleted.clone()),
            update_mask: mask(&["region"]),
        })
        .await
        .unwrap_err();
    assert_eq!(update.code(), Code::FailedPrecondition);

    let stale_undelete = client
        .undelete_customer(UndeleteCustomerRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(stale_undelete.code(), Code::Aborted);

    let restored = client
        .undelete_customer(UndeleteCustomerRequest {
            name: created.name.clone(),
            etag: deleted.etag.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(restored.delete_time.is_none());
    assert_eq!(
        list(&app, in_industry(&industry)).await.unwrap().0,
        [restored]
    );
}

async fn a_parent_must_exist_and_must_not_make_a_cycle(app: TestApp) {
    let group = create(&app, customer("machinery")).await;
    let subsidiary = create(
        &app,
        Customer {
            parent_customer: group.name.clone(),
            ..customer("machinery")
        },
    )
    .await;
    assert_eq!(subsidiary.parent_customer, group.name);

    let orphan = app
        .customers
        .clone()
        .create_customer(CreateCustomerRequest {
            customer: Some(Customer {
                parent_customer: "customers/00000000-0000-7000-8000-000000000000".to_owned(),
                ..customer("machinery")
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(orphan.code(), Code::NotFound);

    let cycle = app
        .customers
        .clone()
        .update_customer(UpdateCustomerRequest {
            customer: Some(Customer {
                parent_customer: subsidiary.name.clone(),
                ..group
            }),
            update_mask: mask(&["parent_customer"]),
        })
        .await
        .unwrap_err();
    assert_eq!(cycle.code(), Code::FailedPrecondition);
}

async fn an_external_id_cannot_move_to_a_customer_while_another_holds_it(app: TestApp) {
    let holder = create(&app, customer("machinery")).await;
    let other = create(&app, customer("machinery")).await;
    let status = app
        .customers
        .clone()
        .update_customer(UpdateCustomerRequest {
            customer: Some(Customer {
                external_id: holder.external_id.clone(),
                ..other.clone()
            }),
            update_mask: mask(&["external_id"]),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);

    let unchanged = get_by_name(&app, &other.name).await;
    assert_eq!(unchanged, other);
}

async fn a_delete_with_a_stale_etag_is_aborted(app: TestApp) {
    let created = create(&app, customer("machinery")).await;
    let mut client = app.customers.clone();
    client
        .update_customer(UpdateCustomerRequest {
            customer: Some(Customer {
                region: "north-china".to_owned(),
                ..created.clone()
            }),
            update_mask: mask(&["region"]),
        })
        .await
        .unwrap();

    let status = client
        .delete_customer(DeleteCustomerRequest {
            name: created.name.clone(),
            etag: created.etag.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    let (live, _) = list(&app, in_industry("machinery")).await.unwrap();
    assert!(live.iter().any(|customer| customer.name == created.name));
}
