//! Scoring models and their versions, the champion of each population (with its history),
//! and assessments: one row each, the whole rationale as one JSON document beside the few
//! columns that lists and grade queries filter on.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Figures {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScoringModels {
    Table,
    Id,
    CreateTime,
}

#[derive(DeriveIden)]
enum ModelVersions {
    Table,
    Id,
    ModelId,
    Version,
    State,
    Definition,
    EtagVersion,
    CreateTime,
    UpdateTime,
    PublishTime,
}

#[derive(DeriveIden)]
enum Champions {
    Table,
    Population,
    ModelVersionId,
    SetTime,
}

#[derive(DeriveIden)]
enum ChampionHistory {
    Table,
    Id,
    Population,
    ModelVersionId,
    SetTime,
}

#[derive(DeriveIden)]
enum Assessments {
    Table,
    Id,
    CustomerId,
    FiguresId,
    FiguresRevision,
    ModelVersionId,
    AssessTime,
    AsOfDate,
    ValidUntil,
    Currency,
    TotalScore,
    Grade,
    Document,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScoringModels::Table)
                    .col(string(ScoringModels::Id).primary_key())
                    .col(timestamp_with_time_zone(ScoringModels::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ModelVersions::Table)
                    .col(big_pk_auto(ModelVersions::Id))
                    .col(string(ModelVersions::ModelId))
                    .col(integer(ModelVersions::Version))
                    .col(string(ModelVersions::State))
                    .col(text(ModelVersions::Definition))
                    .col(big_integer(ModelVersions::EtagVersion))
                    .col(timestamp_with_time_zone(ModelVersions::CreateTime))
                    .col(timestamp_with_time_zone(ModelVersions::UpdateTime))
                    .col(timestamp_with_time_zone_null(ModelVersions::PublishTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_model_versions_model")
                            .from(ModelVersions::Table, ModelVersions::ModelId)
                            .to(ScoringModels::Table, ScoringModels::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // One number per version of a model, and the newest-first list of a model's versions.
        manager
            .create_index(
                Index::create()
                    .name("idx_model_versions_model_version")
                    .table(ModelVersions::Table)
                    .col(ModelVersions::ModelId)
                    .col(ModelVersions::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Champions::Table)
                    .col(string(Champions::Population).primary_key())
                    .col(big_integer(Champions::ModelVersionId))
                    .col(timestamp_with_time_zone(Champions::SetTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_champions_model_version")
                            .from(Champions::Table, Champions::ModelVersionId)
                            .to(ModelVersions::Table, ModelVersions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChampionHistory::Table)
                    .col(big_pk_auto(ChampionHistory::Id))
                    .col(string(ChampionHistory::Population))
                    .col(big_integer(ChampionHistory::ModelVersionId))
                    .col(timestamp_with_time_zone(ChampionHistory::SetTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_champion_history_model_version")
                            .from(ChampionHistory::Table, ChampionHistory::ModelVersionId)
                            .to(ModelVersions::Table, ModelVersions::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Assessments::Table)
                    .col(string(Assessments::Id).primary_key())
                    .col(string(Assessments::CustomerId))
                    .col(big_integer(Assessments::FiguresId))
                    .col(integer(Assessments::FiguresRevision))
                    .col(big_integer(Assessments::ModelVersionId))
                    .col(timestamp_with_time_zone(Assessments::AssessTime))
                    .col(date(Assessments::AsOfDate))
                    .col(date(Assessments::ValidUntil))
                    .col(string_null(Assessments::Currency))
                    .col(string(Assessments::TotalScore))
                    .col(string(Assessments::Grade))
                    .col(text(Assessments::Document))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assessments_customer")
                            .from(Assessments::Table, Assessments::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assessments_figures")
                            .from(Assessments::Table, Assessments::FiguresId)
                            .to(Figures::Table, Figures::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assessments_model_version")
                            .from(Assessments::Table, Assessments::ModelVersionId)
                            .to(ModelVersions::Table, ModelVersions::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A customer's history newest first, and its current grade, read from one index.
        manager
            .create_index(
                Index::create()
                    .name("idx_assessments_customer_time")
                    .table(Assessments::Table)
                    .col(Assessments::CustomerId)
                    .col(Assessments::AssessTime)
                    .col(Assessments::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Assessments::Table.into_iden(),
            ChampionHistory::Table.into_iden(),
            Champions::Table.into_iden(),
            ModelVersions::Table.into_iden(),
            ScoringModels::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
