//! Helpers shared by the integration tests: real backends started as child
//! processes on 127.0.0.1, plain HTTP through `ureq`.
#![allow(dead_code)] // each test binary uses a different subset

pub mod alerting;
pub mod attack;
pub mod exec;
pub mod exposition;
pub mod foreign;
pub mod init;
pub mod log_buffer;
pub mod model;
pub mod native;
pub mod python_parser;
pub mod raw_http;
pub mod recorded;
pub mod rotel;
pub mod rss;
pub mod stack;
pub mod tls;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fails with install instructions when a backend binary is missing, so a
/// machine without it never passes by skipping.
pub fn require_binary(name: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    match found.flatten() {
        Some(path) => path,
        None => panic!(
            "`{name}` is not installed; install it with \
             `apt-get update && apt-get install -y --no-install-recommends {package}` \
             (.ci/run does this on a fresh machine)"
        ),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "photon-metrics-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed on drop, whose output is kept in a log file.
pub struct Process {
    child: Child,
    pub log: PathBuf,
    pub name: String,
}

impl Process {
    pub fn spawn(name: &str, mut command: Command, log: PathBuf) -> Self {
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process {
            child,
            log,
            name: name.to_string(),
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (e.g. `TERM`) with kill(1).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < timeout,
                "{} still running after {timeout:?}:\n{}",
                self.name,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Panics with the process log if it has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited with {status}:\n{}", self.name, self.log_text());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `url` and return (status, body); transport errors are `Err`.
pub fn http_get(url: &str) -> Result<(u16, String), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, body))
}

/// Polls `check` every 200 ms until it returns `Some`, or panics after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until `process` serves `/metrics` on 127.0.0.1:`port` with 200,
/// failing with its log if it exits first.
pub fn wait_for_metrics(process: &mut Process, port: u16) {
    let url = format!("http://127.0.0.1:{port}/metrics");
    wait_for(
        &format!("{} serving {url}", process.name),
        Duration::from_secs(20),
        || {
            process.assert_running();
            http_get(&url).ok().filter(|(s, _)| *s == 200)
        },
    );
}

/// A real Prometheus server (the Debian `prometheus` binary) on 127.0.0.1.
pub struct Prometheus {
    pub process: Process,
    pub url: String,
    dir: TempDir,
    flags: Vec<String>,
    env: Vec<(String, String)>,
}

impl Prometheus {
    /// Starts Prometheus with `config` (YAML) written into a fresh directory
    /// together with `extra_files` (name, content) such as rule files.
    pub fn start(config: &str, extra_files: &[(&str, &str)]) -> Self {
        Self::start_with_flags(config, extra_files, &[])
    }

    /// Like [`start`](Self::start), with extra command-line flags.
    pub fn start_with_flags(config: &str, extra_files: &[(&str, &str)], flags: &[&str]) -> Self {
        Self::start_with_env(config, extra_files, flags, &[])
    }

    /// Like [`start_with_flags`](Self::start_with_flags), with environment
    /// variables for the process (`${VAR}` in external labels).
    pub fn start_with_env(
        config: &str,
        extra_files: &[(&str, &str)],
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let binary = require_binary("prometheus", "prometheus");
        let dir = TempDir::new("prometheus");
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        for (name, content) in extra_files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let port = free_port();
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let url = format!("http://127.0.0.1:{port}");
        let process = Self::spawn(&binary, &dir, port, &flags, &env);
        let mut prometheus = Prometheus {
            process,
            url,
            dir,
            flags,
            env,
        };
        prometheus.wait_ready();
        prometheus
    }

    fn spawn(
        binary: &Path,
        dir: &TempDir,
        port: u16,
        flags: &[String],
        env: &[(String, String)],
    ) -> Process {
        let mut command = Command::new(binary);
        command
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(flags)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir.path());
        Process::spawn("prometheus", command, dir.path().join("prometheus.log"))
    }

    fn wait_ready(&mut self) {
        let url = format!("{}/-/ready", self.url);
        let process = &mut self.process;
        wait_for("prometheus to be ready", Duration::from_secs(30), || {
            process.assert_running();
            http_get(&url).ok().filter(|(s, _)| *s == 200)
        });
    }

    /// Kills Prometheus (SIGKILL: no clean shutdown) and starts it again on
    /// the same port, configuration and storage.
    pub fn kill_and_restart(&mut self, down_for: Duration) {
        let binary = require_binary("prometheus", "prometheus");
        self.process.signal("KILL");
        self.process.wait_exit(Duration::from_secs(10));
        std::thread::sleep(down_for);
        let port: u16 = self.url.rsplit(':').next().unwrap().parse().unwrap();
        self.process = Self::spawn(&binary, &self.dir, port, &self.flags, &self.env);
        self.wait_ready();
    }

    /// Waits until every scrape target reports `"health":"up"`.
    pub fn wait_for_targets_up(&mut self, timeout: Duration) {
        let url = format!("{}/api/v1/targets", self.url);
        let process = &mut self.process;
        wait_for("every scrape target to be up", timeout, || {
            process.assert_running();
            let (_, body) = http_get(&url).ok()?;
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            let targets = v["data"]["activeTargets"].as_array()?;
            (!targets.is_empty() && targets.iter().all(|t| t["health"] == "up")).then_some(())
        });
    }

    /// Runs an instant query; returns the JSON `data` on success or the
    /// error text Prometheus gave.
    pub fn query(&self, promql: &str) -> Result<serde_json::Value, String> {
        let url = format!("{}/api/v1/query?query={}", self.url, encode(promql));
        let (status, body) = http_get(&url)?;
        let v: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("HTTP {status}: {e}: {body}"))?;
        if v["status"] == "success" {
            Ok(v["data"].clone())
        } else {
            Err(format!("HTTP {status}: {}: {}", v["errorType"], v["error"]))
        }
    }
}

/// Percent-encodes a query parameter.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `promtool check metrics` on an exposition: whether it passed, and what it
/// printed (empty when it found nothing to say).
pub fn promtool_check_metrics(text: &str) -> (bool, String) {
    use std::io::Write;
    let promtool = require_binary("promtool", "prometheus");
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}
