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
