//! The exporter's life: records made before it exists, a busy port, a second
//! install — through the public API only.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::export::ExportError;
use photon_metrics::labels::{ModelType, Status, Target};
use photon_metrics::{compiler, runtime};

#[test]
fn records_after_install_reach_the_exporter_and_errors_are_values() {
    let target = Target::new("ring-8").unwrap();
    let model = ModelType::new("mlp").unwrap();

    // Before any recorder: these go to the no-op recorder.
    compiler::record_compilation(target, Status::Success, model);
    runtime::set_queue_depth(99);

    // A busy port is a clear error, and nothing is installed.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap();
    let err = PrometheusExporterBuilder::new()
        .listen(busy_addr)
        .install()
        .unwrap_err();
    assert!(
        matches!(err, ExportError::Bind { addr, .. } if addr == busy_addr),
        "{err}"
    );
    assert!(err.to_string().contains(&busy_addr.to_string()), "{err}");

    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        // Below, the served body is compared with render() byte for byte;
        // process samples (CPU, RSS) would differ between the two renders.
        // Default sampling is tested in process_metrics.rs.
        .process_metrics(false)
        .install()
        .expect("the first good install succeeds after a failed one");

    compiler::record_compilation(target, Status::Success, model);
    compiler::record_compilation(target, Status::Success, model);
    runtime::set_queue_depth(5);

    // Served over HTTP on the bound address.
    let url = format!("http://{}/metrics", exporter.local_addr().unwrap());
    let (status, body) = support::http_get(&url).unwrap();
    assert_eq!(status, 200);
    assert!(
        body.contains(
            r#"photon_compilations_total{target="ring-8",status="success",model_type="mlp"} 2"#
        ),
        "later records must reach the exporter:\n{body}"
    );
    assert!(body.contains("photon_queue_depth 5"), "{body}");
    assert!(
        body.contains("# HELP photon_compilations_total Compilations finished"),
        "{body}"
    );
    assert_eq!(
        body,
        exporter.render(),
        "the listener serves what render() returns"
    );

    // A second install is refused without disturbing the first.
    let again = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap_err();
    assert!(matches!(again, ExportError::AlreadyInstalled), "{again}");
    runtime::set_queue_depth(6);
    assert!(exporter.render().contains("photon_queue_depth 6"));
}
