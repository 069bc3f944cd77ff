//! photon-demo: a simulated photon-mlir-bridge deployment that serves every
//! photon-metrics family on `/metrics`.
//!
//! ```text
//! cargo run --example photon-demo -- [--listen ADDR] [--duration SECS]
//! ```
//!
//! It compiles a few models for a few targets (some fail, some hit the
//! cache), drives a few photonic devices whose temperature, optical power and
//! calibration drift (one goes down and comes back), and runs an inference
//! runtime with sessions and a queue. It runs until Ctrl-C, or for
//! `--duration` seconds.

mod args;
mod compiler;
mod crash;
mod devices;
mod rng;
mod runtime;

use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("spawn a simulation thread")
}

/// One simulation step of the device fleet.
const TICK: Duration = Duration::from_millis(200);

/// Prints `context: error: cause: …` (the whole source chain) and exits.
fn fail(code: i32, context: &str, error: &dyn std::error::Error) -> ! {
    let mut message = format!("photon-demo: {context}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    eprintln!("{message}");
    std::process::exit(code);
}

fn main() {
    let args = match args::Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("photon-demo: {message}\n\n{}", args::USAGE);
            std::process::exit(2);
        }
    };

    // Only when asked: a small model_type cap, so the simulated stream of
    // ad-hoc experiment models shows the cardinality guard at work within
    // seconds (see compiler.rs). By default the library's cap (64) holds.
    if args.show_overflow {
        photon_metrics::labels::set_cap(
            photon_metrics::labels::ModelType::LABEL,
            compiler::MODEL_TYPE_CAP,
        )
        .expect("set before any model type exists");
    }

    // Under --churn, ad-hoc model types live 2 × SECS (compiler.rs) and
    // expire 3 × SECS after their last compilation.
    if let Some(churn) = args.churn {
        photon_metrics::labels::set_idle_expiry(
            photon_metrics::labels::ModelType::LABEL,
            Some(churn * 3),
        );
    }

    // Validate every flag before anything is installed or bound.
    let mut devices = match devices::Fleet::new(args.device_down.as_deref()) {
        Ok(fleet) => fleet,
        Err(message) => {
            eprintln!("photon-demo: {message}");
            std::process::exit(2);
        }
    };

    // A flag the operator passed beats the environment variable for the
    // same setting; without the flag, init() reads the variable.
    let mut metrics = PrometheusExporterBuilder::new().global_label("service", "photon-demo");
    let mut telemetry = photon_metrics::init().service_name("photon-demo");
    if let Some(listen) = &args.listen {
        metrics = match metrics.listen_on(listen) {
            Ok(builder) => builder,
            Err(e) => fail(2, &format!("--listen {listen}"), &e),
        };
        telemetry = telemetry.ignore_variable("PHOTON_METRICS_LISTEN");
    }
    if let Some(file) = &args.web_config {
        metrics = match metrics.web_config_file(file) {
            Ok(builder) => builder,
            Err(e) => fail(2, &format!("--web-config {file}"), &e),
        };
    }
    telemetry = telemetry.metrics(metrics).log_format(LogFormat::Pretty);
    if let Some(format) = args.log_format {
        telemetry = telemetry
            .log_format(format)
            .ignore_variable("PHOTON_LOG_FORMAT");
    }
    if let Some(endpoint) = &args.otlp {
        telemetry = telemetry
            .otlp(OtlpConfig::grpc(endpoint.clone()))
            .ignore_variable("OTEL_EXPORTER_OTLP_ENDPOINT")
            .ignore_variable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    }
    let telemetry = match telemetry.install() {
        Ok(guard) => guard,
        Err(e) => fail(1, "cannot start", &e),
    };
    let addr = telemetry
        .metrics()
        .and_then(|m| m.local_addr())
        .expect("the demo always listens");
    eprintln!("photon-demo: serving metrics on http://{addr}/metrics");
    tracing::info!(%addr, "photon-demo started");
    match args.duration {
        Some(d) => eprintln!("photon-demo: running for {} s", d.as_secs_f64()),
        None => eprintln!("photon-demo: running until Ctrl-C"),
    }

    // The simulated compiler crashes now and then on purpose; those panics
    // are recorded (status="panic") and caught, so keep them to one line.
    // Any other panic is reported as Rust reports it, and stops the demo.
    crash::install_hook();

    let mut rng = rng::Rng::new(0x5eed_f011_1197);
    devices.step(0, &mut rng);
    let fleet = devices.shared.clone();
    // The workers stop before telemetry shuts down: a span opened after
    // that is never exported, and the lines written in it have no trace ids.
    static STOP_WORKERS: AtomicBool = AtomicBool::new(false);
    let (fault, churn) = (args.crash, args.churn);
    let workers = [
        spawn("photon-demo-compiler", move || {
            compiler::run(0xc0de, fault, churn, &STOP_WORKERS)
        }),
        spawn("photon-demo-runtime", move || {
            runtime::run(fleet, 0xfeed, &STOP_WORKERS)
        }),
    ];

    // Ctrl-C and SIGTERM (how Kubernetes stops a pod) end the loop instead
    // of the process, so pending spans are flushed below and the demo exits
    // 0; a second signal while flushing exits at once.
    static STOP: AtomicBool = AtomicBool::new(false);
    if let Err(e) = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    }) {
        eprintln!(
            "photon-demo: cannot handle Ctrl-C/SIGTERM ({e}); it will stop without flushing spans"
        );
    }

    let start = Instant::now();
    let mut tick: u64 = 1;
    // A worker ends early only by panicking (a real failure, not a simulated
    // crash): then the demo stops and says so instead of running on without it.
    let died = || workers.iter().any(JoinHandle::is_finished);
    let mut last_churn = Instant::now();
    while args.duration.is_none_or(|d| start.elapsed() < d)
        && !STOP.load(Ordering::SeqCst)
        && !died()
    {
        if args
            .churn
            .is_some_and(|every| last_churn.elapsed() >= every)
        {
            devices.replace_one();
            last_churn = Instant::now();
        }
        devices.step(tick, &mut rng);
        tick += 1;
        std::thread::sleep(TICK);
    }
    STOP_WORKERS.store(true, Ordering::Relaxed);
    let mut failed = false;
    for worker in workers {
        let name = worker.thread().name().unwrap_or("a worker").to_string();
        if let Err(payload) = worker.join() {
            eprintln!(
                "photon-demo: the {name} thread panicked ({}); stopping",
                crash::describe(payload.as_ref())
            );
            failed = true;
        }
    }
    eprintln!("photon-demo: done after {tick} steps");
    // Flushes pending spans (bounded) before exiting.
    if let Err(e) = telemetry.shutdown() {
        eprintln!("photon-demo: {e}");
    }
    if failed {
        // What Rust exits with when the main thread panics.
        std::process::exit(101);
    }
}
