//! The scoring engine's benchmark against GoRules' zen-engine: a book of customers generated
//! from a scoring model ([`book`]), the same model written as a JDM decision graph for zen
//! ([`jdm`]), and the check that both give every customer the same score and grade
//! ([`disagreements`]) before anything is timed. The timing itself is `benches/engine.rs`.
//!
//! A crate of its own so that the service's `cargo test` and clippy never build criterion or
//! zen-engine.

#![forbid(unsafe_code)]

pub mod book;
pub mod jdm;

use custgrade::domain::{
    figures::FiguresSnapshot,
    scoring::{ScoringModel, input::Input, score},
};
use zen_engine::Decision;

/// Every input the model reads, criteria first, then the knock-outs', each once.
pub fn inputs(model: &ScoringModel) -> Vec<Input> {
    let criteria = model.criteria.iter().map(|criterion| criterion.input);
    let conditions = model
        .knock_outs
        .iter()
        .flat_map(|rule| rule.when_any.iter().map(|condition| condition.input));
    let mut inputs: Vec<Input> = Vec::new();
    for input in criteria.chain(conditions) {
        if !inputs.contains(&input) {
            inputs.push(input);
        }
    }
    inputs
}

/// The customers of `book` on whom zen's `decision` and custgrade's [`score`] disagree, each
/// described; empty when they are equivalent on this book.
pub fn disagreements(
    model: &ScoringModel,
    decision: &Decision,
    book: &[FiguresSnapshot],
) -> Vec<String> {
    book.iter()
        .enumerate()
        .filter_map(|(index, snapshot)| {
            let ours = score(model, &snapshot.figures);
            let context = jdm::context(model, &snapshot.figures);
            let theirs = futures::executor::block_on(decision.evaluate(context))
                .map_err(|error| error.to_string())
                .and_then(|response| jdm::score_and_grade(&response.result));
            match theirs {
                Ok((total, grade)) if total == ours.total_score && grade == ours.grade => None,
                other => Some(format!(
                    "customer {index}: custgrade {} {}, zen {other:?}, figures {:?}",
                    ours.total_score, ours.grade, snapshot.figures
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use custgrade::domain::scoring::default_models;

    use super::*;

    #[test]
    fn zen_and_custgrade_agree_on_every_customer_of_both_default_models() {
        let Ok(models) = default_models() else {
            panic!("the default models read");
        };
        for model in &models {
            let decision = jdm::decision(model).unwrap_or_else(|error| panic!("{error}"));
            let book = book::book(model, 1024).unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(book::coverage_gaps(model, &book), Vec::<String>::new());
            let disagreements = disagreements(model, &decision, &book);
            assert!(
                disagreements.is_empty(),
                "{} disagreements, first: {:?}",
                disagreements.len(),
                disagreements.first()
            );
        }
    }
}
