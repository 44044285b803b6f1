//! A scoring model as a document a person edits: YAML or JSON, read and written with the same
//! field names as the model types. Reading only parses; [`super::validate`] then says whether
//! the model can be published. The two default models ship as YAML files in `models/` and are
//! compiled in here, so the server can publish them on first start.

use std::fmt;

use serde_saphyr::MessageFormatter;

use super::model::ScoringModel;

/// The default model for customers who already buy (`models/existing-customers.yaml`).
pub const DEFAULT_EXISTING: &str = include_str!("../../../models/existing-customers.yaml");
/// The default model for potential customers (`models/prospects.yaml`).
pub const DEFAULT_PROSPECTS: &str = include_str!("../../../models/prospects.yaml");

/// The notation of a model document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    Yaml,
    Json,
}

/// Why a document is not a scoring model (or a model could not be written as one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DocumentError {
    pub format: DocumentFormat,
    /// Where the parser stopped, 1-based, when it says.
    pub location: Option<LineColumn>,
    /// What is wrong, lowercase, without the location.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for DocumentFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Yaml => "yaml",
            Self::Json => "json",
        })
    }
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(LineColumn { line, column }) => write!(
                f,
                "{} document, line {line}, column {column}: {}",
                self.format, self.message
            ),
            None => write!(f, "{} document: {}", self.format, self.message),
        }
    }
}

impl ScoringModel {
    /// Reads a model from YAML; comments and key order are the writer's business.
    pub fn from_yaml(text: &str) -> Result<Self, DocumentError> {
        serde_saphyr::from_str(text).map_err(|error| yaml_error(&error))
    }

    /// Writes the model as YAML (without the comments a hand-written file may have had).
    pub fn to_yaml(&self) -> Result<String, DocumentError> {
        serde_saphyr::to_string(self).map_err(|error| DocumentError {
            format: DocumentFormat::Yaml,
            location: None,
            message: error.to_string(),
        })
    }

    /// Reads a model from JSON.
    pub fn from_json(text: &str) -> Result<Self, DocumentError> {
        serde_json::from_str(text).map_err(|error| json_error(&error))
    }

    /// Reads a model from a document of either notation: JSON when it starts with `{` (JSON
    /// is also YAML, but the JSON parser's messages fit JSON better), YAML otherwise.
    pub fn from_document(text: &str) -> Result<Self, DocumentError> {
        if text.trim_start().starts_with('{') {
            Self::from_json(text)
        } else {
            Self::from_yaml(text)
        }
    }

    /// Writes the model as indented JSON.
    pub fn to_json(&self) -> Result<String, DocumentError> {
        serde_json::to_string_pretty(self).map_err(|error| json_error(&error))
    }
}

/// The two default models, existing customers first: what the server publishes on first start.
pub fn default_models() -> Result<[ScoringModel; 2], DocumentError> {
    Ok([
        ScoringModel::from_yaml(DEFAULT_EXISTING)?,
        ScoringModel::from_yaml(DEFAULT_PROSPECTS)?,
    ])
}

fn yaml_error(error: &serde_saphyr::Error) -> DocumentError {
    let plain = error.without_snippet();
    let message = serde_saphyr::DefaultMessageFormatter.format_message(plain);
    DocumentError {
        format: DocumentFormat::Yaml,
        location: plain.location().map(|at| LineColumn {
            line: at.line(),
            column: at.column(),
        }),
        message: printable(&message),
    }
}

fn json_error(error: &serde_json::Error) -> DocumentError {
    let full = error.to_string();
    let (location, message) = match (error.line(), error.column()) {
        (0, _) => (None, full),
        (line, column) => {
            let suffix = format!(" at line {line} column {column}");
            let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
            let location = LineColumn {
                line: u64::try_from(line).unwrap_or(u64::MAX),
                column: u64::try_from(column).unwrap_or(u64::MAX),
            };
            (Some(location), message)
        }
    };
    DocumentError {
        format: DocumentFormat::Json,
        location,
        message,
    }
}

/// A parser's message may quote the document; control characters are escaped so the message
/// stays one line in a log or a terminal.
fn printable(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::domain::scoring::fixture::model;

    /// The 1-based number of the first line of `text` that contains `needle`.
    fn line_of(text: &str, needle: &str) -> u64 {
        let index = text.lines().position(|line| line.contains(needle)).unwrap();
        u64::try_from(index + 1).unwrap()
    }

    #[test]
    fn a_misspelt_field_in_yaml_is_named_with_its_line_and_column() {
        let typo = DEFAULT_EXISTING.replacen("weight_percent: 15", "weight: 15", 1);
        let line = line_of(&typo, "weight: 15");
        let error = ScoringModel::from_yaml(&typo).unwrap_err();
        assert_eq!(error.format, DocumentFormat::Yaml);
        assert_eq!(error.location, Some(LineColumn { line, column: 5 }));
        assert!(
            error.message.starts_with("unknown field `weight`"),
            "{error}"
        );
        assert!(
            error.to_string().starts_with(&format!(
                "yaml document, line {line}, column 5: unknown field"
            )),
            "{error}"
        );
    }

    #[test]
    fn a_document_is_read_as_json_when_it_starts_with_a_brace() {
        let model = ScoringModel::from_yaml(DEFAULT_EXISTING).unwrap();
        let json = model.to_json().unwrap();
        assert_eq!(
            ScoringModel::from_document(&format!("\n  {json}")).unwrap(),
            model
        );
        assert_eq!(
            ScoringModel::from_document(DEFAULT_EXISTING).unwrap(),
            model
        );
        let error = ScoringModel::from_document(" {").unwrap_err();
        assert_eq!(error.format, DocumentFormat::Json);
    }

    #[test]
    fn a_broken_yaml_structure_is_reported_where_it_breaks() {
        let broken = "name: models/x\nversion: \"1\"\ncriteria: [\n";
        let error = ScoringModel::from_yaml(broken).unwrap_err();
        assert!(error.location.is_some(), "{error}");
        assert!(!error.message.is_empty());
    }

    #[test]
    fn a_number_where_a_band_needs_one_names_the_line() {
        let wrong = DEFAULT_PROSPECTS.replacen("points: 35", "points: many", 1);
        let line = line_of(&wrong, "points: many");
        let error = ScoringModel::from_yaml(&wrong).unwrap_err();
        assert_eq!(error.location.map(|at| at.line), Some(line), "{error}");
        assert!(error.message.contains("many"), "{error}");
    }

    #[test]
    fn a_json_syntax_error_is_named_with_its_line_without_repeating_it() {
        let json = model().to_json().unwrap();
        let broken = json.replacen("\"weight_percent\": 30", "\"weight_percent\": thirty", 1);
        let line = line_of(&broken, "thirty");
        let error = ScoringModel::from_json(&broken).unwrap_err();
        assert_eq!(error.format, DocumentFormat::Json);
        assert_eq!(error.location.map(|at| at.line), Some(line));
        assert!(!error.message.contains(" at line "), "{error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("json document, line {line}, ")),
            "{error}"
        );
    }

    #[test]
    fn the_test_model_survives_both_document_forms() {
        let yaml = model().to_yaml().unwrap();
        assert_eq!(ScoringModel::from_yaml(&yaml).unwrap(), model());
        let json = model().to_json().unwrap();
        assert_eq!(ScoringModel::from_json(&json).unwrap(), model());
    }

    #[test]
    fn control_characters_in_a_message_are_escaped() {
        assert_eq!(printable("bad\nvalue\t!"), "bad\\nvalue\\t!");
    }
}
