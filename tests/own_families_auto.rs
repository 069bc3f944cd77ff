//! A `family!` that nothing registers and nothing records is still in the
//! first scrape: install collects every declaration of the program.

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::{catalog, family, Label};

/// A closed label of this binary's own.
#[derive(Label, Clone, Copy, Debug, PartialEq, Eq)]
#[label(name = "lane")]
enum Lane {
    Fast,
    Slow,
}

family! {
    /// Requests per lane, never registered by hand.
    #[family(name = "auto_requests_total")]
    static REQUESTS: Counter<(Lane,)>;

    /// Bytes in flight, never registered by hand.
    #[family(name = "auto_in_flight_bytes", unit = bytes)]
    static IN_FLIGHT: Gauge<()>;
}

#[test]
fn every_declared_family_is_in_the_first_scrape_without_a_call() {
    assert!(
        application_families().is_empty(),
        "nothing registered before install"
    );
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    let text = exporter.render();
    assert!(
        text.contains("# TYPE auto_requests_total counter\n"),
        "{text}"
    );
    assert!(
        text.contains("# HELP auto_requests_total Requests per lane, never registered by hand.\n")
    );
    assert!(
        text.contains("auto_requests_total{lane=\"fast\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("auto_requests_total{lane=\"slow\"} 0\n"),
        "{text}"
    );
    assert!(text.contains("auto_in_flight_bytes 0\n"), "{text}");
    // Recording afterwards lands in those series.
    REQUESTS.inc((Lane::Slow,));
    IN_FLIGHT.set((), 512.0);
    let text = exporter.render();
    assert!(
        text.contains("auto_requests_total{lane=\"slow\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("auto_in_flight_bytes 512\n"), "{text}");
    let names: Vec<&str> = application_families().iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        ["auto_in_flight_bytes", "auto_requests_total"],
        "name order"
    );
    let _ = Lane::Fast;
}

/// The registered families an application declared (the catalog's come first).
fn application_families() -> Vec<&'static photon_metrics::FamilySpec> {
    catalog::families()
        .into_iter()
        .filter(|f| f.subsystem == catalog::Subsystem::Application)
        .collect()
}
