//! The offline model commands. `custgrade model validate FILE` checks a scoring model
//! document with the same parser, checks and messages the server uses, so operators can
//! validate the models they keep in their own repositories before they publish them (in CI,
//! for example). `custgrade model assess FILE FIGURES` grades sample figures with a model and
//! prints the rationale table, to see what a change to a model does before publishing it.

use std::{fmt::Write, path::Path};

use chrono::NaiveDate;

use crate::domain::{
    figures::{FigureSet, FiguresSnapshot},
    scoring::{DocumentError, Locale, ScoringModel, assess, explain, validate},
};

/// The report on one document: what a person reads, and whether the model can be published.
pub struct Report {
    pub text: String,
    pub valid: bool,
}

impl Report {
    fn failed(text: String) -> Self {
        Self { text, valid: false }
    }
}

/// Reads `path` as YAML, or as JSON when it ends in `.json`, and reports every problem.
pub fn check(path: &Path) -> Report {
    match read_valid_model(path) {
        Ok(model) => Report {
            text: format!(
                "{}: valid: {} version {} with {} criteria\n",
                path.display(),
                model.name,
                model.version,
                model.criteria.len()
            ),
            valid: true,
        },
        Err(report) => report,
    }
}

/// Grades the figures in `figures_path` (a JSON object with the inputs by their `Figures`
/// field names, money as decimal strings) as of `as_of` with the model in `model_path`, and
/// returns the rationale table. A model with problems is refused, as publishing would be.
pub fn assess_sample(
    model_path: &Path,
    figures_path: &Path,
    as_of: NaiveDate,
    locale: Locale,
) -> Report {
    let model = match read_valid_model(model_path) {
        Ok(model) => model,
        Err(report) => return report,
    };
    let shown = figures_path.display();
    let figures: FigureSet = match std::fs::read_to_string(figures_path)
        .map_err(|error| format!("cannot read the file: {error}"))
        .and_then(|text| serde_json::from_str(&text).map_err(|error| error.to_string()))
    {
        Ok(figures) => figures,
        Err(error) => return Report::failed(format!("{shown}: {error}\n")),
    };
    let snapshot = FiguresSnapshot {
        as_of,
        source: shown.to_string(),
        currency: None,
        figures,
    };
    Report {
        text: explain(&assess(&model, &snapshot, locale), locale),
        valid: true,
    }
}

/// The model document at `path` if it can be published, or the report listing every problem.
fn read_valid_model(path: &Path) -> Result<ScoringModel, Report> {
    let model = read_model(path)?;
    let problems = validate(&model);
    if problems.is_empty() {
        return Ok(model);
    }
    let mut text = format!("{}: {} problem(s):\n", path.display(), problems.len());
    for problem in &problems {
        let _ = writeln!(text, "  {problem}");
    }
    Err(Report::failed(text))
}

/// The model document at `path`, or the report that says why it is not one.
fn read_model(path: &Path) -> Result<ScoringModel, Report> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|error| Report::failed(format!("{shown}: cannot read the file: {error}\n")))?;
    let is_json = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
    let parsed: Result<ScoringModel, DocumentError> = if is_json {
        ScoringModel::from_json(&text)
    } else {
        ScoringModel::from_yaml(&text)
    };
    parsed.map_err(|error| Report::failed(format!("{shown}: {error}\n")))
}
