//! Scoring models and their versions, the champion of each population (with its history),
//! assessments (one row each, the whole rationale as one JSON document beside the few columns
//! that lists filter on), each customer's current grade, kept up to date with every
//! assessment so that portfolio queries read one row per customer, and the grade overrides
//! people set and the outcomes recorded (defaults, late payments, churn), all of them kept.

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

#[derive(DeriveIden)]
enum CustomerGrades {
    Table,
    CustomerId,
    AssessmentId,
    ModelId,
    ModelVersion,
    Grade,
    TotalScore,
    CreditLimit,
    Currency,
    PaymentTermsDays,
    ServiceLevel,
    ReviewRequired,
    AssessTime,
    AsOfDate,
    ValidUntil,
    Sales,
    GrossProfit,
    OverrideId,
}

#[derive(DeriveIden)]
enum GradeOverrides {
    Table,
    Id,
    CustomerId,
    Grade,
    CreditLimit,
    Currency,
    Reason,
    Author,
    CreateTime,
    ExpireTime,
    ComputedGrade,
    AssessmentId,
    RevokeTime,
    RevokedBy,
    RevokeReason,
}

#[derive(DeriveIden)]
enum Outcomes {
    Table,
    Id,
    CustomerId,
    Kind,
    OccurDate,
    DaysLate,
    Note,
    RecordTime,
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
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(GradeOverrides::Table)
                    .col(string(GradeOverrides::Id).primary_key())
                    .col(string(GradeOverrides::CustomerId))
                    .col(string(GradeOverrides::Grade))
                    .col(string_null(GradeOverrides::CreditLimit))
                    .col(string_null(GradeOverrides::Currency))
                    .col(string(GradeOverrides::Reason))
                    .col(string(GradeOverrides::Author))
                    .col(timestamp_with_time_zone(GradeOverrides::CreateTime))
                    .col(timestamp_with_time_zone(GradeOverrides::ExpireTime))
                    .col(string(GradeOverrides::ComputedGrade))
                    .col(string(GradeOverrides::AssessmentId))
                    .col(timestamp_with_time_zone_null(GradeOverrides::RevokeTime))
                    .col(string_null(GradeOverrides::RevokedBy))
                    .col(string_null(GradeOverrides::RevokeReason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grade_overrides_customer")
                            .from(GradeOverrides::Table, GradeOverrides::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grade_overrides_assessment")
                            .from(GradeOverrides::Table, GradeOverrides::AssessmentId)
                            .to(Assessments::Table, Assessments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A customer's override history, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_grade_overrides_customer_time")
                    .table(GradeOverrides::Table)
                    .col(GradeOverrides::CustomerId)
                    .col(GradeOverrides::CreateTime)
                    .col(GradeOverrides::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustomerGrades::Table)
                    .col(string(CustomerGrades::CustomerId).primary_key())
                    .col(string(CustomerGrades::AssessmentId))
                    .col(string(CustomerGrades::ModelId))
                    .col(integer(CustomerGrades::ModelVersion))
                    .col(string(CustomerGrades::Grade))
                    .col(string(CustomerGrades::TotalScore))
                    .col(string_null(CustomerGrades::CreditLimit))
                    .col(string_null(CustomerGrades::Currency))
                    .col(big_integer(CustomerGrades::PaymentTermsDays))
                    .col(string(CustomerGrades::ServiceLevel))
                    .col(boolean(CustomerGrades::ReviewRequired))
                    .col(timestamp_with_time_zone(CustomerGrades::AssessTime))
                    .col(date(CustomerGrades::AsOfDate))
                    .col(date(CustomerGrades::ValidUntil))
                    .col(string_null(CustomerGrades::Sales))
                    .col(string_null(CustomerGrades::GrossProfit))
                    .col(string_null(CustomerGrades::OverrideId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_grades_customer")
                            .from(CustomerGrades::Table, CustomerGrades::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_grades_override")
                            .from(CustomerGrades::Table, CustomerGrades::OverrideId)
                            .to(GradeOverrides::Table, GradeOverrides::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customer_grades_assessment")
                            .from(CustomerGrades::Table, CustomerGrades::AssessmentId)
                            .to(Assessments::Table, Assessments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The portfolio filters, each paged by customer id: a grade, a model version, and
        // "assessed before" for stale grades.
        for (name, columns) in [
            ("idx_customer_grades_grade", vec![CustomerGrades::Grade]),
            (
                "idx_customer_grades_model",
                vec![CustomerGrades::ModelId, CustomerGrades::ModelVersion],
            ),
            (
                "idx_customer_grades_assess_time",
                vec![CustomerGrades::AssessTime],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(CustomerGrades::Table);
            for column in columns {
                index.col(column);
            }
            index.col(CustomerGrades::CustomerId);
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Outcomes::Table)
                    .col(string(Outcomes::Id).primary_key())
                    .col(string(Outcomes::CustomerId))
                    .col(string(Outcomes::Kind))
                    .col(date(Outcomes::OccurDate))
                    .col(integer_null(Outcomes::DaysLate))
                    .col(string(Outcomes::Note))
                    .col(timestamp_with_time_zone(Outcomes::RecordTime))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outcomes_customer")
                            .from(Outcomes::Table, Outcomes::CustomerId)
                            .to(Customers::Table, Customers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A customer's outcomes newest first; the outcomes of a kind for a validation report.
        for (name, columns) in [
            (
                "idx_outcomes_customer_date",
                [Outcomes::CustomerId, Outcomes::OccurDate, Outcomes::Id],
            ),
            (
                "idx_outcomes_kind_customer",
                [Outcomes::Kind, Outcomes::CustomerId, Outcomes::OccurDate],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Outcomes::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outcomes::Table.into_iden(),
            CustomerGrades::Table.into_iden(),
            GradeOverrides::Table.into_iden(),
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
