//! A cardinality attack through the public API: a million distinct values
//! for each open label. Every family stays within its label's cap plus
//! `__overflow__`, memory stays bounded, the overflow counter equals the
//! number of values folded, and nothing panics.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::*;
use photon_metrics::{compiler, hardware, runtime};
use std::collections::BTreeSet;
use support::exposition::parse;
use support::rss::peak_rss_kib;

const ATTACK: usize = 1_000_000;

/// An open label, the family attacked through it, the label's name there,
/// and how one value is recorded.
type Attack<'a> = (OpenLabel, &'a str, &'a str, &'a dyn Fn(&str));
/// The stated bound: the whole store at default caps is 13.1 MiB at most.
const RSS_BOUND_KIB: u64 = 16 * 1024;

#[test]
fn a_million_values_per_open_label_stay_within_the_caps() {
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    let before = peak_rss_kib();
    let fixed_target = Target::new("mzi-64x64").unwrap();
    let attacks: [Attack; 6] = [
        (
            photon_metrics::labels::Target::LABEL,
            "photon_cache_hits_total",
            "target",
            &|v| compiler::record_cache_hit(Target::new(v).unwrap()),
        ),
        (
            photon_metrics::labels::ModelType::LABEL,
            "photon_compilations_total",
            "model_type",
            &|v| {
                compiler::record_compilation(
                    fixed_target,
                    Status::Success,
                    ModelType::new(v).unwrap(),
                )
            },
        ),
        (
            photon_metrics::labels::ErrorKind::LABEL,
            "photon_runtime_errors_total",
            "error_kind",
            &|v| runtime::record_runtime_error(ErrorKind::new(v).unwrap()),
        ),
        (
            photon_metrics::labels::DeviceId::LABEL,
            "photon_device_temperature_celsius",
            "device_id",
            &|v| hardware::set_temperature_celsius(DeviceId::new(v).unwrap(), 40.0),
        ),
        (
            photon_metrics::labels::Location::LABEL,
            "photon_active_devices",
            "location",
            &|v| hardware::set_active_devices(DeviceType::Mzi, Location::new(v).unwrap(), 1),
        ),
        (
            photon_metrics::labels::Pass::LABEL,
            "photon_pass_failures_total",
            "pass",
            &|v| compiler::record_pass_failure(Pass::new(v).unwrap(), fixed_target),
        ),
    ];
    for (label, _, _, record) in &attacks {
        for i in 0..ATTACK {
            record(&format!("{}-attack-{i}", label.as_str()));
        }
    }
    let grown = peak_rss_kib() - before;
    assert!(
        grown < RSS_BOUND_KIB,
        "peak RSS grew by {grown} KiB under {} values",
        ATTACK * attacks.len()
    );

    eprintln!(
        "figures: {} values over 6 open labels, peak RSS +{grown} KiB (bound {RSS_BOUND_KIB} KiB)",
        ATTACK * attacks.len()
    );
    let samples = parse(&exporter.render());
    for (label, family, name, _) in &attacks {
        let values: BTreeSet<&str> = samples
            .iter()
            .filter(|s| s.name == *family)
            .filter_map(|s| s.labels.get(*name).map(String::as_str))
            .collect();
        let cap = cap(*label);
        assert!(
            values.len() <= cap + 1,
            "{family}: {} {name} values for cap {cap} + __overflow__",
            values.len()
        );
        assert!(values.contains(OVERFLOW_VALUE));
        // Two target slots were taken before the attack began: `process`
        // (the exporter's process memory series, interned at build) and
        // `mzi-64x64`.
        let interned_before = if *label == photon_metrics::labels::Target::LABEL {
            2
        } else {
            0
        };
        let overflowed = samples
            .iter()
            .find(|s| {
                s.name == "photon_metrics_label_overflow_total"
                    && s.labels.get("label").map(String::as_str) == Some(label.as_str())
            })
            .unwrap()
            .value;
        assert_eq!(
            overflowed,
            (ATTACK - (cap - interned_before)) as f64,
            "{name}: one count per folded value"
        );
    }
}
