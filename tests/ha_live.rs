//! Beyond one Prometheus, with the real binaries: two Prometheus replicas
//! configured as `monitoring/prometheus/prometheus-k8s-ha.yml` (external
//! label `replica`, alerts sent without it, `remote_write`) scrape the demo
//! and write into a third Prometheus started with
//! `--web.enable-remote-write-receiver`, which then holds both replicas'
//! series. Three Alertmanagers form a gossip cluster; both replicas send the
//! repository's DeviceFailure to all three, and a webhook gets exactly one
//! notification; with one Alertmanager killed, a new DeviceFailure still
//! arrives exactly once.

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::stack::{demo_binary, monitoring};
use support::{free_port, http_get, require_binary, wait_for, Process, Prometheus, TempDir};

/// The top-level section `key:` of a Prometheus config, up to the next blank line.
fn section(config: &str, key: &str) -> String {
    let start = config.find(&format!("\n{key}:")).unwrap() + 1;
    let rest = &config[start..];
    rest[..rest.find("\n\n").unwrap_or(rest.len())].to_string() + "\n"
}

struct Alertmanager {
    process: Process,
    url: String,
}

fn start_alertmanagers(dir: &TempDir, webhook: u16) -> Vec<Alertmanager> {
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname, device_id]\n  group_wait: 1s\n  group_interval: 1h\n  repeat_interval: 1h\n\
             receivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:{webhook}/\n        send_resolved: false\n"
        ),
    )
    .unwrap();
    let mesh: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let binary = require_binary("prometheus-alertmanager", "prometheus-alertmanager");
    let mut nodes: Vec<Alertmanager> = (0..3)
        .map(|i| {
            let web = free_port();
            let mut command = Command::new(&binary);
            command
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.path={}",
                    dir.path().join(format!("am{i}")).display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{web}"))
                .arg(format!("--cluster.listen-address=127.0.0.1:{}", mesh[i]))
                .arg(format!("--cluster.advertise-address=127.0.0.1:{}", mesh[i]))
                // How long a node waits per position for the one before it.
                .arg("--cluster.peer-timeout=3s");
            for (j, port) in mesh.iter().enumerate() {
                if j != i {
                    command.arg(format!("--cluster.peer=127.0.0.1:{port}"));
                }
            }
            Alertmanager {
                process: Process::spawn(
                    &format!("alertmanager-{i}"),
                    command,
                    dir.path().join(format!("am{i}.log")),
                ),
                url: format!("http://127.0.0.1:{web}"),
            }
        })
        .collect();
    for node in &mut nodes {
        let status = format!("{}/api/v2/status", node.url);
        let process = &mut node.process;
        wait_for(
            "a 3-node Alertmanager cluster",
            Duration::from_secs(60),
            || {
                process.assert_running();
                let (_, body) = http_get(&status).ok()?;
                let v: serde_json::Value = serde_json::from_str(&body).ok()?;
                let cluster = &v["cluster"];
                (cluster["status"] == "ready" && cluster["peers"].as_array()?.len() == 3)
                    .then_some(())
            },
        );
    }
    nodes
}

fn start_demo(dir: &TempDir, port: u16, down: &str) -> Process {
    let mut command = Command::new(demo_binary());
    command.args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--device-down",
        down,
        "--duration",
        "600",
    ]);
    let mut demo = Process::spawn(
        &format!("photon-demo-{down}"),
        command,
        dir.path().join(format!("demo-{down}.log")),
    );
    support::wait_for_metrics(&mut demo, port);
    demo
}

/// DeviceFailure notifications received for `device`, one entry per webhook call.
fn notifications_for(received: &Mutex<Vec<serde_json::Value>>, device: &str) -> usize {
    received
        .lock()
        .unwrap()
        .iter()
        .filter(|n| {
            n["alerts"].as_array().unwrap().iter().any(|a| {
                a["labels"]["alertname"] == "DeviceFailure" && a["labels"]["device_id"] == device
            })
        })
        .count()
}

#[test]
fn two_replicas_write_to_one_store_and_a_clustered_alertmanager_notifies_once() {
    let dir = TempDir::new("ha");

    // The webhook: every notification, parsed, with its alerts' labels.
    let webhook = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let webhook_port = webhook.server_addr().to_ip().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let sink = received.clone();
    std::thread::spawn(move || {
        for mut request in webhook.incoming_requests() {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let _ = request.respond(tiny_http::Response::empty(200));
            sink.lock()
                .unwrap()
                .push(serde_json::from_str(&body).unwrap());
        }
    });

    let mut alertmanagers = start_alertmanagers(&dir, webhook_port);

    // The long-term store stand-in: a Prometheus that accepts remote_write.
    let store = Prometheus::start_with_flags(
        "global:\n  scrape_interval: 1h\n",
        &[],
        &["--web.enable-remote-write-receiver"],
    );

    // Two demos: opu-1 is down from the start; the second (opu-2 down)
    // starts only after an Alertmanager is killed.
    let (demo_a, demo_b) = (free_port(), free_port());
    let _first = start_demo(&dir, demo_a, "opu-1");

    // The replicas' config: the HA file's global (replica label), alerting
    // (alert_relabel_configs) and remote_write sections, with this machine's
    // addresses and 1 s intervals.
    let ha =
        std::fs::read_to_string(monitoring().join("prometheus/prometheus-k8s-ha.yml")).unwrap();
    let global = section(&ha, "global").replace("15s", "1s");
    assert!(global.contains("replica: ${POD_NAME}"), "{global}");
    let alerting = section(&ha, "alerting");
    let dns = "    - dns_sd_configs:\n        - names: ['alertmanager-cluster.monitoring.svc.cluster.local']\n          type: A\n          port: 9093\n";
    assert!(alerting.contains(dns), "{alerting}");
    let targets: Vec<String> = alertmanagers
        .iter()
        .map(|am| format!("'{}'", am.url.trim_start_matches("http://")))
        .collect();
    let alerting = alerting.replace(
        dns,
        &format!(
            "    - static_configs:\n        - targets: [{}]\n",
            targets.join(", ")
        ),
    );
    let remote_write = section(&ha, "remote_write").replace(
        "http://victoriametrics.monitoring.svc:8428/api/v1/write",
        &format!("{}/api/v1/write", store.url),
    );
    assert!(remote_write.contains(&store.url), "{remote_write}");
    let remote_write = remote_write + "    metadata_config:\n      send_interval: 1s\n";
    let config = format!(
        "{global}\nrule_files: [alerts.yml]\n\n{alerting}\n{remote_write}\n\
         scrape_configs:\n  - job_name: photon-compiler\n    static_configs:\n      - targets: ['127.0.0.1:{demo_a}', '127.0.0.1:{demo_b}']\n"
    );
    let alerts = std::fs::read_to_string(monitoring().join("prometheus/rules/alerts.yml")).unwrap();
    let replicas: Vec<Prometheus> = ["prometheus-0", "prometheus-1"]
        .iter()
        .map(|name| {
            Prometheus::start_with_env(
                &config,
                &[("alerts.yml", &alerts)],
                &["--enable-feature=expand-external-labels"],
                &[("POD_NAME", name)],
            )
        })
        .collect();

    // 1. The store holds both replicas' copies of the demo's series.
    wait_for(
        "both replicas' series in the store",
        Duration::from_secs(60),
        || {
            let data = store
                .query("count by (replica) (photon_compilations_total{instance=~\".*\"})")
                .ok()?;
            let replicas: BTreeSet<String> = data["result"]
                .as_array()?
                .iter()
                .filter_map(|r| r["metric"]["replica"].as_str().map(String::from))
                .collect();
            (replicas == BTreeSet::from(["prometheus-0".into(), "prometheus-1".into()]))
                .then_some(())
        },
    );
    let cluster = store.query("count by (cluster) (up)").unwrap();
    assert_eq!(
        cluster["result"][0]["metric"]["cluster"], "photon-mlir",
        "{cluster}"
    );

    // 2. DeviceFailure (for: 30s) reaches the webhook exactly once although
    //    two replicas send it to three Alertmanagers each.
    let waited = Instant::now();
    wait_for(
        "DeviceFailure for opu-1 at the webhook",
        Duration::from_secs(120),
        || (notifications_for(&received, "opu-1") > 0).then_some(()),
    );
    eprintln!("figures: first notification after {:?}", waited.elapsed());
    // Every node's position timer (3 s each) has run out well before this.
    std::thread::sleep(Duration::from_secs(15));
    assert_eq!(
        notifications_for(&received, "opu-1"),
        1,
        "{:?}",
        received.lock().unwrap()
    );
    let alert = received.lock().unwrap()[0]["alerts"][0]["labels"].clone();
    assert!(
        alert.get("replica").is_none(),
        "alerts leave without `replica`: {alert}"
    );
    assert_eq!(alert["cluster"], "photon-mlir", "{alert}");
    // Each Alertmanager got the alert, from both replicas.
    for replica in &replicas {
        let (_, metrics) = http_get(&format!("{}/metrics", replica.url)).unwrap();
        for am in &alertmanagers {
            let sent = metrics
                .lines()
                .filter(|l| l.starts_with("prometheus_notifications_sent_total{"))
                .find(|l| l.contains(&am.url))
                .unwrap_or_else(|| panic!("{} never sent to {}", replica.url, am.url));
            let count: f64 = sent.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(count >= 1.0, "{sent}");
        }
    }

    // 3. One Alertmanager killed: a new DeviceFailure still arrives once.
    let killed = alertmanagers.remove(0);
    let mut killed = killed.process;
    killed.signal("KILL");
    killed.wait_exit(Duration::from_secs(10));
    let _second = start_demo(&dir, demo_b, "opu-2");
    wait_for(
        "DeviceFailure for opu-2 with a node down",
        Duration::from_secs(120),
        || (notifications_for(&received, "opu-2") > 0).then_some(()),
    );
    std::thread::sleep(Duration::from_secs(15));
    assert_eq!(
        notifications_for(&received, "opu-2"),
        1,
        "{:?}",
        received.lock().unwrap()
    );
    assert_eq!(notifications_for(&received, "opu-1"), 1);
    for am in &mut alertmanagers {
        am.process.assert_running();
    }
}
