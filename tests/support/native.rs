//! Native programs built against photon's static libraries: the CMake
//! examples (`examples/cpp`, `examples/mlir`) configured and built with the
//! system cmake, and run as a user runs them (they print "listening on
//! PORT", then "done" when their work is recorded, and serve until stdin
//! closes).

use super::exposition::{parse, Sample};
use super::stack::{files_under, root};
use super::{http_get, require_binary, TempDir};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;

/// The command that builds the static libraries the examples link.
pub const BUILD: &str = "cargo build -p photon-metrics-ffi -p photon-mixed-runtime";

/// `target/<profile>`, where cargo leaves the static libraries.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

fn newest_source(dir: &Path) -> SystemTime {
    files_under(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.metadata().unwrap().modified().unwrap())
        .max()
        .unwrap()
}

/// The static library `name`, checked to be newer than the Rust it is built from.
pub fn static_library(name: &str, sources: &[&str]) -> PathBuf {
    let lib = profile_dir().join(format!("lib{name}.a"));
    let built = lib
        .metadata()
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: run `{BUILD}` first", lib.display()));
    for dir in sources {
        assert!(
            newest_source(&root().join(dir)) <= built,
            "{} is older than {dir}: run `{BUILD}` first",
            lib.display()
        );
    }
    lib
}

/// Configures and builds the CMake project `source` (relative to the
/// workspace root) into a fresh directory, against the static libraries of
/// this test's profile; returns the directory (kept while it lives) and the
/// build tree.
pub fn cmake_build(source: &str, extra: &[&str]) -> (TempDir, PathBuf) {
    let dir = TempDir::new("cmake-build");
    let build = dir.path().join("build");
    cmake_build_at(source, &build, extra);
    (dir, build)
}

/// Configures and builds `source` into `build` (kept, so a second build
/// only recompiles what changed).
pub fn cmake_build_at(source: &str, build: &Path, extra: &[&str]) {
    let cmake = require_binary("cmake", "cmake");
    require_binary("g++", "g++");
    let run = |args: &[&str]| {
        let out = Command::new(&cmake).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "cmake {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mut configure = vec![
        "-S".to_string(),
        root().join(source).to_str().unwrap().to_string(),
        "-B".to_string(),
        build.to_str().unwrap().to_string(),
        format!("-DPHOTON_METRICS_LIB_DIR={}", profile_dir().display()),
    ];
    configure.extend(extra.iter().map(|s| s.to_string()));
    run(&configure.iter().map(String::as_str).collect::<Vec<_>>());
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    run(&[
        "--build",
        build.to_str().unwrap(),
        "--parallel",
        &jobs.to_string(),
    ]);
}

/// A running example: its /metrics port and what it printed up to "done";
/// serves until dropped (stdin closed).
pub struct Running {
    pub child: Child,
    pub port: u16,
    pub output: String,
}

impl Running {
    pub fn start(program: &Path, args: &[&str]) -> Self {
        Self::start_with(program, args, &[])
    }

    pub fn start_with(program: &Path, args: &[&str], env: &[(&str, String)]) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut port = None;
        let mut output = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            output.push_str(&line);
            output.push('\n');
            if let Some(p) = line.strip_prefix("listening on ") {
                port = Some(p.parse().unwrap());
            }
            if line == "done" {
                break;
            }
        }
        let port =
            port.unwrap_or_else(|| panic!("{} never said where it listens", program.display()));
        Running {
            child,
            port,
            output,
        }
    }

    pub fn scrape(&self) -> (String, Vec<Sample>) {
        let (status, body) = http_get(&format!("http://127.0.0.1:{}/metrics", self.port)).unwrap();
        assert_eq!(status, 200);
        let samples = parse(&body);
        (body, samples)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// promtool check metrics: accepted, and no lint.
pub fn promtool_check(body: &str) {
    let (passed, report) = super::promtool_check_metrics(body);
    assert!(
        passed && report.trim().is_empty(),
        "promtool check metrics:\n{report}"
    );
}
