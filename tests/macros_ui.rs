//! Compile-time behaviour of the macros: what must compile, and the exact
//! errors a user sees for each mistake (a compile error is public interface).
//! One mistake per `fail/` file, so each `.stderr` shows that mistake alone.

/// The rustc the `.stderr` files were written with. Compiler messages change
/// between releases, so (as tracing-attributes does) the exact-text cases
/// run on this toolchain only; regenerate them with `TRYBUILD=overwrite`
/// when the project moves to a new one. The `pass/` cases run everywhere.
const STDERR_TOOLCHAIN: &str = "rustc 1.95.0 ";

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
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    let version = rustc_version();
    if version.starts_with(STDERR_TOOLCHAIN) {
        t.compile_fail("tests/ui/fail/*.rs");
    } else {
        eprintln!(
            "not checking tests/ui/fail: its .stderr files were written with {STDERR_TOOLCHAIN}, this is {version}"
        );
    }
}
