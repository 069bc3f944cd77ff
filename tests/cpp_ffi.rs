//! photon from C++: the CMake example in `examples/cpp/` is configured and
//! built with the system cmake and g++ against the static library, run, and
//! its `/metrics` scraped (promtool clean, the counts it recorded). Then a
//! mixed process: a C++ `main` and a Rust runtime in one static library
//! record into the same families through one exporter, counts exact.
//!
//! The static libraries come from `cargo build -p photon-metrics-ffi -p
//! photon-mixed-runtime` (`.ci/run` runs it before the tests).

mod support;

use std::path::PathBuf;
use support::exposition::value;
use support::native::{cmake_build, promtool_check, static_library, Running};
use support::rotel::Rotel;
use support::TempDir;

/// Configures and builds examples/cpp with CMake into a fresh directory.
fn build_examples() -> (TempDir, PathBuf) {
    static_library(
        "photon_metrics_ffi",
        &["photon-metrics/src", "photon-metrics-ffi/src"],
    );
    static_library(
        "photon_mixed_runtime",
        &[
            "photon-metrics/src",
            "photon-metrics-ffi/src",
            "examples/cpp/mixed-runtime/src",
        ],
    );
    cmake_build("examples/cpp", &[])
}

#[test]
fn a_cpp_compiler_pass_records_into_the_catalog_and_serves_it() {
    let (_dir, build) = build_examples();
    let pass = Running::start(&build.join("photon_pass"), &["127.0.0.1:0", "100"]);
    // The first scrape after the pass retired its decommissioned device
    // serves that device's series once more, with their final values.
    let (served_once, _) = pass.scrape();
    assert!(
        served_once
            .lines()
            .any(|l| l.starts_with("photon_device_status{")
                && l.contains("device_id=\"opu-decommissioned\"")
                && l.ends_with(" 0")),
        "{served_once}"
    );
    let (body, samples) = pass.scrape();
    promtool_check(&body);

    let compilations = |status: &str| {
        value(
            &samples,
            "photon_compilations_total",
            &[
                ("target", "mzi-64x64"),
                ("status", status),
                ("model_type", "resnet50"),
                ("service", "photon-pass"),
            ],
        )
    };
    // 100 runs, every tenth throws: 90 successes; 10 exceptions + 1 fail().
    assert_eq!(compilations("success"), Some(90.0), "{body}");
    assert_eq!(compilations("error"), Some(11.0), "{body}");
    let errors = |kind: &str| {
        value(
            &samples,
            "photon_compilation_errors_total",
            &[("target", "mzi-64x64"), ("error_kind", kind)],
        )
    };
    assert_eq!(
        errors("exception"),
        Some(10.0),
        "an exception records error_kind=exception"
    );
    assert_eq!(errors("ShapeMismatch"), Some(1.0));
    assert_eq!(
        value(
            &samples,
            "photon_cache_hits_total",
            &[("target", "mzi-64x64")]
        ),
        Some(50.0)
    );
    assert_eq!(
        value(
            &samples,
            "photon_cache_misses_total",
            &[("target", "mzi-64x64")]
        ),
        Some(50.0)
    );
    // Every timed pass has a duration, whatever its outcome.
    assert_eq!(
        value(
            &samples,
            "photon_compilation_duration_seconds_count",
            &[("target", "mzi-64x64"), ("model_size", "large")],
        ),
        Some(100.0),
        "{body}"
    );
    assert_eq!(
        value(
            &samples,
            "photon_memory_usage_bytes",
            &[("target", "mzi-64x64"), ("memory", "peak")]
        ),
        Some(3.0 * (1u64 << 30) as f64)
    );
    // Ten inference calls: all timed, nine counted as ops, one runtime error.
    assert_eq!(
        value(
            &samples,
            "photon_inference_latency_seconds_count",
            &[("device_type", "simulator")]
        ),
        Some(10.0)
    );
    assert_eq!(
        value(
            &samples,
            "photon_inference_ops_total",
            &[("device_type", "simulator")]
        ),
        Some(576.0)
    );
    assert_eq!(
        value(
            &samples,
            "photon_runtime_errors_total",
            &[("error_kind", "exception")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "photon_active_sessions", &[]),
        Some(0.0),
        "every session released"
    );
    // The rejected empty label recorded nothing under an empty target.
    assert!(!body.contains("target=\"\""), "{body}");
    // The decommissioned device was retired once (the second call had
    // nothing to do) and its kept copy recorded nothing.
    assert!(pass.output.contains("retired: 1 0"), "{}", pass.output);
    assert!(!body.contains("opu-decommissioned"), "{body}");
    assert_eq!(
        value(
            &samples,
            "photon_metrics_stale_records_total",
            &[("label", "device_id")]
        ),
        Some(1.0)
    );
}

#[test]
fn cpp_and_rust_in_one_process_record_into_the_same_families() {
    let (_dir, build) = build_examples();
    let mixed = Running::start(&build.join("photon_mixed"), &["127.0.0.1:0", "7", "5", "4"]);
    let (body, samples) = mixed.scrape();
    promtool_check(&body);
    // 7 from C++ and 5 from Rust, one series.
    assert_eq!(
        value(
            &samples,
            "photon_compilations_total",
            &[
                ("target", "mzi-64x64"),
                ("status", "success"),
                ("model_type", "resnet50")
            ],
        ),
        Some(12.0),
        "{body}"
    );
    // 4 Rust calls of 10 ops, and 100 ops recorded from C++.
    assert_eq!(
        value(
            &samples,
            "photon_inference_ops_total",
            &[("device_type", "simulator")]
        ),
        Some(140.0),
        "{body}"
    );
    assert_eq!(
        value(
            &samples,
            "photon_inference_latency_seconds_count",
            &[("device_type", "simulator")],
        ),
        Some(4.0)
    );
    assert_eq!(
        body.matches("# TYPE photon_compilations_total counter")
            .count(),
        1
    );
}

#[test]
fn cpp_passes_are_spans_in_a_real_otlp_receiver() {
    let (_dir, build) = build_examples();
    let rotel = Rotel::start();
    let pass = Running::start_with(
        &build.join("photon_pass"),
        &["127.0.0.1:0", "20"],
        &[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", rotel.grpc),
        )],
    );
    drop(pass); // stdin closed: photon::traces::shutdown() flushes, the process exits
    let spans = support::wait_for(
        "31 spans at rotel",
        std::time::Duration::from_secs(20),
        || {
            let spans = rotel.spans();
            (spans.len() >= 31).then_some(spans)
        },
    );
    let serve: Vec<_> = spans.iter().filter(|s| s.name == "serve").collect();
    assert_eq!(serve.len(), 10, "{spans:#?}");
    let lost: Vec<_> = serve
        .iter()
        .filter(|s| s.status == "STATUS_CODE_ERROR")
        .collect();
    assert_eq!(lost.len(), 1, "{serve:#?}");
    assert_eq!(
        lost[0].attributes["device_type"],
        vec!["simulator".to_string()]
    );
    let passes: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "lower-to-photonic")
        .collect();
    assert_eq!(passes.len(), 20, "{spans:#?}");
    assert!(
        spans.iter().all(|s| s.service == "photon-pass"),
        "{spans:#?}"
    );
    // Runs 9 and 19 threw: error spans with error_kind=exception.
    let failed: Vec<_> = passes
        .iter()
        .filter(|s| s.status == "STATUS_CODE_ERROR")
        .collect();
    assert_eq!(failed.len(), 2, "{passes:#?}");
    for span in failed {
        assert_eq!(
            span.attributes["error_kind"],
            vec!["exception".to_string()],
            "{span:#?}"
        );
        assert_eq!(span.attributes["target"], vec!["mzi-64x64".to_string()]);
    }
    let verify = spans.iter().find(|s| s.name == "verify-shapes").unwrap();
    assert_eq!(verify.status, "STATUS_CODE_ERROR", "{verify:#?}");
    assert_eq!(
        verify.attributes["error_kind"],
        vec!["ShapeMismatch".to_string()]
    );
}

#[test]
fn every_catalog_family_is_recordable_by_name_from_cpp() {
    let (_dir, build) = build_examples();
    let every = Running::start(&build.join("every_family"), &["127.0.0.1:0"]);
    // The C++ program knows no family by name but one: it walks the
    // table-driven ABI. Every catalog family must come out of that walk,
    // with its kind, and nothing else.
    let recorded: Vec<(String, String)> = every
        .output
        .lines()
        .filter_map(|l| l.strip_prefix("recorded "))
        .map(|l| {
            let (name, kind) = l.rsplit_once(' ').unwrap();
            (name.to_string(), kind.to_string())
        })
        .collect();
    let catalog: Vec<(String, String)> = photon_metrics::catalog::families()
        .iter()
        .map(|f| (f.name.to_string(), f.kind.as_str().to_string()))
        .collect();
    assert_eq!(recorded, catalog, "{}", every.output);
    assert_eq!(
        every.output.matches("refused: ").count(),
        4,
        "{}",
        every.output
    );
    assert!(
        every
            .output
            .contains("refused: PHOTON_ERR_INVALID_LABEL: no registered family has a label called `no_such_label`"),
        "{}",
        every.output
    );
    assert!(
        every
            .output
            .contains("photon_pass_duration_seconds's label 1 is pass, not target"),
        "{}",
        every.output
    );
    assert!(
        every.output.contains(
            "refused: PHOTON_ERR_UNKNOWN_FAMILY: no family is called `photon_no_such_family_total`"
        ),
        "an unknown family throws photon::UnknownFamilyError with its own code: {}",
        every.output
    );

    let (body, samples) = every.scrape();
    promtool_check(&body);
    // All-zero label values: each closed label's first value, each open
    // label's __overflow__.
    assert_eq!(
        value(
            &samples,
            "photon_compilations_total",
            &[
                ("target", "__overflow__"),
                ("status", "success"),
                ("model_type", "__overflow__")
            ]
        ),
        Some(3.0),
        "{body}"
    );
    assert_eq!(
        value(
            &samples,
            "photon_device_status",
            &[("device_id", "__overflow__"), ("device_type", "mzi")]
        ),
        Some(7.0)
    );
    assert_eq!(
        value(
            &samples,
            "photon_inference_latency_seconds_count",
            &[("device_type", "mzi")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&samples, "photon_queue_depth", &[]), Some(7.0));
    // The typed wrapper's two observations, and not the refused `inc`.
    let passes = [("pass", "canonicalize"), ("target", "mzi-64x64")];
    assert_eq!(
        value(&samples, "photon_pass_duration_seconds_count", &passes),
        Some(2.0)
    );
    assert_eq!(value(&samples, "photon_pass_failures_total", &passes), None);
    // Labels by name (photon::LabelValue), an open and a closed one; the
    // retired pass value's series is served once more with its final count.
    assert_eq!(
        value(
            &samples,
            "photon_compilations_total",
            &[
                ("target", "mzi-64x64"),
                ("status", "cancelled"),
                ("model_type", "resnet-by-name")
            ]
        ),
        Some(1.0),
        "{body}"
    );
    let by_name = [("pass", "cse-by-name"), ("target", "mzi-64x64")];
    assert_eq!(
        value(&samples, "photon_pass_duration_seconds_count", &by_name),
        Some(1.0),
        "{body}"
    );
    let (body, samples) = every.scrape();
    assert_eq!(
        value(&samples, "photon_pass_duration_seconds_count", &by_name),
        None,
        "retired: {body}"
    );
}

#[test]
fn a_cpp_parent_forking_eight_compile_workers_is_served_as_one_service() {
    let (_dir, build) = build_examples();
    let shared = TempDir::new("cpp-compile-farm");
    let farm = Running::start_with(
        &build.join("compile_workers"),
        &["127.0.0.1:0", "8", "250"],
        &[(
            "PHOTON_METRICS_SHARED_DIR",
            shared.path().display().to_string(),
        )],
    );
    // Every worker has exited (half through _exit after publishing): the
    // parent's /metrics still counts each of their records, once.
    let (body, samples) = farm.scrape();
    promtool_check(&body);
    let compilations = value(
        &samples,
        "photon_compilations_total",
        &[
            ("target", "mzi-64x64"),
            ("status", "success"),
            ("model_type", "resnet50"),
        ],
    );
    assert_eq!(compilations, Some(2000.0), "{body}");
    let durations = value(
        &samples,
        "photon_compilation_duration_seconds_count",
        &[("target", "mzi-64x64"), ("model_size", "small")],
    );
    assert_eq!(durations, Some(2000.0), "{body}");
    // The directory holds the parent's publication and the workers' totals.
    let mut files: Vec<String> = std::fs::read_dir(shared.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".live") || n == "exited")
        .collect();
    files.sort();
    assert_eq!(
        files,
        [format!("{}.live", farm.child.id()), "exited".into()]
    );
}
