//! The foundation: customers, their labels, their dated figures and idempotency keys.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    ExternalId,
    DisplayName,
    Kind,
    Industry,
    Region,
    ParentId,
    CorporateGroup,
    Version,
    CreateTime,
    UpdateTime,
    DeleteTime,
}

#[derive(DeriveIden)]
enum CustomerLabels {
    Table,
    CustomerId,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum Figures {
    Table,
    Id,
    CustomerId,
    AsOfDate,
    Revision,
    Superseded,
    RecordTime,
    Source,
    Currency,
    Inputs,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Scope,
    RequestId,
    RequestHash,
    ResourceId,
    CreateTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customers::Table)
                    .col(string(Customers::Id).primary_key())
                    .col(string_uniq(Customers::ExternalId))
                    .col(string(Customers::DisplayName))
                    .col(string(Customers::Kind))
                    .col(string(Customers::Industry))
                    .col(string(Customers::Region))
                    .col(string_null(Customers::ParentId))
                    .col(string(Customers::CorporateGroup))
                    .col(big_integer(Customers::Version))
                    .col(timestamp_with_time_zone(Customers::CreateTime))
                    .col(timestamp_with_time_zone(Customers::UpdateTime))
                    .col(timestamp_with_time_zone_null(Customers::DeleteTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customers_parent")
                            .from(Customers::Table, Customers::ParentId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The list filters; each is an equality on one column, paged by id.
        for (name, column) in [
            ("idx_customers_kind", Customers::Kind),
            ("idx_customers_industry", Customers::Industry),
            ("idx_customers_region", Customers::Region),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Customers::Table)
                        .col(column)
                        .col(Customers::Id)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CustomerLabels::Table)
                    .col(string(CustomerLabels::CustomerId))
                    .col(string(CustomerLabels::Key))
                    .col(string(CustomerLabels::Value))
                    .primary_key(
                        Index::create()
                            .col(CustomerLabels::CustomerId)
                            .col(CustomerLabels::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_labels_customer")
                            .from(CustomerLabels::Table, CustomerLabels::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_customer_labels_key_value")
                    .table(CustomerLabels::Table)
                    .col(CustomerLabels::Key)
                    .col(CustomerLabels::Value)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Figures::Table)
                    .col(big_pk_auto(Figures::Id))
                    .col(string(Figures::CustomerId))
                    .col(date(Figures::AsOfDate))
                    .col(integer(Figures::Revision))
                    .col(boolean(Figures::Superseded))
                    .col(timestamp_with_time_zone(Figures::RecordTime))
                    .col(string(Figures::Source))
                    .col(string_null(Figures::Currency))
                    .col(text(Figures::Inputs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_figures_customer")
                            .from(Figures::Table, Figures::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One revision number per date, and the newest-first reads of a customer's snapshots.
        manager
            .create_index(
                Index::create()
                    .name("idx_figures_customer_date_revision")
                    .table(Figures::Table)
                    .col(Figures::CustomerId)
                    .col(Figures::AsOfDate)
                    .col(Figures::Revision)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string(IdempotencyKeys::Scope))
                    .col(string(IdempotencyKeys::RequestId))
                    .col(string(IdempotencyKeys::RequestHash))
                    .col(string(IdempotencyKeys::ResourceId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreateTime))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::Scope)
                            .col(IdempotencyKeys::RequestId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Figures::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CustomerLabels::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Customers::Table).to_owned())
            .await
    }
}
