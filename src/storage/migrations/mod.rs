//! Schema migrations, applied on start. A released migration never changes; a schema change is
//! a new file. The same migrations serve SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

mod m20261123_000001_customers_and_figures;
mod m20261124_000002_models_and_assessments;
mod m20261125_000003_operations;
mod m20261126_000004_compact_rationale;
mod m20261127_000005_lighter_writes;
mod m20261128_000006_grade_readers;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_customers_and_figures::Migration),
            Box::new(m20261124_000002_models_and_assessments::Migration),
            Box::new(m20261125_000003_operations::Migration),
            Box::new(m20261126_000004_compact_rationale::Migration),
            Box::new(m20261127_000005_lighter_writes::Migration),
            Box::new(m20261128_000006_grade_readers::Migration),
        ]
    }
}
