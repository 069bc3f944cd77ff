//! Kubernetes beyond the base: what `kubectl kustomize` builds (base and the
//! HA overlay) validates strictly; the HA Prometheus config differs from the
//! single one only where it must; promtail in Kubernetes parses logs as in
//! compose; and Alertmanager starts with missing secrets, leaving out the
//! receivers that need them (the script run under busybox, as in the image).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::stack::{files_under, monitoring, promtool_check_k8s_config, root};
use support::{require_binary, TempDir};

fn output(binary: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(monitoring().join(relative)).unwrap()
}

fn kustomize(dir: &str) -> String {
    let kubectl = require_binary("kubectl", "kubectl");
    let (ok, stdout, stderr) = output(&kubectl, &["kustomize", dir]);
    assert!(ok, "kubectl kustomize {dir}: {stderr}");
    stdout
}

fn validate_strictly(name: &str, manifests: &str) {
    let dir = TempDir::new("kustomized");
    let file = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, manifests).unwrap();
    let tool = which("kubernetes-validate");
    let (ok, stdout, stderr) = output(&tool, &["--strict", file.to_str().unwrap()]);
    assert!(ok && !stdout.contains("ERROR"), "{name}:\n{stdout}{stderr}");
}

fn which(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("`{name}` is not installed (.ci/run installs it from PyPI)"))
}

/// (kind, name) of every object in a multi-document YAML stream.
fn objects(stream: &str) -> Vec<(String, String)> {
    stream
        .split("\n---\n")
        .map(|doc| {
            let field = |prefix: &str| {
                doc.lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            };
            (field("kind: "), field("  name: "))
        })
        .collect()
}

fn object<'a>(stream: &'a str, kind: &str, name: &str) -> &'a str {
    stream
        .split("\n---\n")
        .find(|doc| {
            doc.lines().any(|l| l == format!("kind: {kind}"))
                && doc.lines().any(|l| l == format!("  name: {name}"))
        })
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn the_base_kustomization_builds_what_the_seed_directories_hold() {
    let base = kustomize("monitoring/k8s");
    validate_strictly("base", &base);
    let built = objects(&base);
    // Everything under the three component directories, and nothing else but
    // the namespace: `apply -k` and the seed's `apply -f` agree.
    let mut from_dirs = vec![("Namespace".to_string(), "monitoring".to_string())];
    for dir in ["prometheus", "alertmanager", "grafana"] {
        for file in files_under(&monitoring().join("k8s").join(dir)) {
            if file.extension().is_some_and(|e| e == "yaml") {
                from_dirs.extend(objects(&std::fs::read_to_string(&file).unwrap()));
            }
        }
    }
    let (mut a, mut b) = (built.clone(), from_dirs);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // The seed's `kubectl logs -f deployment/prometheus` needs a Deployment.
    assert!(built.contains(&("Deployment".into(), "prometheus".into())));
    assert!(built.contains(&("Deployment".into(), "grafana".into())));
}

#[test]
fn the_ha_overlay_runs_two_prometheus_a_store_and_three_alertmanagers() {
    let ha = kustomize("monitoring/k8s/overlays/ha");
    validate_strictly("ha", &ha);
    let built = objects(&ha);
    assert!(
        !built.contains(&("Deployment".into(), "prometheus".into())),
        "{built:?}"
    );
    assert!(
        !built.contains(&("Deployment".into(), "alertmanager".into())),
        "{built:?}"
    );
    assert!(!built.contains(&("PersistentVolumeClaim".into(), "prometheus-data".into())));

    let prometheus = object(&ha, "StatefulSet", "prometheus");
    assert!(prometheus.contains("  replicas: 2\n"), "{prometheus}");
    assert!(prometheus.contains("--enable-feature=expand-external-labels"));
    assert!(
        prometheus.contains("fieldPath: metadata.name"),
        "POD_NAME for the replica label"
    );

    let alertmanager = object(&ha, "StatefulSet", "alertmanager");
    assert!(alertmanager.contains("  replicas: 3\n"), "{alertmanager}");
    for i in 0..3 {
        let peer = format!(
            "--cluster.peer=alertmanager-{i}.alertmanager-cluster.monitoring.svc.cluster.local:9094"
        );
        assert!(alertmanager.contains(&peer), "{peer}");
    }
    let headless = object(&ha, "Service", "alertmanager-cluster");
    assert!(headless.contains("clusterIP: None"), "{headless}");

    let store = object(&ha, "StatefulSet", "victoriametrics");
    assert!(store.contains("-dedup.minScrapeInterval=15s"), "{store}");
    let relabel = object(&ha, "ConfigMap", "victoriametrics-relabel");
    assert!(relabel.contains("action: labeldrop") && relabel.contains("regex: replica"));

    // Prometheus writes where the store listens; Grafana reads the store.
    let config = object(&ha, "ConfigMap", "prometheus-config");
    assert!(config.contains("url: http://victoriametrics.monitoring.svc:8428/api/v1/write"));
    assert!(config.contains("replica: ${POD_NAME}"));
    let datasources = object(&ha, "ConfigMap", "grafana-datasources");
    assert!(
        datasources.contains("url: http://victoriametrics:8428"),
        "{datasources}"
    );
    assert!(
        !datasources.contains("url: http://prometheus:9090"),
        "{datasources}"
    );
    // The overlay's namespace is the base's.
    assert_eq!(
        read("k8s/overlays/ha/namespace.yaml"),
        read("k8s/namespace.yaml")
    );
}

/// The text of a top-level section (`key:` up to the next top-level key).
fn section<'a>(config: &'a str, key: &str) -> &'a str {
    let start = config
        .find(&format!("\n{key}:"))
        .unwrap_or_else(|| panic!("no {key}"))
        + 1;
    let rest = &config[start..];
    let end = rest[1..].find("\n\n").map(|i| i + 1).unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_ha_prometheus_config_differs_from_the_single_one_only_where_it_must() {
    let single = read("prometheus/prometheus-k8s.yml");
    let ha = read("prometheus/prometheus-k8s-ha.yml");
    // Same jobs, same rules.
    let jobs = |c: &str| c[c.find("\nscrape_configs:").unwrap()..].to_string();
    assert_eq!(jobs(&single), jobs(&ha));
    assert_eq!(section(&single, "rule_files"), section(&ha, "rule_files"));
    // Alerts leave without the replica label, so both replicas' copies dedup.
    let alerting = section(&ha, "alerting");
    assert!(
        alerting.contains("alert_relabel_configs:\n    - action: labeldrop\n      regex: replica"),
        "{alerting}"
    );
    assert!(section(&ha, "remote_write").contains("/api/v1/write"));

    promtool_check_k8s_config(&ha);
}

#[test]
fn promtail_in_kubernetes_parses_logs_as_compose_does() {
    let compose = read("promtail/promtail.yml");
    let k8s = read("promtail/promtail-k8s.yml");
    // The JSON stages of both jobs are the compose config's, byte for byte.
    let stages = |c: &str| -> Vec<String> {
        c.split("      - json:")
            .skip(1)
            .map(|s| s.split("\n  - job_name").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(stages(&compose).len(), 2);
    assert_eq!(stages(&compose), stages(&k8s));
    assert!(k8s.contains("- cri: {}"), "Kubernetes nodes write CRI logs");
    assert!(
        k8s.contains("regex: photon-mlir\n        action: keep"),
        "only photon's pods"
    );
    assert!(k8s.contains("__path__: /var/log/photon-mlir/*.log"));
    let daemonset = read("k8s/promtail/daemonset.yaml");
    assert!(
        daemonset.contains("fieldPath: spec.nodeName"),
        "HOSTNAME = node for __host__"
    );
}

/// Runs select-receivers.sh under busybox's sh and awk, as in the image.
fn select_receivers(secrets: &Path, out: &Path) -> String {
    let busybox = require_binary("busybox", "busybox");
    let applets = TempDir::new("busybox-applets");
    for applet in ["sh", "awk", "mv", "cat"] {
        std::os::unix::fs::symlink(&busybox, applets.path().join(applet)).unwrap();
    }
    let out = Command::new(applets.path().join("sh"))
        .arg(monitoring().join("alertmanager/select-receivers.sh"))
        .arg(monitoring().join("alertmanager/alertmanager.yml"))
        .arg(secrets)
        .arg(out)
        .env("PATH", applets.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn amtool_check(config: &Path) -> String {
    let amtool = require_binary("amtool", "prometheus-alertmanager");
    let out = Command::new(&amtool)
        .args(["check-config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn alertmanager_starts_without_secrets_and_says_which_receivers_are_left_out() {
    let dir = TempDir::new("select-receivers");
    let secrets = dir.path().join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();

    // A fresh cluster: no Secret at all.
    let none = dir.path().join("none.yml");
    let log = select_receivers(&secrets, &none);
    for file in [
        "slack-webhook-url",
        "pagerduty-routing-key",
        "smtp-password",
    ] {
        assert!(
            log.contains(&format!("{}/{file} is missing or empty", secrets.display())),
            "{log}"
        );
    }
    assert_eq!(
        log.lines().count(),
        3,
        "one line per missing secret:\n{log}"
    );
    let text = std::fs::read_to_string(&none).unwrap();
    assert!(
        !text.contains("_file:"),
        "no receiver reads a missing file:\n{text}"
    );
    assert!(amtool_check(&none).contains(" - 1 receivers"));

    // Only PagerDuty's key: critical alerts page, nothing else is configured.
    std::fs::write(secrets.join("pagerduty-routing-key"), "key\n").unwrap();
    let pagerduty = dir.path().join("pagerduty.yml");
    let log = select_receivers(&secrets, &pagerduty);
    assert!(!log.contains("pagerduty-routing-key"), "{log}");
    assert!(amtool_check(&pagerduty).contains(" - 2 receivers"));

    // Every secret: the full config, unchanged but for the markers.
    for file in ["slack-webhook-url", "smtp-password"] {
        std::fs::write(secrets.join(file), "x\n").unwrap();
    }
    let full = dir.path().join("full.yml");
    assert_eq!(select_receivers(&secrets, &full), "");
    let expected: String = read("alertmanager/alertmanager.yml")
        .lines()
        .filter(|l| !l.trim_start().starts_with("# requires: ") && l.trim() != "# end requires")
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(std::fs::read_to_string(&full).unwrap(), expected);
    assert!(amtool_check(&full).contains(" - 4 receivers"));
}

#[test]
fn the_seed_debug_commands_name_objects_that_exist() {
    // kubectl logs -f deployment/prometheus -n monitoring (and grafana),
    // port-forward svc/prometheus 9090 and svc/grafana 3000.
    let base = kustomize("monitoring/k8s");
    for (kind, name, port) in [
        ("Deployment", "prometheus", None),
        ("Deployment", "grafana", None),
        ("Service", "prometheus", Some("port: 9090")),
        ("Service", "grafana", Some("port: 3000")),
        ("Service", "alertmanager", Some("port: 9093")),
    ] {
        let found = object(&base, kind, name);
        assert!(found.contains("namespace: monitoring"));
        if let Some(port) = port {
            assert!(found.contains(port), "{kind}/{name} lacks {port}");
        }
    }
}
