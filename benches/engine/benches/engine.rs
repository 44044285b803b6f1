//! custgrade's scoring engine against GoRules' zen-engine, on the same book of customers of the
//! default `existing-customers` model: custgrade's score alone, its full assessment with the
//! rationale, and zen evaluating the same model written as a JDM decision graph. Before timing
//! it checks that the book reaches every band, entry, missing-input policy, knock-out and grade,
//! and that zen and custgrade give every customer the same score and grade. After criterion's
//! own report it prints the figures per customer, against each other and against the targets.
//!
//! Run with `cargo bench -p custgrade-engine-bench`.

use std::{
    hint::black_box,
    path::{Path, PathBuf},
    sync::atomic::Ordering,
    time::{Duration, SystemTime},
};

use criterion::{Criterion, Throughput};
use custgrade::domain::scoring::{Locale, ScoringModel, assess, default_models, score};
use custgrade_engine_bench::{book, disagreements, jdm};
use futures::executor::block_on;

/// Customers in the book: a few thousand, so every path of the model is reached many times.
const CUSTOMERS: usize = 4096;
const GROUP: &str = "engine";
const SCORE: &str = "custgrade-score";
const ASSESS: &str = "custgrade-assess";
const ZEN: &str = "zen-engine";
/// The targets of issue 6, in nanoseconds per customer, and the lead over zen.
const SCORE_TARGET_NS: f64 = 1_000.0;
const ASSESS_TARGET_NS: f64 = 10_000.0;
const LEAD_OVER_ZEN: f64 = 10.0;

fn main() {
    let output = criterion_directory();
    let mut criterion = Criterion::default()
        .output_directory(&output)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();
    let started = SystemTime::now();
    let model = existing_customers();
    bench(&mut criterion, &model);
    criterion.final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` runs each routine once and does not.
    if std::env::args().any(|arg| arg == "--bench") {
        summary(&output, started, &model);
    }
}

fn existing_customers() -> ScoringModel {
    match default_models() {
        Ok([existing, _]) => existing,
        Err(error) => panic!("the default models do not read: {error}"),
    }
}

fn bench(criterion: &mut Criterion, model: &ScoringModel) {
    let book = book::book(model, CUSTOMERS)
        .unwrap_or_else(|error| panic!("the generated figures do not read: {error}"));
    let gaps = book::coverage_gaps(model, &book);
    assert!(gaps.is_empty(), "the book does not reach {gaps:?}");
    // Our graph never reads `$nodes`, so zen need not copy every node's output into it.
    zen_engine::ZEN_CONFIG
        .nodes_in_context
        .store(false, Ordering::Relaxed);
    let decision = jdm::decision(model).unwrap_or_else(|error| panic!("{error}"));
    let differences = disagreements(model, &decision, &book);
    assert!(
        differences.is_empty(),
        "zen and custgrade disagree on {} customers, first {:?}",
        differences.len(),
        differences.first()
    );
    let requests: Vec<_> = book
        .iter()
        .map(|snapshot| jdm::context(model, &snapshot.figures))
        .collect();
    for request in requests.iter().take(64) {
        let before = request.to_value();
        let twice = [(); 2].map(|()| block_on(decision.evaluate(request.clone())).is_ok());
        assert!(
            twice == [true; 2] && request.to_value() == before,
            "zen changed a request it was given, so requests cannot be reused"
        );
    }

    let mut group = criterion.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(CUSTOMERS as u64));
    group.bench_function(SCORE, |bencher| {
        bencher.iter(|| {
            for snapshot in &book {
                black_box(score(model, black_box(&snapshot.figures)));
            }
        });
    });
    group.bench_function(ASSESS, |bencher| {
        bencher.iter(|| {
            for snapshot in &book {
                black_box(assess(model, black_box(snapshot), Locale::En));
            }
        });
    });
    group.bench_function(ZEN, |bencher| {
        bencher.iter(|| {
            block_on(async {
                for request in &requests {
                    // A clone of a request is a reference count, not a copy.
                    let response = decision.evaluate(black_box(request.clone())).await;
                    black_box(response.is_ok());
                }
            });
        });
    });
    group.finish();
}

/// Where criterion writes, as it would choose by itself: `<target>/criterion`.
fn criterion_directory() -> PathBuf {
    std::env::var_os("CRITERION_HOME").map_or_else(
        || {
            let target_tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
            target_tmp.parent().unwrap_or(target_tmp).join("criterion")
        },
        PathBuf::from,
    )
}

/// Criterion's estimate of one iteration (the whole book), in nanoseconds per customer; `None`
/// when the benchmark did not run this time (filtered out).
fn per_customer_ns(output: &Path, started: SystemTime, function: &str) -> Option<f64> {
    let path = output
        .join(GROUP)
        .join(function)
        .join("new")
        .join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|meta| meta.modified())
        .is_ok_and(|modified| modified >= started);
    if !fresh {
        return None;
    }
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let estimate = ["slope", "mean"]
        .iter()
        .find_map(|kind| estimates.get(kind)?.get("point_estimate")?.as_f64())?;
    Some(estimate / CUSTOMERS as f64)
}

fn summary(output: &Path, started: SystemTime, model: &ScoringModel) {
    let figure = |function| per_customer_ns(output, started, function);
    let (score_ns, assess_ns, zen_ns) = (figure(SCORE), figure(ASSESS), figure(ZEN));
    let met = |yes: bool| if yes { "met" } else { "NOT met" };
    println!();
    println!(
        "summary: {CUSTOMERS} customers of {}, time per customer",
        model.name
    );
    if let Some(ns) = score_ns {
        println!(
            "  custgrade score alone      {ns:>9.0} ns  target under {SCORE_TARGET_NS:.0} ns: {}",
            met(ns < SCORE_TARGET_NS)
        );
    }
    if let Some(ns) = assess_ns {
        println!(
            "  custgrade full rationale   {ns:>9.0} ns  target under {ASSESS_TARGET_NS:.0} ns: {}",
            met(ns < ASSESS_TARGET_NS)
        );
    }
    if let Some(ns) = zen_ns {
        println!("  zen-engine score and grade {ns:>9.0} ns  (baseline, same customers)");
    }
    if let (Some(ours), Some(zen)) = (score_ns, zen_ns) {
        let ratio = zen / ours;
        println!(
            "  score: {ratio:.1}x zen-engine's evaluations/s, target at least {LEAD_OVER_ZEN:.0}x: {}",
            met(ratio >= LEAD_OVER_ZEN)
        );
    }
    if let (Some(ours), Some(zen)) = (assess_ns, zen_ns) {
        println!(
            "  full rationale: {:.1}x zen-engine's evaluations/s (zen gives no rationale)",
            zen / ours
        );
    }
}
