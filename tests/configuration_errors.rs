//! Every environment variable of the `init` table with a bad value: the
//! demo (installed through `init()`) exits non-zero with a message naming
//! the variable and the value, and never panics. And a command-line flag
//! beats the environment, which beats the code.

mod support;

use std::process::Command;
use support::init::VARIABLES;
use support::stack::demo_binary;
use support::{free_port, http_get, Process, TempDir};

fn demo(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(demo_binary());
    for var in VARIABLES {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).args(args);
    command
}

#[test]
fn a_bad_value_in_any_variable_is_a_clear_error() {
    // OTEL_SERVICE_NAME takes any text: there is no bad value to try.
    let cases: &[(&str, &str, &str)] = &[
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "not a url",
            "missing scheme",
        ),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url", "missing scheme"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector:4317",
            "needs TLS",
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "carrier-pigeon",
            "expected `grpc` or `http/protobuf`",
        ),
        ("OTEL_TRACES_SAMPLER", "sometimes", "unsupported sampler"),
        (
            "OTEL_TRACES_SAMPLER_ARG",
            "2",
            "expected a ratio from 0 to 1",
        ),
        ("RUST_LOG", "[[[", "[[["),
        ("PHOTON_METRICS_LISTEN", "garbage", "invalid listen address"),
        ("PHOTON_LOG_FORMAT", "xml", "expected json, pretty or off"),
        (
            "PHOTON_LOG_FILE",
            "/proc/photon/demo.log",
            "cannot write logs to /proc/photon/demo.log",
        ),
    ];
    for (var, value, reason) in cases {
        let out = demo(&[(var, value)], &["--duration", "1"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{var}={value}: {stderr}");
        assert!(
            stderr.contains(&format!("environment variable {var}={value:?}")),
            "{var}={value}: the message must name the variable and the value: {stderr}"
        );
        assert!(
            stderr.contains(reason),
            "{var}={value}: no reason in {stderr}"
        );
        assert!(!stderr.contains("Pushgateway"), "{var}: {stderr}");
        assert!(!stderr.contains("panicked"), "{var}: {stderr}");
    }
    // A bad flag names the flag.
    let out = demo(&[], &["--listen", "garbage"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--listen garbage: invalid listen address"),
        "{stderr}"
    );
}

#[test]
fn a_flag_beats_the_environment_which_beats_the_code() {
    let dir = TempDir::new("precedence");
    let (env_port, flag_port) = (free_port(), free_port());
    let env_addr = format!("127.0.0.1:{env_port}");

    // No flag: the variable replaces the demo's default (0.0.0.0:8080).
    let command = demo(
        &[("PHOTON_METRICS_LISTEN", &env_addr)],
        &["--duration", "20"],
    );
    let mut from_env = Process::spawn("photon-demo", command, dir.path().join("env.log"));
    support::wait_for_metrics(&mut from_env, env_port);
    drop(from_env);

    // The flag: it wins over the variable.
    let command = demo(
        &[("PHOTON_METRICS_LISTEN", &env_addr)],
        &[
            "--duration",
            "20",
            "--listen",
            &format!("127.0.0.1:{flag_port}"),
        ],
    );
    let mut from_flag = Process::spawn("photon-demo", command, dir.path().join("flag.log"));
    support::wait_for_metrics(&mut from_flag, flag_port);
    assert!(
        http_get(&format!("http://{env_addr}/metrics")).is_err(),
        "the variable's address must not be served when the flag is given"
    );
}
