//! The tables as sea-orm sees them. Rows here are storage shapes; the repositories convert them
//! to and from the domain's types, so a column change never leaks past `storage`.

pub mod assessment;
pub mod champion;
pub mod champion_history;
pub mod customer;
pub mod customer_grade;
pub mod customer_label;
pub mod figures;
pub mod grade_override;
pub mod idempotency_key;
pub mod model_version;
pub mod operation;
pub mod outcome;
pub mod scoring_model;
