//! photon from an MLIR pass manager: `examples/mlir`'s driver, built with
//! CMake against Debian's MLIR and the static library, runs a real
//! threaded pipeline (`inline`, then `canonicalize`, `cse`, `sccp`,
//! `loop-invariant-code-motion` and the driver's own `photon-fail-marked`
//! nested on `func.func`) with one `photon::mlir::PassMetrics` added. The
//! tests check what an on-call engineer reads: one duration observation per
//! pass run (a function pass runs once per function), one failure for the
//! failing pass and an error compile, and the pass spans in a real OTLP
//! receiver under the compile span, across MLIR's worker threads.
//!
//! Needs `libmlir-19-dev mlir-19-tools llvm-19-dev` (`.ci/run` installs them)
//! and `cargo build -p photon-metrics-ffi -p photon-mixed-runtime`.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
use support::exposition::value;
use support::native::{cmake_build_at, profile_dir, promtool_check, static_library, Running};
use support::rotel::{Rotel, SpanRecord};
use support::stack::root;

const MLIR_CMAKE: &str = "/usr/lib/llvm-19/lib/cmake/mlir/MLIRConfig.cmake";
/// The passes the driver nests on func.func, in order.
const FUNCTION_PASSES: [&str; 5] = [
    "canonicalize",
    "cse",
    "sccp",
    "loop-invariant-code-motion",
    "photon-fail-marked",
];

/// The driver, built once per test run into the target directory (CMake
/// rebuilds it when its sources or the static library change).
fn build_driver() -> PathBuf {
    static DRIVER: OnceLock<PathBuf> = OnceLock::new();
    DRIVER
        .get_or_init(|| {
            assert!(
                Path::new(MLIR_CMAKE).exists(),
                "{MLIR_CMAKE} is missing: apt-get install libmlir-19-dev mlir-19-tools llvm-19-dev"
            );
            static_library(
                "photon_metrics_ffi",
                &["photon-metrics/src", "photon-metrics-ffi/src"],
            );
            let build = profile_dir().join("examples-mlir");
            cmake_build_at("examples/mlir", &build, &[]);
            build.join("photon_mlir_driver")
        })
        .clone()
}

/// The symbols of the module's `func.func`s, read from the file the driver parses.
fn functions(file: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    text.split("func.func @")
        .skip(1)
        .map(|rest| rest.split('(').next().unwrap().to_string())
        .collect()
}

fn spans_until(rotel: &Rotel, at_least: usize) -> Vec<SpanRecord> {
    support::wait_for(
        &format!("{at_least} spans at rotel"),
        Duration::from_secs(30),
        || {
            let spans = rotel.spans();
            (spans.len() >= at_least).then_some(spans)
        },
    )
}

fn attribute<'a>(span: &'a SpanRecord, key: &str) -> Option<&'a str> {
    span.attributes
        .get(key)
        .and_then(|v| v.first())
        .map(String::as_str)
}

fn run(driver: &Path, file: &str, rotel: &Rotel) -> Running {
    run_with(driver, file, rotel, &[])
}

fn run_with(driver: &Path, file: &str, rotel: &Rotel, flags: &[&str]) -> Running {
    let path = root().join(file);
    let mut args = vec![path.to_str().unwrap(), "127.0.0.1:0"];
    args.extend(flags);
    Running::start_with(
        driver,
        &args,
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", rotel.grpc),
        )],
    )
}

#[test]
fn every_pass_run_of_a_threaded_pipeline_is_counted_and_traced_under_the_compile() {
    let driver = build_driver();
    let funcs = functions("examples/mlir/pipeline.mlir");
    assert!(funcs.len() >= 4, "{funcs:?}");
    let rotel = Rotel::start();
    let running = run(&driver, "examples/mlir/pipeline.mlir", &rotel);
    assert!(
        running.output.contains("result: success"),
        "{}",
        running.output
    );
    let threads: usize = running
        .output
        .lines()
        .find_map(|l| l.strip_prefix("threads: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(threads >= 2, "MLIR threading is on: {}", running.output);

    let (body, samples) = running.scrape();
    promtool_check(&body);
    assert!(body.contains("# TYPE photon_pass_duration_seconds histogram"));
    assert!(body.contains("# HELP photon_pass_failures_total "));
    let runs = |pass: &str| runs_of(&samples, pass);
    // inline runs once on the module; each function pass once per function.
    assert_eq!(runs("inline"), Some(1.0), "{body}");
    for pass in FUNCTION_PASSES {
        assert_eq!(runs(pass), Some(funcs.len() as f64), "{pass}: {body}");
    }
    // The nested pipeline is a span, not a pass of its own in the metrics.
    let passes: BTreeSet<&str> = samples
        .iter()
        .filter(|s| s.name == "photon_pass_duration_seconds_count")
        .filter_map(|s| s.labels.get("pass").map(String::as_str))
        .collect();
    assert_eq!(passes.len(), FUNCTION_PASSES.len() + 1, "{passes:?}");
    // Pass time is inside the compile's time.
    let pass_seconds: f64 = samples
        .iter()
        .filter(|s| s.name == "photon_pass_duration_seconds_sum")
        .map(|s| s.value)
        .sum();
    let compile_seconds = samples
        .iter()
        .find(|s| s.name == "photon_compilation_duration_seconds_sum")
        .unwrap()
        .value;
    assert!(pass_seconds > 0.0, "{body}");
    assert!(
        pass_seconds <= compile_seconds * threads as f64,
        "{pass_seconds} s of passes in a {compile_seconds} s compile"
    );
    assert!(
        !body.contains("photon_pass_failures_total{"),
        "no pass failed: {body}"
    );
    assert_eq!(
        value(
            &samples,
            "photon_compilations_total",
            &[
                ("target", "mzi-64x64"),
                ("status", "success"),
                ("model_type", "mlir-module")
            ]
        ),
        Some(1.0),
        "{body}"
    );
    drop(running); // stdin closed: the driver flushes its spans and exits

    let expected = 1 + 1 + 1 + FUNCTION_PASSES.len() * funcs.len();
    let spans = spans_until(&rotel, expected);
    assert_eq!(spans.len(), expected, "{spans:#?}");
    let compile: Vec<_> = spans.iter().filter(|s| s.name == "compile").collect();
    assert_eq!(compile.len(), 1, "{spans:#?}");
    let compile = compile[0];
    assert!(spans.iter().all(|s| s.trace_id == compile.trace_id));
    assert!(spans.iter().all(|s| s.service == "photon-mlir-driver"));
    let one = |name: &str| {
        let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
        assert_eq!(found.len(), 1, "{name}: {spans:#?}");
        found[0]
    };
    let inline = one("inline");
    assert_eq!(inline.parent_id, compile.id, "{inline:#?}");
    assert_eq!(attribute(inline, "op"), Some("builtin.module"));
    assert_eq!(attribute(inline, "pass"), Some("inline"));
    let pipeline = one("func.func pipeline");
    assert_eq!(pipeline.parent_id, compile.id, "{pipeline:#?}");
    assert_eq!(attribute(pipeline, "op"), Some("builtin.module"));
    assert_eq!(attribute(pipeline, "pass"), None, "{pipeline:#?}");

    let mut worker_threads = BTreeSet::new();
    for pass in FUNCTION_PASSES {
        let runs: Vec<_> = spans.iter().filter(|s| s.name == pass).collect();
        let symbols: BTreeSet<String> = runs
            .iter()
            .map(|s| attribute(s, "symbol").unwrap_or("").to_string())
            .collect();
        assert_eq!(symbols, funcs, "{pass} ran once on each function");
        for span in runs {
            assert_eq!(span.parent_id, pipeline.id, "{span:#?}");
            assert_eq!(attribute(span, "op"), Some("func.func"));
            assert_eq!(attribute(span, "pass"), Some(pass));
            assert_eq!(attribute(span, "target"), Some("mzi-64x64"));
            assert_ne!(span.status, "STATUS_CODE_ERROR", "{span:#?}");
            worker_threads.insert(attribute(span, "thread.id").unwrap().to_string());
        }
    }
    // Function passes ran on MLIR's worker threads, not on the thread that
    // holds the compile span: their parent came through PipelineParentInfo.
    let main_thread = attribute(compile, "thread.id").unwrap();
    assert!(
        !worker_threads.contains(main_thread),
        "function passes on the compile's thread {main_thread}: {worker_threads:?}"
    );
    eprintln!(
        "figures: {} pass spans on {} worker threads",
        expected - 3,
        worker_threads.len()
    );
}

#[test]
fn a_failing_pass_counts_one_failure_and_an_error_compile() {
    let driver = build_driver();
    let rotel = Rotel::start();
    let running = run(&driver, "examples/mlir/failing.mlir", &rotel);
    assert!(
        running.output.contains("result: failure"),
        "{}",
        running.output
    );
    let (body, samples) = running.scrape();
    promtool_check(&body);
    let failures = |pass: &str| {
        value(
            &samples,
            "photon_pass_failures_total",
            &[("pass", pass), ("target", "mzi-64x64")],
        )
    };
    assert_eq!(failures("photon-fail-marked"), Some(1.0), "{body}");
    assert_eq!(
        body.matches("photon_pass_failures_total{").count(),
        1,
        "only the failing pass: {body}"
    );
    // The failed run is timed too.
    assert!(
        runs_of(&samples, "photon-fail-marked") >= Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(
            &samples,
            "photon_compilations_total",
            &[
                ("target", "mzi-64x64"),
                ("status", "error"),
                ("model_type", "mlir-module")
            ]
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(
            &samples,
            "photon_compilation_errors_total",
            &[("target", "mzi-64x64"), ("error_kind", "PassFailed")]
        ),
        Some(1.0),
        "{body}"
    );
    drop(running);

    let spans = support::wait_for("the compile span at rotel", Duration::from_secs(30), || {
        let spans = rotel.spans();
        spans.iter().any(|s| s.name == "compile").then_some(spans)
    });
    let failed: BTreeSet<_> = spans
        .iter()
        .filter(|s| s.status == "STATUS_CODE_ERROR")
        .map(|s| (s.name.as_str(), attribute(s, "symbol")))
        .collect();
    // The pass, the nested pipeline it failed and the compile are errors.
    assert_eq!(
        failed,
        BTreeSet::from([
            ("photon-fail-marked", Some("unsupported")),
            ("func.func pipeline", None),
            ("compile", None),
        ]),
        "{spans:#?}"
    );
}

fn runs_of(samples: &[support::exposition::Sample], pass: &str) -> Option<f64> {
    value(
        samples,
        "photon_pass_duration_seconds_count",
        &[("pass", pass), ("target", "mzi-64x64")],
    )
}

#[test]
fn without_spans_the_passes_are_still_counted_and_the_compile_is_the_one_span() {
    let driver = build_driver();
    let funcs = functions("examples/mlir/pipeline.mlir");
    let rotel = Rotel::start();
    let running = run_with(
        &driver,
        "examples/mlir/pipeline.mlir",
        &rotel,
        &["--no-spans"],
    );
    assert!(running.output.contains("result: success"));
    let (body, samples) = running.scrape();
    promtool_check(&body);
    assert_eq!(runs_of(&samples, "inline"), Some(1.0), "{body}");
    for pass in FUNCTION_PASSES {
        assert_eq!(
            runs_of(&samples, pass),
            Some(funcs.len() as f64),
            "{pass}: {body}"
        );
    }
    drop(running);
    spans_until(&rotel, 1);
    // Give a late batch the time to arrive before concluding there is none.
    std::thread::sleep(Duration::from_secs(2));
    let spans = rotel.spans();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["compile"], "{spans:#?}");
}
