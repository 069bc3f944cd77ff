//! The committed C header is what cbindgen generates from the source now.
//! After changing the C ABI: `UPDATE_HEADER=1 cargo test -p photon-metrics-ffi --test header`.

use std::path::PathBuf;

#[test]
fn the_committed_header_is_generated_from_the_source() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses the crate")
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = crate_dir.join("include/photon_metrics.h");
    if std::env::var_os("UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/photon_metrics.h is stale: run UPDATE_HEADER=1 cargo test -p photon-metrics-ffi --test header"
    );
    // Every exported function is declared.
    for name in [
        "photon_exporter_install",
        "photon_compile_start",
        "photon_record_compilation",
        "photon_traces_init",
    ] {
        assert!(generated.contains(&format!(" {name}(")), "{name} missing");
    }
}
