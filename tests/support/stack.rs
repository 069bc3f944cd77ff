//! Paths into the repository's monitoring stack, and the dashboards' queries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn monitoring() -> PathBuf {
    root().join("monitoring")
}

/// Every file below `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// (dashboard file, panel title, target) for every query target on every dashboard.
pub fn dashboard_targets() -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for file in files_under(&monitoring().join("grafana/dashboards")) {
        if file.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for panel in json["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                out.push((
                    file.file_name().unwrap().to_string_lossy().into_owned(),
                    panel["title"].as_str().unwrap().to_string(),
                    target.clone(),
                ));
            }
        }
    }
    out
}

/// (dashboard file, panel title, expr) for every query on every dashboard.
pub fn dashboard_queries() -> Vec<(String, String, String)> {
    dashboard_targets()
        .into_iter()
        .map(|(file, title, target)| (file, title, target["expr"].as_str().unwrap().to_string()))
        .collect()
}

/// The example binary `name` that `cargo test` builds next to the test binaries.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "{} is missing: `cargo test` builds it; alone, run `cargo build --example {name}`",
        path.display()
    );
    path
}

/// The demo binary `cargo test` builds next to the test binaries.
pub fn demo_binary() -> PathBuf {
    example_binary("photon-demo")
}

/// The demo serving on a free loopback port for `seconds`, exporting spans
/// to `rotel`, logs off; running once it serves `/metrics`.
pub fn demo_with_otlp(
    dir: &super::TempDir,
    rotel: &super::rotel::Rotel,
    seconds: u32,
) -> (super::Process, u16) {
    let port = super::free_port();
    let mut command = std::process::Command::new(demo_binary());
    command
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--duration",
            &seconds.to_string(),
            "--otlp",
            &format!("http://127.0.0.1:{}", rotel.grpc),
            "--log-format",
            "off",
        ])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    let mut demo = super::Process::spawn("photon-demo", command, dir.path().join("demo.log"));
    super::wait_for_metrics(&mut demo, port);
    (demo, port)
}

/// A Prometheus config as Debian's promtool (2.42) can check it: every
/// scrape job must keep the classic buckets beside the native ones
/// (`scrape_classic_histograms: true`, which the pinned v2.53 images know
/// and 2.42, from before 2.45, does not); the option's lines are removed
/// for the check, everything else is checked as written.
pub fn for_promtool_242(source: &str) -> String {
    let jobs = source.matches("- job_name:").count();
    let kept = source
        .matches("\n    scrape_classic_histograms: true\n")
        .count();
    assert!(jobs > 0, "the config has scrape jobs");
    assert_eq!(kept, jobs, "every scrape job keeps the classic buckets");
    source.replace("    scrape_classic_histograms: true\n", "")
}

/// `promtool check config` of the compose Prometheus config (as
/// [`for_promtool_242`] makes it), with the repository's rule files beside it.
pub fn promtool_check_config(source: &str) {
    promtool_check_as_written(&for_promtool_242(source));
}

/// `promtool check config` of a Kubernetes Prometheus config, with the
/// repository's rule files beside it. Debian's Prometheus is built without
/// Kubernetes service discovery, so its promtool rejects
/// `kubernetes_sd_configs`: the pod discovery block is replaced by an empty
/// static target list and everything else (rule paths, alerting,
/// relabelling, remote_write) is checked. The images the manifests run
/// (prom/prometheus) have Kubernetes discovery built in.
pub fn promtool_check_k8s_config(source: &str) {
    let discovery = "    kubernetes_sd_configs:\n      - role: pod\n";
    assert!(
        source.contains(discovery),
        "the k8s scrape config discovers pods"
    );
    let checked =
        for_promtool_242(source).replace(discovery, "    static_configs:\n      - targets: []\n");
    promtool_check_as_written(&checked);
}

/// `promtool check config` of `config` as it is, in a directory with the
/// repository's rule files beside it.
fn promtool_check_as_written(config: &str) {
    let promtool = super::require_binary("promtool", "prometheus");
    let dir = super::TempDir::new("prometheus-config");
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    for rules in ["recording.yml", "alerts.yml"] {
        std::fs::copy(
            monitoring().join("prometheus/rules").join(rules),
            dir.path().join("rules").join(rules),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let out = std::process::Command::new(promtool)
        .args(["check", "config", "prometheus.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check config:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
