//! Compile-time behaviour of the macros: what must compile, and the exact
//! errors a user sees for each mistake (a compile error is public interface).
//! One mistake per `fail/` file, so each `.stderr` shows that mistake alone.

use std::io::Write;

/// The rustc the `.stderr` files were written with. Compiler messages change
/// between releases, so the exact-text `fail/` cases are checked on this
/// toolchain, and on any other the test fails rather than pass without them
/// (unless [`SKIP_STDERR`] asks for that). The `pass/` cases run everywhere.
/// No `rust-toolchain.toml` pins it: rustup then refuses every cargo command
/// on a machine without this exact toolchain installed, CI's included.
const STDERR_TOOLCHAIN: &str = "rustc 1.95.0 ";

/// `PHOTON_UI_SKIP_STDERR=1` on another rustc: the `pass/` cases only, on
/// purpose, and said on the test's stderr past the harness's capture.
const SKIP_STDERR: &str = "PHOTON_UI_SKIP_STDERR";

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .expect("rustc --version");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ui() {
    let version = rustc_version();
    let (written_with, this) = (STDERR_TOOLCHAIN.trim_end(), version.trim_end());
    let check_stderr = version.starts_with(STDERR_TOOLCHAIN);
    if !check_stderr {
        if std::env::var_os(SKIP_STDERR).is_some_and(|v| v == "1") {
            // Straight to the process's stderr: the harness would capture
            // an `eprintln!` of a passing test, and this must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\n**** {SKIP_STDERR}=1: tests/ui/fail/*.rs NOT CHECKED ****\n\
                 **** their .stderr files were written with {written_with}; this is {this}. \
                 The macros' compile errors are untested in this run. ****\n"
            );
        } else {
            panic!(
                "tests/ui/fail/*.stderr were written with {written_with}; this is {this}. \
                 Run this test with {written_with} (`cargo +1.95.0 test --test macros_ui`). \
                 Moving the project to this rustc: regenerate them with \
                 `TRYBUILD=overwrite cargo test --test macros_ui`, review the diff and update \
                 STDERR_TOOLCHAIN in tests/macros_ui.rs. To skip the fail/ cases on purpose: \
                 {SKIP_STDERR}=1."
            );
        }
    }
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    if check_stderr {
        t.compile_fail("tests/ui/fail/*.rs");
    }
}
