//! The quickstart installs the exporter and no `tracing` subscriber; the
//! warning the README promises when a label reaches its cap must still
//! reach that user, once, on stderr. The user's program runs as a child
//! process (this test binary again, with `PHOTON_WARNING_CHILD` set), so
//! its stderr is the process's own and no subscriber of a test is around.

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{set_cap, ModelType, Status, Target};
use std::process::Command;

const CHILD: &str = "PHOTON_WARNING_CHILD";

/// The user's program: the quickstart's exporter, then more targets than
/// the cap allows, recorded twice over.
#[test]
fn quickstart_program() {
    if std::env::var_os(CHILD).is_none() {
        return; // run only as the child of the test below
    }
    set_cap(photon_metrics::labels::Target::LABEL, 2).unwrap();
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    let model = ModelType::new("resnet").unwrap();
    for _ in 0..2 {
        for name in ["mzi-a", "mzi-b", "mzi-c", "mzi-d", "mzi-e"] {
            let target = Target::new(name).unwrap();
            photon_metrics::compiler::record_compilation(target, Status::Success, model);
        }
    }
    assert!(exporter
        .render()
        .contains("photon_metrics_label_overflow_total{label=\"target\"}"));
    println!("child done");
}

#[test]
fn a_cap_warning_reaches_stderr_once_when_no_subscriber_is_installed() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "quickstart_program",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("child done"),
        "the child failed:\n{stdout}\n{stderr}"
    );
    let warning = "label `target` reached its cardinality cap of 2";
    assert_eq!(
        stderr.matches(warning).count(),
        1,
        "the cap warning must be on stderr exactly once:\n{stderr}"
    );
    let line = stderr.lines().find(|l| l.contains(warning)).unwrap();
    assert!(line.starts_with("WARN "), "{line}");
    assert!(line.contains("__overflow__"), "{line}");
}
