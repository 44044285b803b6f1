//! `custgrade model validate FILE`, run as the real binary: the defaults pass, a broken model
//! lists every problem and exits 1, a malformed document names its line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::Path, process::Command};

const EXISTING: &str = include_str!("../models/existing-customers.yaml");

/// Runs `custgrade model validate FILE`: its exit success and standard output.
fn validate(file: &Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_custgrade"))
        .args(["model", "validate"])
        .arg(file)
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn both_default_models_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["models/existing-customers.yaml", "models/prospects.yaml"] {
        let (ok, out) = validate(&root.join(file));
        assert!(ok, "{out}");
        assert!(out.contains("valid: models/"), "{out}");
    }
}

#[test]
fn a_broken_model_lists_every_problem_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    // Two edits: the weights now sum to 105, and a threshold out of order.
    let broken = EXISTING
        .replacen("weight_percent: 25", "weight_percent: 30", 1)
        .replacen("min_score: 70", "min_score: 90", 1);
    assert_ne!(broken, EXISTING, "the edits applied");
    let (ok, out) = validate(&write(&dir, "broken.yaml", &broken));
    assert!(!ok);
    assert!(out.contains("2 problem(s)"), "{out}");
    assert!(out.contains("weights must sum to 100, got 105"), "{out}");
}

#[test]
fn a_malformed_document_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let misspelt = EXISTING.replacen("weight_percent: 25", "weight: 25", 1);
    let line = misspelt
        .lines()
        .position(|text| text.contains("weight: 25"))
        .unwrap()
        + 1;
    let (ok, out) = validate(&write(&dir, "misspelt.yaml", &misspelt));
    assert!(!ok);
    assert!(out.contains(&format!("line {line}")), "{out}");
    assert!(out.contains("unknown field `weight`"), "{out}");
}

#[test]
fn a_json_document_is_read_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let model = custgrade::domain::scoring::ScoringModel::from_yaml(EXISTING).unwrap();
    let json = model.to_json().unwrap();
    let (ok, out) = validate(&write(&dir, "existing.json", &json));
    assert!(ok, "{out}");
}

#[test]
fn a_missing_file_fails_with_a_message() {
    let (ok, out) = validate(Path::new("/nonexistent/model.yaml"));
    assert!(!ok);
    assert!(out.contains("cannot read the file"), "{out}");
}

/// Runs `custgrade model assess MODEL FIGURES --as-of DATE --locale LOCALE`.
fn assess(model: &Path, figures: &Path, locale: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_custgrade"))
        .args(["model", "assess"])
        .arg(model)
        .arg(figures)
        .args(["--as-of", "2026-09-30", "--locale", locale])
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_example_customer_is_graded_a_with_the_hand_computed_total() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (ok, out) = assess(
        &root.join("models/existing-customers.yaml"),
        &root.join("models/examples/existing-customer.json"),
        "en",
    );
    assert!(ok, "{out}");
    // From the bands of models/existing-customers.yaml: 25 + 12 + 18 + 12.75 + 10 + 9 + 3.65.
    assert!(out.contains("90.40"), "{out}");
    assert!(out.contains("2026-09-30"), "{out}");
}

#[test]
fn the_table_can_be_read_in_chinese() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (ok, out) = assess(
        &root.join("models/existing-customers.yaml"),
        &root.join("models/examples/existing-customer.json"),
        "zh-CN",
    );
    assert!(ok, "{out}");
    assert!(out.contains("90.40"), "{out}");
    assert!(
        out.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{out}"
    );
}

#[test]
fn figures_that_are_not_json_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (ok, out) = assess(
        &root.join("models/existing-customers.yaml"),
        &write(&dir, "figures.json", "sales: lots"),
        "en",
    );
    assert!(!ok);
    assert!(out.contains("figures.json"), "{out}");
}
