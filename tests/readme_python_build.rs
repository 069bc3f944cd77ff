//! The README's Python build, run as written from the checkout's root with
//! stand-ins for `maturin` and `pip` on the PATH: nothing it writes may land
//! in the checkout (a user's `git status` stays clean), and `pip install`
//! gets the wheel `maturin build` wrote. The stand-in writes where maturin
//! does: the build into `--target-dir` (default: the workspace's
//! `target/`), the wheel into `--out` (default: `<target dir>/wheels`),
//! both relative to the working directory when relative.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::TempDir;

/// The README's ```sh block that runs `maturin build`.
fn readme_build_block(root: &Path) -> String {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    readme
        .split("```sh\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .find(|block| block.contains("maturin build"))
        .expect("the README shows how to build the Python wheel")
        .to_string()
}

const FAKE_MATURIN: &str = r#"#!/bin/sh
# maturin's defaults, as the README's command line meets them.
[ "$1" = build ] || exit 0
shift
target=target; out=
while [ $# -gt 0 ]; do
  case "$1" in
    --target-dir) target="$2"; shift ;;
    --out|-o) out="$2"; shift ;;
  esac
  shift
done
[ -n "$out" ] || out="$target/wheels"
mkdir -p "$target/release" "$out"
wheel="$out/photon_metrics-0.1.0-cp38-abi3-linux_x86_64.whl"
: > "$wheel"
for p in "$target" "$wheel"; do
  case "$p" in /*) echo "wrote $p" ;; *) echo "wrote $PWD/$p" ;; esac
done >> "$LOG"
"#;

const FAKE_PIP: &str = r#"#!/bin/sh
[ "$1" = install ] || exit 1
shift
for a in "$@"; do
  case "$a" in
    *.whl) [ -f "$a" ] || { echo "no wheel at $a" >&2; exit 1; }
           case "$a" in /*) echo "installed $a" ;; *) echo "installed $PWD/$a" ;; esac >> "$LOG" ;;
  esac
done
"#;

fn executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn the_readme_python_build_writes_nothing_into_the_checkout() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let block = readme_build_block(&root);
    let bin = TempDir::new("fake-maturin");
    executable(&bin.path().join("maturin"), FAKE_MATURIN);
    executable(&bin.path().join("pip"), FAKE_PIP);
    let log = bin.path().join("log");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block])
        .current_dir(&root)
        .env("PATH", path)
        .env("LOG", &log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the README's block failed:\n{block}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    let written: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("wrote "))
        .collect();
    assert_eq!(written.len(), 2, "maturin build ran once: {log}");
    for path in &written {
        assert!(
            !Path::new(path).starts_with(&root),
            "the README's Python build writes {path} into the checkout:\n{block}"
        );
    }
    let installed: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("installed "))
        .collect();
    assert_eq!(
        installed,
        [written[1]],
        "pip installs the wheel just built: {log}"
    );
    // The stand-ins' files, left outside the checkout, go with the temp dir.
    for path in written {
        let _ = std::fs::remove_dir_all(Path::new(path).parent().unwrap());
    }
}
