//! Long-running operations (portfolio re-grades): one row each, holding the request, the
//! progress and the cursor that a resumed run continues from, and which server runs it (a
//! lease, renewed with every batch). Assessments record the operation that made them, and a
//! unique index makes "one assessment per customer per run" a fact of the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Operations {
    Table,
    Id,
    Kind,
    Request,
    State,
    TotalCount,
    ProcessedCount,
    AssessedCount,
    Skips,
    Cursor,
    Owner,
    LeaseUntil,
    Error,
    CreateTime,
    UpdateTime,
    EndTime,
}

#[derive(DeriveIden)]
enum Assessments {
    Table,
    OperationId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Operations::Table)
                    .col(string(Operations::Id).primary_key())
                    .col(string(Operations::Kind))
                    .col(text(Operations::Request))
                    .col(string(Operations::State))
                    .col(big_integer(Operations::TotalCount))
                    .col(big_integer(Operations::ProcessedCount))
                    .col(big_integer(Operations::AssessedCount))
                    .col(text(Operations::Skips))
                    .col(string_null(Operations::Cursor))
                    .col(string_null(Operations::Owner))
                    .col(timestamp_with_time_zone_null(Operations::LeaseUntil))
                    .col(string_null(Operations::Error))
                    .col(timestamp_with_time_zone(Operations::CreateTime))
                    .col(timestamp_with_time_zone(Operations::UpdateTime))
                    .col(timestamp_with_time_zone_null(Operations::EndTime))
                    .to_owned(),
            )
            .await?;
        // Servers look for running operations nobody holds (or whose holder went away).
        manager
            .create_index(
                Index::create()
                    .name("idx_operations_state")
                    .table(Operations::Table)
                    .col(Operations::State)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Assessments::Table)
                    .add_column(string_null(Assessments::OperationId))
                    .to_owned(),
            )
            .await?;
        // Partial, so the inline assessments (no operation) cost the index nothing. The same
        // statement reads alike on SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_assessments_operation_customer \
                 ON assessments (operation_id, customer_id) WHERE operation_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_assessments_operation_customer")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Assessments::Table)
                    .drop_column(Assessments::OperationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Operations::Table).to_owned())
            .await
    }
}
