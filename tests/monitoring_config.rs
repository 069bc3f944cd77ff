//! The monitoring stack as code, checked by the real tools and against the
//! catalog: promtool, amtool, the compose and Kubernetes validators, and the
//! metric names every query and rule uses.

mod support;

use photon_metrics::catalog::{families, Kind};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::stack::{dashboard_queries, files_under, monitoring, promtool_check_k8s_config, root};
use support::{require_binary, TempDir};

/// Runs a tool and returns its output, failing the test with it on a non-zero exit.
fn run(binary: &Path, args: &[&str], cwd: &Path) -> String {
    let out = Command::new(binary)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{text}",
        binary.display(),
        out.status
    );
    text
}

#[test]
fn promtool_checks_the_config_and_rules_and_the_rule_unit_tests_pass() {
    let promtool = require_binary("promtool", "prometheus");
    let m = monitoring();
    support::stack::promtool_check_config(
        &std::fs::read_to_string(m.join("prometheus/prometheus.yml")).unwrap(),
    );
    run(
        &promtool,
        &[
            "check",
            "rules",
            "prometheus/rules/recording.yml",
            "prometheus/rules/alerts.yml",
        ],
        &m,
    );
    let report = run(
        &promtool,
        &[
            "test",
            "rules",
            "prometheus/tests/alerts_test.yml",
            "prometheus/tests/recording_test.yml",
        ],
        &m,
    );
    assert_eq!(report.matches("SUCCESS").count(), 2, "{report}");
}

#[test]
fn promtool_checks_the_kubernetes_prometheus_config() {
    let source =
        std::fs::read_to_string(monitoring().join("prometheus/prometheus-k8s.yml")).unwrap();
    promtool_check_k8s_config(&source);
}

#[test]
fn amtool_checks_the_alertmanager_config() {
    let amtool = require_binary("amtool", "prometheus-alertmanager");
    let report = run(
        &amtool,
        &["check-config", "alertmanager/alertmanager.yml"],
        &monitoring(),
    );
    // slack, pagerduty, email, and `unrouted` (the root's: it takes only
    // what no route does, see select-receivers.sh).
    assert!(report.contains("4 receivers"), "{report}");
    let config =
        std::fs::read_to_string(monitoring().join("alertmanager/alertmanager.yml")).unwrap();
    for needle in [
        "channel: '#photon-mlir-alerts'",
        "title: 'PhotonMLIR Alert'",
        "Subject: 'PhotonMLIR Alert: {{ .GroupLabels.alertname }}'",
        "routing_key_file:",
        "slack_api_url_file:",
        "smtp_auth_password_file:",
    ] {
        assert!(config.contains(needle), "alertmanager.yml lacks {needle}");
    }
    for secret in [
        "hooks.slack.com/services",
        "routing_key:",
        "smtp_auth_password:",
    ] {
        assert!(
            !config.contains(secret),
            "a secret ({secret}) must come from a file, not the repository"
        );
    }
}

/// Every `photon_…` token in a text.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(found) = text[i..].find("photon_") {
        let start = i + found;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = start
            + text[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(text.len() - start);
        // `photon_metrics::…` in prose is the crate's Rust path, not a series.
        let rust_path = text[end..].starts_with("::");
        if boundary && !rust_path {
            names.insert(text[start..end].to_string());
        }
        i = end;
    }
    names
}

/// `photon_…` words under monitoring/ that are not series: the seed's
/// recording-rule group name.
const NOT_METRICS: &[&str] = &["photon_mlir_recording_rules"];

/// The catalog family a series name belongs to: the family's own name,
/// a histogram's `_bucket`/`_sum`/`_count`, or the `_created` series
/// OpenMetrics gives counters (`photon_compilations_created`) and
/// histograms.
fn family_of(series: &str) -> Option<&'static str> {
    families().iter().find_map(|f| {
        let name = f.name;
        let created = match f.kind {
            Kind::Counter => Some(format!("{}_created", name.trim_end_matches("_total"))),
            Kind::Histogram => Some(format!("{name}_created")),
            Kind::Gauge => None,
            other => panic!("{name}: which series does a {other:?} family have?"),
        };
        let matches = series == name
            || created.as_deref() == Some(series)
            || (f.kind == Kind::Histogram
                && ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| series.strip_suffix(s) == Some(name)));
        matches.then_some(name)
    })
}

#[test]
fn every_metric_name_under_monitoring_exists_in_the_catalog() {
    let mut unknown = Vec::new();
    let mut seen = 0;
    for file in files_under(&monitoring()) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for name in metric_names(&text) {
            seen += 1;
            if family_of(&name).is_none() && !NOT_METRICS.contains(&name.as_str()) {
                unknown.push(format!(
                    "{}: {name}",
                    file.strip_prefix(root()).unwrap().display()
                ));
            }
        }
    }
    assert!(
        seen > 50,
        "the scan found the stack's metric names ({seen})"
    );
    assert!(
        unknown.is_empty(),
        "names not in photon_metrics::catalog::families():\n{}",
        unknown.join("\n")
    );
}

#[test]
fn dashboards_are_grafana_10_dashboards_with_a_datasource_variable() {
    for name in [
        "photon-mlir-overview.json",
        "hardware-metrics.json",
        "performance-metrics.json",
    ] {
        let text =
            std::fs::read_to_string(monitoring().join("grafana/dashboards").join(name)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            json["schemaVersion"].as_u64().unwrap() >= 38,
            "{name}: Grafana 10 schema"
        );
        assert!(
            json["uid"].as_str().is_some_and(|u| !u.is_empty()),
            "{name}: a stable uid"
        );
        let vars = json["templating"]["list"].as_array().unwrap();
        assert!(
            vars.iter()
                .any(|v| v["name"] == "datasource" && v["type"] == "datasource"),
            "{name}: $datasource"
        );
        for panel in json["panels"].as_array().unwrap() {
            assert_eq!(
                panel["datasource"]["uid"], "${datasource}",
                "{name}: {} uses $datasource",
                panel["title"]
            );
            assert!(!panel["targets"].as_array().unwrap().is_empty());
        }
    }
}

#[test]
fn every_catalog_family_is_on_a_dashboard_panel() {
    let queries = dashboard_queries();
    let missing: Vec<_> = families()
        .iter()
        .filter(|family| {
            !queries.iter().any(|(_, _, expr)| {
                metric_names(expr)
                    .iter()
                    .any(|name| family_of(name) == Some(family.name))
            })
        })
        .map(|f| f.name)
        .collect();
    assert!(
        missing.is_empty(),
        "families on no dashboard panel: {missing:?}"
    );
    // Histograms are read through their buckets, as histograms.
    for family in families().iter().filter(|f| f.kind == Kind::Histogram) {
        let bucket = format!("{}_bucket", family.name);
        assert!(
            queries.iter().any(|(_, _, e)| e.contains(&bucket)),
            "{} has no quantile panel",
            family.name
        );
    }
}

#[test]
fn kubernetes_configmaps_are_generated_from_the_same_files() {
    let dir = TempDir::new("configmaps");
    let out = Command::new("bash")
        .arg(monitoring().join("k8s/generate-configmaps.sh"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = files_under(dir.path());
    assert_eq!(generated.len(), 12, "{generated:?}");
    for file in generated {
        let relative = file.strip_prefix(dir.path()).unwrap();
        let committed = monitoring().join(relative);
        assert_eq!(
            std::fs::read_to_string(&committed).unwrap_or_default(),
            std::fs::read_to_string(&file).unwrap(),
            "{} is stale: run monitoring/k8s/generate-configmaps.sh",
            committed.display()
        );
    }
}

const PIP: &str = "python3 -m pip install check-jsonschema kubernetes-validate yamllint";

fn require_pip_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed; install it with `{PIP}` (.ci/run does this)")
    })
}

#[test]
fn compose_files_validate_against_the_compose_spec() {
    let tool = require_pip_tool("check-jsonschema");
    run(
        &tool,
        &[
            "--builtin-schema",
            "vendor.compose-spec",
            "docker-compose.yml",
            "monitoring/docker-compose.monitoring.yml",
        ],
        &root(),
    );
    let compose =
        std::fs::read_to_string(monitoring().join("docker-compose.monitoring.yml")).unwrap();
    assert!(
        compose.contains("--storage.tsdb.retention.time=30d")
            && compose.contains("--storage.tsdb.retention.size=100GB")
    );
    // Issue 11: the seed's bare command works for local development (Grafana
    // starts as admin/admin and asks for a new password at first login);
    // production sets GRAFANA_ADMIN_PASSWORD, which always wins.
    assert!(
        compose.contains("GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:-admin}"),
        "Grafana's password comes from the environment when it is set"
    );
    assert!(!compose.contains("GF_SECURITY_ADMIN_PASSWORD: admin"));
}

#[test]
fn kubernetes_manifests_validate_strictly() {
    let tool = require_pip_tool("kubernetes-validate");
    let overlays = monitoring().join("k8s/overlays");
    let manifests: Vec<String> = files_under(&monitoring().join("k8s"))
        .into_iter()
        // The seed's datasources directory, applied with `kubectl apply -f` too.
        .chain(files_under(&monitoring().join("grafana/datasources")))
        // Every file `kubectl apply -f DIR` reads (.yaml, .yml, .json): the
        // seed applies these directories, and it fails on anything that is
        // not an object (a Prometheus config once sat here as prometheus.yml).
        // Kustomize's own files and the overlays (patches, checked after
        // `kubectl kustomize` in monitoring_k8s.rs) are not applied with -f.
        .filter(|p| !p.starts_with(&overlays) && !p.ends_with("kustomization.yaml"))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        })
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert!(manifests.len() >= 20, "{manifests:?}");
    let mut args = vec!["--strict"];
    args.extend(manifests.iter().map(String::as_str));
    let report = run(&tool, &args, &root());
    assert!(!report.contains("ERROR"), "{report}");
    let prometheus =
        std::fs::read_to_string(monitoring().join("k8s/prometheus/deployment.yaml")).unwrap();
    for needle in [
        "memory: 2Gi",
        "cpu: \"1\"",
        "memory: 8Gi",
        "cpu: \"4\"",
        "retention.time=30d",
        "retention.size=100GB",
    ] {
        assert!(
            prometheus.contains(needle),
            "prometheus deployment lacks {needle}"
        );
    }
}

#[test]
fn yaml_passes_yamllint() {
    let tool = require_pip_tool("yamllint");
    run(
        &tool,
        &[
            "-s",
            "-c",
            "monitoring/.yamllint.yml",
            "docker-compose.yml",
            "monitoring",
        ],
        &root(),
    );
}

#[test]
fn latency_panels_link_their_exemplars_to_traces() {
    use photon_metrics::export::exemplars::TRACE_ID_LABEL;
    // Every panel over a latency histogram's buckets shows exemplars.
    let mut linked = 0;
    for (file, title, target) in support::stack::dashboard_targets() {
        let expr = target["expr"].as_str().unwrap();
        if expr.contains("photon_compilation_duration_seconds_bucket")
            || expr.contains("photon_inference_latency_seconds_bucket")
        {
            assert_eq!(
                target["exemplar"], true,
                "{file}: {title}: exemplars off for `{expr}`"
            );
            linked += 1;
        }
    }
    assert!(linked >= 4, "{linked} latency queries");
    // The Prometheus datasource sends the exemplar label photon emits to Jaeger.
    let datasources = std::fs::read_to_string(
        monitoring().join("grafana/provisioning/datasources/datasources.yml"),
    )
    .unwrap();
    let link = format!("- name: {TRACE_ID_LABEL}\n          datasourceUid: jaeger");
    assert!(datasources.contains(&link), "{datasources}");
    assert!(datasources.contains("uid: jaeger"));
    // Prometheus keeps exemplars only with the feature on, wherever it runs.
    for file in [
        "docker-compose.monitoring.yml",
        "k8s/prometheus/deployment.yaml",
    ] {
        let text = std::fs::read_to_string(monitoring().join(file)).unwrap();
        assert!(
            text.contains("--enable-feature=exemplar-storage"),
            "{file} starts Prometheus without exemplar storage"
        );
    }
}

#[test]
fn promtail_tails_the_log_files_the_demo_writes_and_container_stdout() {
    let promtail = std::fs::read_to_string(monitoring().join("promtail/promtail.yml")).unwrap();
    let compose = std::fs::read_to_string(root().join("docker-compose.yml")).unwrap();
    let file = compose
        .lines()
        .find_map(|l| l.trim().strip_prefix("PHOTON_LOG_FILE: "))
        .expect("the demo writes a log file in compose");
    let dir = std::path::Path::new(file).parent().unwrap();
    // photon.log is written as photon.<date>.log (tests/log_schema.rs), so
    // `<dir>/*.log` matches every rotated file.
    assert!(file.ends_with(".log"), "{file}");
    assert!(
        promtail.contains(&format!("__path__: {}/*.log", dir.display())),
        "promtail does not tail {}:\n{promtail}",
        dir.display()
    );
    assert!(
        promtail.contains("docker_sd_configs"),
        "container stdout too"
    );
    assert_eq!(
        promtail.matches("- json:").count(),
        2,
        "both jobs parse the JSON schema"
    );
}

#[test]
fn loki_retention_is_applied_by_the_compactor() {
    let loki = std::fs::read_to_string(monitoring().join("loki/loki.yml")).unwrap();
    assert!(loki.contains("retention_period:"), "{loki}");
    // Without this, Loki keeps everything whatever retention_period says.
    assert!(
        loki.contains("compactor:") && loki.contains("retention_enabled: true"),
        "retention_period without the compactor's retention deletes nothing:\n{loki}"
    );
}

#[test]
fn the_demo_image_build_context_leaves_out_target() {
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target/"), "{ignore}");
}

#[test]
fn the_seed_details_are_kept() {
    let recording =
        std::fs::read_to_string(monitoring().join("prometheus/rules/recording.yml")).unwrap();
    assert!(recording.contains("- name: photon_mlir_recording_rules"));
    let am = std::fs::read_to_string(monitoring().join("alertmanager/alertmanager.yml")).unwrap();
    assert!(am.contains("- to: ops-team@example.com"));
    let pagerduty = &am[am.find("pagerduty_configs:").unwrap()..];
    assert!(
        pagerduty[..pagerduty.find("- name:").unwrap_or(pagerduty.len())]
            .contains("severity: critical"),
        "PagerDuty would get its default severity \"error\""
    );
    let runbook = std::fs::read_to_string(monitoring().join("RUNBOOK.md")).unwrap();
    assert!(runbook.contains("differs from the seed"));
}

#[test]
fn the_kubernetes_compiler_job_keeps_only_photons_pods() {
    let config =
        std::fs::read_to_string(monitoring().join("prometheus/prometheus-k8s.yml")).unwrap();
    let job = &config[config.find("- job_name: photon-compiler").unwrap()..];
    let job = &job[..job[1..].find("- job_name:").map_or(job.len(), |i| i + 1)];
    assert!(
        job.contains("source_labels: [__meta_kubernetes_pod_label_app_kubernetes_io_part_of]\n        action: keep\n        regex: photon-mlir"),
        "another team's annotated pod would land in job photon-compiler:\n{job}"
    );
}

/// The seed's bare `docker-compose -f docker-compose.yml -f
/// monitoring/docker-compose.monitoring.yml up -d` must work with no
/// variable set, and a local stack must not listen beyond the machine.
#[test]
fn the_seeds_compose_command_needs_no_variable_and_binds_loopback() {
    for file in [
        "docker-compose.yml",
        "monitoring/docker-compose.monitoring.yml",
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        assert!(
            !text.contains(":?"),
            "{file} requires a variable, so the seed's bare command aborts"
        );
        for line in text.lines().map(str::trim) {
            if let Some(port) = line
                .strip_prefix("- \"")
                .filter(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit()) && p.contains(':'))
            {
                assert!(
                    port.starts_with("127.0.0.1:"),
                    "{file}: `{line}` publishes a port on every interface"
                );
            }
        }
    }
}

/// The "Scaling out" budget table in RUNBOOK.md: one row per catalog family
/// with the most series it can have at the default caps and the exposition
/// lines they make (histograms: a line per bucket, `+Inf`, `_sum`, `_count`).
#[test]
fn the_runbook_cardinality_budget_is_the_catalogs() {
    let runbook = std::fs::read_to_string(monitoring().join("RUNBOOK.md")).unwrap();
    let mut expected = String::new();
    let (mut total_series, mut total_lines) = (0, 0);
    for spec in families() {
        let series = spec.max_series();
        let lines = match spec.kind {
            Kind::Histogram => series * (spec.buckets.map_or(0, <[f64]>::len) + 3),
            _ => series,
        };
        total_series += series;
        total_lines += lines;
        let labels: Vec<&str> = spec.labels.iter().map(|l| l.as_str()).collect();
        expected += &format!(
            "| `{}` | {} | {series} | {lines} |\n",
            spec.name,
            if labels.is_empty() {
                "—".to_string()
            } else {
                labels.join(", ")
            },
        );
    }
    expected += &format!("| **all families** | | **{total_series}** | **{total_lines}** |\n");
    assert!(
        runbook.contains(&expected),
        "RUNBOOK.md's budget table is not the catalog's; it should read:\n{expected}"
    );
}
