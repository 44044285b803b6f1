//! `custgrade model validate FILE`: checks a scoring model document offline, with the same
//! parser, checks and messages the server uses, so operators can validate the models they keep
//! in their own repositories before they publish them (in CI, for example).

use std::{fmt::Write, path::Path};

use crate::domain::scoring::{DocumentError, ScoringModel, validate};

/// The report on one document: what a person reads, and whether the model can be published.
pub struct Report {
    pub text: String,
    pub valid: bool,
}

/// Reads `path` as YAML, or as JSON when it ends in `.json`, and reports every problem.
pub fn check(path: &Path) -> Report {
    let shown = path.display();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            return Report {
                text: format!("{shown}: cannot read the file: {error}\n"),
                valid: false,
            };
        }
    };
    let is_json = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
    let parsed: Result<ScoringModel, DocumentError> = if is_json {
        ScoringModel::from_json(&text)
    } else {
        ScoringModel::from_yaml(&text)
    };
    let model = match parsed {
        Ok(model) => model,
        Err(error) => {
            return Report {
                text: format!("{shown}: {error}\n"),
                valid: false,
            };
        }
    };
    let problems = validate(&model);
    let mut report = String::new();
    if problems.is_empty() {
        let _ = writeln!(
            report,
            "{shown}: valid: {} version {} with {} criteria",
            model.name,
            model.version,
            model.criteria.len()
        );
    } else {
        let _ = writeln!(report, "{shown}: {} problem(s):", problems.len());
        for problem in &problems {
            let _ = writeln!(report, "  {problem}");
        }
    }
    Report {
        text: report,
        valid: problems.is_empty(),
    }
}
