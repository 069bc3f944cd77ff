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

/// The demo binary `cargo test` builds next to the test binaries.
pub fn demo_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let demo = profile_dir.join("examples").join("photon-demo");
    assert!(
        demo.is_file(),
        "{} is missing: `cargo test` builds it; alone, run `cargo build --example photon-demo`",
        demo.display()
    );
    demo
}
