//! One service, many processes (`photon_metrics::shared`), tried as a
//! pre-fork server uses it: real worker processes (this test binary run
//! again in a worker role) that all install on the same port with the same
//! directory, record, exit, fork and get killed, scraped over HTTP.

use photon_metrics::export::encode::proto;
use photon_metrics::export::exemplars::{with_trace_context, TraceContext};
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{DeviceId, DeviceType, ModelType, Status, Target};
use photon_metrics::{compiler, hardware, runtime};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "PHOTON_SHARED_TEST_ROLE";

/// A worker: installs on `PORT` with the directory `DIR`, records `COUNT`
/// compilations and 5 × `COUNT` latency observations, sets its session
/// gauge and device temperature, says `ready leader=<bool>`, then by role
/// waits for its stdin to close (`wait`), exits through `exit()` (`exit`),
/// or forks `CHILDREN` children that each record 100 and exit
/// (`fork`), then waits.
#[test]
fn worker_program() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let dir = std::env::var("DIR").unwrap();
    let port: u16 = std::env::var("PORT").unwrap().parse().unwrap();
    let count: u64 = std::env::var("COUNT").unwrap().parse().unwrap();
    let exporter = PrometheusExporterBuilder::new()
        .shared_dir(&dir)
        .listen(SocketAddr::from(([127, 0, 0, 1], port)))
        .process_metrics(false)
        .install()
        .expect("every worker installs on the same port");
    let record = |count: u64| {
        let target = Target::new("mzi-64x64").unwrap();
        let model = ModelType::new("transformer").unwrap();
        for i in 0..count {
            if i + 1 == count {
                // The last compilation in this process's trace: an exemplar.
                with_trace_context(trace_of(std::process::id()), || {
                    compiler::record_compilation(target, Status::Success, model)
                });
            } else {
                compiler::record_compilation(target, Status::Success, model);
            }
            for j in 0..5 {
                hardware::observe_inference_latency(
                    DeviceType::Mzi,
                    0.001 * (1 + (i + j) % 50) as f64,
                );
            }
        }
        if count > 0 {
            runtime::set_active_sessions(2);
            hardware::set_temperature_celsius(
                DeviceId::new("dev-0").unwrap(),
                std::process::id() as f64,
            );
        }
    };
    record(count);
    if role == "fork" {
        let children: usize = std::env::var("CHILDREN").unwrap().parse().unwrap();
        let mut pids = Vec::new();
        for _ in 0..children {
            // SAFETY: the child records and exits; it runs no code that
            // needs another thread of the parent.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                record(100);
                // SAFETY: exit() runs the atexit handlers (the final
                // publication), as a worker's sys.exit does.
                unsafe { libc::exit(0) };
            }
            pids.push(pid);
        }
        for pid in pids {
            let mut status = 0;
            // SAFETY: a child of this process.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        }
    }
    if role == "storm" {
        // Forks while another thread renders the service over and over:
        // each child records one compilation and exits; none may hang.
        let children: usize = std::env::var("CHILDREN").unwrap().parse().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let renders = {
            let (stop, exporter) = (stop.clone(), exporter.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = exporter.render();
                }
            })
        };
        let mut hung = 0;
        for _ in 0..children {
            // SAFETY: the child records and exits.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                record(1);
                // SAFETY: exit() publishes first.
                unsafe { libc::exit(0) };
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let mut status = 0;
                // SAFETY: a child of this process.
                if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
                    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
                    break;
                }
                if Instant::now() > deadline {
                    hung += 1;
                    // SAFETY: our own child.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        renders.join().unwrap();
        println!("hung {hung}");
    }
    if role == "fork-stay" {
        // Children that record and stay, printing their pids.
        let children: usize = std::env::var("CHILDREN").unwrap().parse().unwrap();
        for _ in 0..children {
            // SAFETY: the child records and sleeps until killed.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                record(100);
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
            println!("child {pid}");
        }
    }
    if role == "retire" {
        assert!(ModelType::new("transformer").unwrap().retire());
    }
    println!("ready leader={}", exporter.local_addr().is_some());
    if role == "exit" {
        std::process::exit(0);
    }
    if role == "loop" {
        // Records until stdin closes, then exits through exit().
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = done.clone();
        std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut rest);
            flag.store(true, std::sync::atomic::Ordering::Release);
        });
        while !done.load(std::sync::atomic::Ordering::Acquire) {
            record(10);
            std::thread::sleep(Duration::from_millis(1));
        }
        std::process::exit(0);
    }
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    std::process::exit(0);
}

/// The trace a worker records its last compilation in.
fn trace_of(pid: u32) -> TraceContext {
    TraceContext {
        trace_id: 0xfeed_0000_0000_0000_0000_0000_0000_0000 | u128::from(pid),
        span_id: 0x5eed_0000_0000_0000 | u64::from(pid),
    }
}

struct Worker {
    child: Child,
    leader: bool,
    /// What it printed up to `ready`.
    said: String,
    out: BufReader<ChildStdout>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn worker(role: &str, dir: &Path, port: u16, count: u64, children: usize) -> Worker {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "worker_program",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env("DIR", dir)
        .env("PORT", port.to_string())
        .env("COUNT", count.to_string())
        .env("CHILDREN", children.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    // Killed and reaped on drop, whatever happens next.
    let mut worker = Worker {
        leader: false,
        child,
        out,
        said: String::new(),
    };
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            worker.out.read_line(&mut line).unwrap() > 0,
            "the worker ended before it was ready"
        );
        worker.said.push_str(&line);
        // libtest prints `test worker_program ... ` before it.
        if let Some((_, rest)) = line.trim().split_once("ready leader=") {
            worker.leader = rest == "true";
            return worker;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photon-shared-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn scrape(port: u16, accept: &str) -> Vec<u8> {
    let mut response = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
        .header("Accept", accept)
        .call()
        .unwrap();
    response.body_mut().read_to_vec().unwrap()
}

/// The text exposition once a process serves `port` again (a takeover
/// takes moments), each try bounded (an accepted connection nobody
/// answers fails it); `what` says what went wrong after 10 s.
fn text_once_served(port: u16, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
            .config()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .call();
        match attempt {
            Ok(mut r) => return r.body_mut().read_to_string().unwrap(),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

fn text(port: u16) -> String {
    String::from_utf8(scrape(port, "text/plain")).unwrap()
}

/// The value of the one sample `name{labels}` (labels as written).
fn sample(body: &str, name_and_labels: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

fn compilations(body: &str) -> f64 {
    sample(
        body,
        "photon_compilations_total{target=\"mzi-64x64\",status=\"success\",model_type=\"transformer\"}",
    )
    .unwrap_or(0.0)
}

fn latency_count(body: &str) -> f64 {
    sample(
        body,
        "photon_inference_latency_seconds_count{device_type=\"mzi\"}",
    )
    .unwrap_or(0.0)
}

#[test]
fn four_workers_on_one_port_are_scraped_as_one_service() {
    let dir = fresh_dir("four");
    let port = free_port();
    let workers: Vec<Worker> = (0..4).map(|_| worker("wait", &dir, port, 100, 0)).collect();
    assert_eq!(
        workers.iter().filter(|w| w.leader).count(),
        1,
        "exactly one worker listens"
    );
    let body = text(port);
    assert_eq!(compilations(&body), 400.0, "{body}");
    assert_eq!(latency_count(&body), 2000.0);
    // Sessions add up over the live workers; the temperature is the
    // latest a worker set, which is one worker's pid.
    assert_eq!(sample(&body, "photon_active_sessions").unwrap(), 8.0);
    let temperature = sample(
        &body,
        "photon_device_temperature_celsius{device_id=\"dev-0\"}",
    )
    .unwrap();
    let pids: Vec<f64> = workers.iter().map(|w| f64::from(w.child.id())).collect();
    assert!(
        pids.contains(&temperature),
        "{temperature} is none of {pids:?}"
    );
    // The buckets add up: the +Inf bucket is the count.
    assert_eq!(
        sample(
            &body,
            "photon_inference_latency_seconds_bucket{device_type=\"mzi\",le=\"+Inf\"}"
        )
        .unwrap(),
        2000.0
    );
    // Native buckets come through the protobuf exposition, summed.
    let families = proto::decode_delimited(&scrape(
        port,
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
    ))
    .unwrap();
    let latency = families
        .iter()
        .find(|f| f.name() == "photon_inference_latency_seconds")
        .unwrap();
    let h = latency
        .metric
        .iter()
        .find(|m| m.label.iter().any(|l| l.value() == "mzi"))
        .and_then(|m| m.histogram.as_ref())
        .unwrap();
    assert_eq!(h.sample_count(), 2000);
    let native: i64 = {
        let mut running = 0i64;
        h.positive_delta
            .iter()
            .map(|d| {
                running += d;
                running
            })
            .sum()
    };
    assert_eq!(
        native as u64 + h.zero_count(),
        2000,
        "native buckets hold every observation"
    );
    // OpenMetrics: one `# EOF`, the same count, and the counter's
    // exemplar: the newest of the four workers' (each recorded its last
    // compilation in a trace of its own; the last worker started last).
    let om = String::from_utf8(scrape(port, "application/openmetrics-text;version=1.0.0")).unwrap();
    assert_eq!(om.matches("# EOF").count(), 1);
    let line = om
        .lines()
        .find(|l| l.starts_with("photon_compilations_total{target=\"mzi-64x64\",status=\"success\",model_type=\"transformer\"}"))
        .unwrap();
    let traces: Vec<String> = workers
        .iter()
        .map(|w| format!("{:032x}", trace_of(w.child.id()).trace_id))
        .collect();
    let newest = &traces[3];
    assert!(
        line.contains(&format!("trace_id=\"{newest}\"")),
        "{line} (workers' traces {traces:?})"
    );
    assert!(om.contains("photon_compilations_total{target=\"mzi-64x64\",status=\"success\",model_type=\"transformer\"} 400"));
}

#[test]
fn exited_workers_are_folded_and_the_directory_stays_one_file_per_live_process() {
    let dir = fresh_dir("exits");
    let port = free_port();
    let server = worker("wait", &dir, port, 0, 0);
    assert!(server.leader);
    // A file that is no publication (a hostile or broken writer) is
    // refused whole and removed; nothing else changes.
    std::fs::write(dir.join("4242.live"), b"PHOTONS1 but nothing after").unwrap();
    let mut sizes = Vec::new();
    let mut last = 0.0;
    let mut exits = 0;
    // 10 exits, then 20, then 300: the directory must not grow with them.
    for (round, more) in [10, 10, 280].into_iter().enumerate() {
        for _ in 0..more {
            let mut w = worker("exit", &dir, port, 10, 0);
            assert!(w.child.wait().unwrap().success());
        }
        exits += more;
        let body = text(port);
        let total = compilations(&body);
        assert_eq!(
            total,
            (exits * 10) as f64,
            "every exited worker's records count"
        );
        assert!(total >= last);
        last = total;
        assert_eq!(latency_count(&body), (exits * 50) as f64);
        // Their gauges left with them: only the server's (never set) remain.
        assert_eq!(sample(&body, "photon_active_sessions"), Some(0.0));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                format!("{}.live", server.child.id()),
                "control".to_string(),
                "exited".to_string(),
                "fold.lock".to_string(),
                "listener.lock".to_string(),
            ],
            "round {round}"
        );
        sizes.push(std::fs::metadata(dir.join("exited")).unwrap().len());
    }
    // Three hundred exits or ten, the totals take the same room: the
    // series, not the processes.
    assert_eq!(sizes[0], sizes[2], "{sizes:?}");
}

#[test]
fn a_killed_leader_is_replaced_and_the_totals_never_go_back() {
    let dir = fresh_dir("kill");
    let port = free_port();
    let mut workers: Vec<Worker> = (0..3).map(|_| worker("wait", &dir, port, 100, 0)).collect();
    let before = compilations(&text(port));
    assert_eq!(before, 300.0);
    let leader = workers.iter().position(|w| w.leader).unwrap();
    let mut killed = workers.remove(leader);
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();
    // Another worker takes the listener over.
    let body = text_once_served(port, "no worker took over the listener");
    // The killed leader had published everything it recorded (the first
    // scrape asked for it), so nothing is lost, and nothing counted twice.
    assert_eq!(compilations(&body), 300.0, "{body}");
    assert_eq!(
        sample(&body, "photon_active_sessions").unwrap(),
        4.0,
        "its gauges left with it"
    );
    for _ in 0..5 {
        assert_eq!(compilations(&text(port)), 300.0);
    }
}

#[test]
fn a_process_that_forks_after_installing_gives_each_child_its_own_part() {
    let dir = fresh_dir("fork");
    let port = free_port();
    // As gunicorn --preload: the parent installs (and records 5), then
    // forks 4 workers that each record 100 and exit.
    let parent = worker("fork", &dir, port, 5, 4);
    assert!(parent.leader);
    let body = text(port);
    assert_eq!(compilations(&body), 405.0, "{body}");
    assert_eq!(latency_count(&body), 2025.0);
}

#[test]
fn workers_all_restarting_at_once_keep_the_service_s_counts() {
    let dir = fresh_dir("all-restart");
    let port = free_port();
    // Two workers (started by this test, which is no part of the service)
    // record, publish (a scrape asks them to) and are killed together: no
    // process of the service is left.
    let workers = [
        worker("wait", &dir, port, 40, 0),
        worker("wait", &dir, port, 60, 0),
    ];
    assert_eq!(compilations(&text(port)), 100.0);
    for mut w in workers {
        w.child.kill().unwrap();
        w.child.wait().unwrap();
    }
    // Their replacements come within moments: the same run, counted on.
    let w = worker("wait", &dir, port, 1, 0);
    assert!(w.leader);
    assert_eq!(compilations(&text(port)), 101.0);
}

#[test]
fn a_new_run_of_the_service_starts_from_zero() {
    let dir = fresh_dir("restart");
    let port = free_port();
    {
        let _w = worker("wait", &dir, port, 7, 0);
        assert_eq!(compilations(&text(port)), 7.0);
    }
    // Every process of the first run is gone (killed: as after a crash),
    // an hour ago, and so is what launched it: its publication says when
    // it was made (bytes 32..40) and its parent (40..48; this test
    // launched it and still runs). A publication of the last 30 s or a
    // live parent would be a service whose workers all restart at once,
    // which keeps its counts.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "live") {
            let mut bytes = std::fs::read(&path).unwrap();
            let saved = u64::from_le_bytes(bytes[32..40].try_into().unwrap());
            bytes[32..40].copy_from_slice(&(saved - 3_600_000_000_000).to_le_bytes());
            bytes[40..48].copy_from_slice(&0u64.to_le_bytes());
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let w = worker("wait", &dir, port, 3, 0);
    assert!(w.leader);
    assert_eq!(
        compilations(&text(port)),
        3.0,
        "the previous run's files were removed"
    );
}

#[test]
fn a_value_retired_in_one_process_leaves_the_whole_service() {
    let dir = fresh_dir("retire");
    let port = free_port();
    let _a = worker("wait", &dir, port, 100, 0);
    let _b = worker("wait", &dir, port, 100, 0);
    let mut gone = worker("exit", &dir, port, 10, 0);
    assert!(gone.child.wait().unwrap().success());
    assert_eq!(compilations(&text(port)), 210.0);
    // One worker retires the model type: its series leave every live
    // worker's store and the exited workers' totals. As in one process,
    // the next scrape shows their final values once (the exited workers'
    // have left already), the one after does not.
    let _r = worker("retire", &dir, port, 1, 0);
    // The first scrape shows the final values (a worker the scrape could
    // not wait for shows them at the next); then they are gone for good.
    let mut shown = 0;
    loop {
        let body = text(port);
        let total = compilations(&body);
        if total == 0.0 {
            assert!(!body.contains("model_type=\"transformer\""));
            break;
        }
        assert!(total <= 201.0, "{total}");
        shown += 1;
        assert!(
            shown <= 2,
            "retired series still served after {shown} scrapes: {total}"
        );
    }
    for _ in 0..3 {
        assert!(!text(port).contains("model_type=\"transformer\""));
    }
    // A value of the same text later is a new one, counted from zero.
    let _c = worker("wait", &dir, port, 5, 0);
    assert_eq!(compilations(&text(port)), 5.0);
}

/// Every bucket line of one histogram series, in order: (le, count).
fn buckets(body: &str, series: &str) -> Vec<(String, f64)> {
    body.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("photon_inference_latency_seconds_bucket{")?;
            let (labels, value) = rest.rsplit_once("} ")?;
            let le = labels.strip_prefix(series)?.strip_prefix(",le=\"")?;
            Some((le.trim_end_matches('"').to_string(), value.parse().unwrap()))
        })
        .collect()
}

#[test]
fn merged_scrapes_stay_consistent_while_workers_record_and_exit() {
    let dir = fresh_dir("churn");
    let port = free_port();
    let mut loopers: Vec<Worker> = (0..3).map(|_| worker("loop", &dir, port, 10, 0)).collect();
    let mut last_total = 0.0;
    let mut last_count = 0.0;
    for round in 0..30 {
        // Every third round a worker that recorded leaves (exit()) and a
        // new one comes.
        if round % 3 == 2 {
            let mut gone = loopers.remove(0);
            drop(gone.child.stdin.take());
            assert!(gone.child.wait().unwrap().success());
            loopers.push(worker("loop", &dir, port, 10, 0));
        }
        // When the listening worker left, another takes over within moments.
        let body = text_once_served(port, &format!("round {round}: no worker serves /metrics"));
        let total = compilations(&body);
        let count = latency_count(&body);
        assert!(
            total >= last_total,
            "round {round}: counter went {last_total} -> {total}"
        );
        assert!(
            count >= last_count,
            "round {round}: count went {last_count} -> {count}"
        );
        last_total = total;
        last_count = count;
        // One histogram series: monotone buckets, +Inf equal to _count.
        let b = buckets(&body, "device_type=\"mzi\"");
        assert!(!b.is_empty());
        assert!(
            b.windows(2).all(|w| w[0].1 <= w[1].1),
            "round {round}: {b:?}"
        );
        assert_eq!(b.last().unwrap(), &("+Inf".to_string(), count));
        let sum = sample(
            &body,
            "photon_inference_latency_seconds_sum{device_type=\"mzi\"}",
        )
        .unwrap();
        assert!(
            sum > 0.0 && sum <= count * 0.05 + 1e-9,
            "sum {sum} for {count}"
        );
    }
    assert!(last_total > 0.0);
}

#[test]
fn forks_during_renders_never_hang_a_child() {
    let dir = fresh_dir("storm");
    let port = free_port();
    // 200 forks while a thread of the parent renders the service without
    // pause (each render waits for publications and holds the store's
    // locks): before forks waited for renders, 5 of 1,270 children hung.
    let parent = worker("storm", &dir, port, 5, 200);
    assert!(parent.said.contains("hung 0\n"), "{}", parent.said);
    assert_eq!(compilations(&text(port)), 205.0);
}

#[test]
fn a_forked_child_takes_over_when_the_parent_is_killed() {
    let dir = fresh_dir("fork-stay");
    let port = free_port();
    let mut parent = worker("fork-stay", &dir, port, 5, 3);
    let children: Vec<i32> = parent
        .said
        .lines()
        .filter_map(|l| {
            l.split_once("child ")
                .and_then(|(_, p)| p.trim().parse().ok())
        })
        .collect();
    assert_eq!(children.len(), 3, "{}", parent.said);
    struct Reap(Vec<i32>);
    impl Drop for Reap {
        fn drop(&mut self) {
            for pid in &self.0 {
                // SAFETY: the test's grandchildren, killed at the end.
                unsafe { libc::kill(*pid, libc::SIGKILL) };
            }
        }
    }
    let _reap = Reap(children);
    assert_eq!(compilations(&text(port)), 305.0);
    parent.child.kill().unwrap();
    parent.child.wait().unwrap();
    // The children did not keep the parent's listening socket: one of
    // them binds the port and serves, the parent's records folded in.
    let body = text_once_served(port, "no child took over the listener");
    assert_eq!(compilations(&body), 305.0, "{body}");
}
