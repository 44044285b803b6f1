//! Less work for every stored assessment, which a re-grade does a million times
//! (docs/design/regrade.md, "Lighter writes").
//!
//! - Two indexes of `customer_grades` go. No query could use `idx_customer_grades_grade`: the
//!   grade filter is on the grade that counts, an override's or the computed one, an `OR`
//!   across the override join. `idx_customer_grades_assess_time` served "assessed before",
//!   which now filters the rows the other conditions select, as "valid until before" always
//!   did. Every assessment rewrote both: on SQLite they were a quarter of the writer's time;
//!   on PostgreSQL, `assess_time` changing in an indexed column made every upsert a new tuple
//!   in every index instead of a heap-only update.
//! - On PostgreSQL, the foreign keys that an assessment's rows check go: each is a trigger
//!   that runs a query per row and locks the parent row, rewriting its tuple header, so a
//!   re-grade locked every customer, snapshot and new assessment once more (~40 % of the
//!   database's time storing a batch). The parents are never deleted (customers are deleted
//!   softly, snapshots superseded, published versions kept) and every write reads them first,
//!   so the checks never refused a row. SQLite keeps them: there a check is one index lookup.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerGrades {
    Table,
    Grade,
    AssessTime,
    CustomerId,
}

/// The indexes dropped, each with the column it led with.
const INDEXES: [(&str, CustomerGrades); 2] = [
    ("idx_customer_grades_grade", CustomerGrades::Grade),
    (
        "idx_customer_grades_assess_time",
        CustomerGrades::AssessTime,
    ),
];

/// The foreign keys dropped on PostgreSQL, as migration 2 made them: name, table, column,
/// parent table, parent column.
const FOREIGN_KEYS: [[&str; 5]; 4] = [
    [
        "fk_assessments_customer",
        "assessments",
        "customer_id",
        "customers",
        "id",
    ],
    [
        "fk_assessments_figures",
        "assessments",
        "figures_id",
        "figures",
        "id",
    ],
    [
        "fk_assessments_model_version",
        "assessments",
        "model_version_id",
        "model_versions",
        "id",
    ],
    [
        "fk_customer_grades_assessment",
        "customer_grades",
        "assessment_id",
        "assessments",
        "id",
    ],
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(CustomerGrades::Table)
                        .to_owned(),
                )
                .await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            for [name, table, ..] in FOREIGN_KEYS {
                manager
                    .drop_foreign_key(
                        ForeignKey::drop()
                            .name(name)
                            .table(Alias::new(table))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            for [name, table, column, parent, parent_column] in FOREIGN_KEYS {
                manager
                    .create_foreign_key(
                        ForeignKey::create()
                            .name(name)
                            .from(Alias::new(table), Alias::new(column))
                            .to(Alias::new(parent), Alias::new(parent_column))
                            .to_owned(),
                    )
                    .await?;
            }
        }
        for (name, column) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CustomerGrades::Table)
                        .col(column)
                        .col(CustomerGrades::CustomerId)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
