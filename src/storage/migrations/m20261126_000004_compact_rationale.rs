//! The rationale of an assessment stored compact: LZ4-compressed JSON without the sentences
//! (they are rendered again on read, in the reader's language). A re-grade of a million
//! customers writes a third of the bytes it wrote as plain JSON, and each row fits a few to a
//! page. Rows written before keep their plain `document`; new rows leave it empty.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Assessments {
    Table,
    Rationale,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Assessments::Table)
                    .add_column(blob_null(Assessments::Rationale))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Assessments::Table)
                    .drop_column(Assessments::Rationale)
                    .to_owned(),
            )
            .await
    }
}
