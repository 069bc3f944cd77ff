//! Compile-time behaviour of the macros: what must compile, and the exact
//! errors a user sees for each mistake (a compile error is public interface).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
