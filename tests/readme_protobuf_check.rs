//! The README's way to confirm that a scraper gets the protobuf exposition
//! (what Prometheus must negotiate for native histograms) works as
//! written: its `curl` command, run against a real listener, shows the
//! `Content-Type` the README says it shows.

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::process::Command;

const README: &str = include_str!("../README.md");

#[test]
fn the_readme_curl_shows_the_protobuf_content_type() {
    let line = README
        .lines()
        .find(|l| l.contains("curl") && l.contains("application/vnd.google.protobuf"))
        .expect("the README shows how to confirm the protobuf exposition");
    let command = line
        .split('`')
        .find(|part| part.starts_with("curl "))
        .expect("the curl command is quoted as code");
    let after = README.split(command).nth(1).unwrap();
    let promised = after
        .split("(`")
        .nth(1)
        .and_then(|rest| rest.split("`)").next())
        .expect("the README quotes the Content-Type the command shows");
    assert!(
        promised.starts_with("application/vnd.google.protobuf"),
        "{promised}"
    );

    let exporter = PrometheusExporterBuilder::new()
        .listen_on("127.0.0.1:0")
        .unwrap()
        .install()
        .unwrap();
    let addr = exporter.local_addr().unwrap();
    let command = command.replace("localhost:8080", &addr.to_string());
    let out = Command::new("sh").args(["-c", &command]).output().unwrap();
    let headers = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{command}: {headers}");
    let content_type = headers
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no Content-Type from `{command}`:\n{headers}"));
    assert_eq!(content_type, promised, "`{command}`");
}
