//! The servers that keep current grades in memory on a shared PostgreSQL database, each with
//! a read lease (see `storage/grade_sync.rs`): a writer reads them in the transaction that
//! changes grades, and hears each one acknowledge the change before its caller hears back.
//! A row is one lease, from a server's joining until it leaves or the lease runs out.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GradeReaders {
    Table,
    Id,
    Server,
    LeaseUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GradeReaders::Table)
                    .col(string(GradeReaders::Id).primary_key())
                    .col(string(GradeReaders::Server))
                    .col(timestamp_with_time_zone(GradeReaders::LeaseUntil))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GradeReaders::Table).to_owned())
            .await
    }
}
