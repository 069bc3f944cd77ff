//! A bad environment variable is an error whose message, as a user prints
//! it (`{e}`), names the variable, the value and the reason, and lists the
//! accepted values where there is a list; a printer of the whole source
//! chain reads the reason once. Its own binary: it sets the environment.

mod support;

use photon_metrics::export::logs::LogFormat;
use photon_metrics::InitError;
use std::error::Error as _;
use support::init::VARIABLES;

/// `init()` reading only `var=value` from the environment; its error.
fn error_with(var: &str, value: &str) -> InitError {
    for var in VARIABLES {
        std::env::remove_var(var);
    }
    std::env::set_var(var, value);
    let result = photon_metrics::init()
        .without_metrics()
        .log_format(LogFormat::Off)
        .layers()
        .map(drop);
    std::env::remove_var(var);
    result.unwrap_err()
}

/// The message and every source after it, joined as chain printers do.
fn chain(error: &InitError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[test]
fn a_bad_variable_names_its_reason_in_the_message() {
    let endpoint = error_with("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317");
    let shown = endpoint.to_string();
    assert!(
        shown.starts_with(
            "environment variable OTEL_EXPORTER_OTLP_ENDPOINT=\"localhost:4317\" cannot be used: "
        ),
        "{shown}"
    );
    assert!(
        shown.contains("missing scheme; write http://host:port"),
        "the reason must be in the message: {shown}"
    );
    assert_eq!(
        chain(&endpoint).matches("missing scheme").count(),
        1,
        "the chain repeats the reason: {}",
        chain(&endpoint)
    );

    let protocol = error_with("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    let shown = protocol.to_string();
    assert!(
        shown.contains("OTEL_EXPORTER_OTLP_PROTOCOL=\"http/json\"")
            && shown.contains(
                "unsupported OTLP protocol `http/json`; expected `grpc` or `http/protobuf`"
            ),
        "the accepted values must be in the message: {shown}"
    );

    let sampler = error_with("OTEL_TRACES_SAMPLER", "sometimes");
    let shown = sampler.to_string();
    assert!(
        shown.contains("expected always_on, always_off, traceidratio"),
        "{shown}"
    );
}
