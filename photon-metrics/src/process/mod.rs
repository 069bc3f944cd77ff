//! The process's own resources, sampled when the exposition is rendered.
//!
//! Every scrape, render and push first samples:
//! - the standard `process_*` families (CPU seconds, resident and virtual
//!   memory, open and max file descriptors, start time, threads), recorded
//!   by the [`metrics_process`] collector through the `metrics` facade into
//!   the exporter's own store;
//! - `photon_memory_usage_bytes{target="process", memory="current"|"peak"}`,
//!   the resident set now and its high-water mark (`VmRSS`, `VmHWM`);
//! - `photon_memory_limit_bytes`, the cgroup's memory limit (v2 `memory.max`,
//!   v1 `memory.limit_in_bytes`, the smallest on the way to the root), unless
//!   the application has called [`set_memory_limit`] itself, which wins.
//!
//! So the `HighMemoryUsage` alert works with no code in the application.
//! Turn it off with `PrometheusExporterBuilder::process_metrics(false)`.
//!
//! [`set_memory_limit`]: crate::compiler::set_memory_limit

pub(crate) mod cgroup;

use crate::labels::{MemoryStat, Target};
use crate::store::recorder::PhotonRecorder;
use std::path::PathBuf;
use std::sync::{Once, OnceLock};

/// The `target` label of the process-wide memory series.
pub const PROCESS_TARGET: &str = "process";

/// Samples the process into one exporter's store.
pub(crate) struct ProcessSampler {
    collector: metrics_process::Collector,
    described: Once,
    /// `/` on a live system; a fixture tree in tests.
    root: PathBuf,
}

impl ProcessSampler {
    /// Interns `target="process"` now, at build time, so that the slot it
    /// takes under the target cap does not depend on when the first scrape
    /// comes.
    pub(crate) fn new() -> Self {
        let _ = process_target();
        ProcessSampler {
            collector: metrics_process::Collector::default(),
            described: Once::new(),
            root: PathBuf::from("/"),
        }
    }

    /// Records one sample into `recorder`'s store.
    pub(crate) fn sample(&self, recorder: &PhotonRecorder) {
        metrics::with_local_recorder(recorder, || {
            self.described.call_once(|| self.collector.describe());
            self.collector.collect();
            if let (Some(target), Some((current, peak))) = (process_target(), resident()) {
                crate::compiler::set_memory_usage(target, MemoryStat::Current, current);
                crate::compiler::set_memory_usage(target, MemoryStat::Peak, peak);
            }
            if !crate::compiler::limit_set_by_application() {
                if let Some(limit) = cgroup::memory_limit(&self.root) {
                    crate::compiler::record_sampled_memory_limit(limit);
                }
            }
        });
    }
}

/// `Target("process")`, interned once: it takes one of the target cap's
/// slots (`__overflow__` when the cap is already full).
fn process_target() -> Option<Target> {
    static TARGET: OnceLock<Option<Target>> = OnceLock::new();
    *TARGET.get_or_init(|| Target::new(PROCESS_TARGET).ok())
}

/// Resident bytes now and at their peak.
#[cfg(target_os = "linux")]
fn resident() -> Option<(u64, u64)> {
    let status = procfs::process::Process::myself().ok()?.status().ok()?;
    Some((status.vmrss? * 1024, status.vmhwm? * 1024))
}

#[cfg(not(target_os = "linux"))]
fn resident() -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::ProcessSampler;
    use crate::export::prometheus::PrometheusExporterBuilder;
    use std::path::PathBuf;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(|v| v.parse().unwrap())
    }

    /// The README says so next to HighMemoryUsage, whose rule ignores a 0
    /// limit (monitoring/prometheus/tests/alerts_test.yml checks that).
    #[test]
    fn an_unlimited_cgroup_exports_a_limit_of_zero() {
        for fixture in ["v2-unlimited", "v1-unlimited", "missing"] {
            let (recorder, exporter) = PrometheusExporterBuilder::new()
                .without_listener()
                .process_metrics(false)
                .build_recorder();
            let sampler = ProcessSampler {
                root: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/cgroup")
                    .join(fixture),
                ..ProcessSampler::new()
            };
            sampler.sample(&recorder);
            let text = exporter.render();
            assert_eq!(
                value(&text, "photon_memory_limit_bytes"),
                Some(0.0),
                "{fixture}:\n{text}"
            );
        }
    }

    #[test]
    fn a_sample_fills_process_memory_and_the_cgroup_limit() {
        let (recorder, exporter) = PrometheusExporterBuilder::new()
            .without_listener()
            .process_metrics(false)
            .build_recorder();
        let sampler = ProcessSampler {
            root: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/cgroup/v2-limited"),
            ..ProcessSampler::new()
        };
        sampler.sample(&recorder);
        let text = exporter.render();
        let current = value(
            &text,
            r#"photon_memory_usage_bytes{target="process",memory="current"}"#,
        )
        .unwrap();
        let peak = value(
            &text,
            r#"photon_memory_usage_bytes{target="process",memory="peak"}"#,
        )
        .unwrap();
        assert!(
            current > 1e6,
            "a test process has more than 1 MB resident: {current}"
        );
        assert!(peak >= current, "peak {peak} < current {current}");
        assert_eq!(
            value(&text, "photon_memory_limit_bytes"),
            Some(536_870_912.0)
        );
        for family in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
            "process_virtual_memory_bytes",
            "process_threads",
        ] {
            assert!(value(&text, family).is_some(), "{family} missing:\n{text}");
            assert!(
                text.contains(&format!("# HELP {family} ")),
                "{family} has no HELP"
            );
        }

        // The application's own limit wins over the cgroup's from then on.
        metrics::with_local_recorder(&recorder, || crate::compiler::set_memory_limit(1 << 30));
        sampler.sample(&recorder);
        let text = exporter.render();
        assert_eq!(
            value(&text, "photon_memory_limit_bytes"),
            Some(1_073_741_824.0)
        );
    }

    #[test]
    fn process_metrics_false_samples_nothing() {
        let exporter = PrometheusExporterBuilder::new()
            .without_listener()
            .process_metrics(false)
            .build_recorder()
            .1;
        let text = exporter.render();
        assert!(!text.contains("process_"), "{text}");
        assert!(!text.contains(r#"target="process""#), "{text}");
    }
}
