//! The second-language check: a Python client generated from `proto/` at run time drives a
//! scenario against the real server. Runs when `CUSTGRADE_TEST_PYTHON` names a Python with
//! `tests/python/requirements.txt` installed (as `.ci/run` sets up).

use crate::helpers::{Backend, optional_env, spawn_app};

#[tokio::test]
async fn a_python_client_generated_from_the_protos_runs_the_scenario() {
    let Some(python) = optional_env("CUSTGRADE_TEST_PYTHON", "the Python client check") else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let target = app.addr.to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg("tests/python/scenario.py")
            .arg(target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
    })
    .await
    .unwrap()
    .expect("the Python interpreter starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python scenario failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(stdout.contains("PASS"), "{stdout}");
}
