//! An application's own families, served next to the catalog's.
//!
//! A kernel scheduler declares two families of its own: a counter of
//! kernel launches by dialect (an enum of its own), tenant (an open,
//! capped label of its own) and outcome (the catalog's `Status`), and a
//! histogram of queue wait by dialect and target (the catalog's `Target`).
//! It records them in a loop, as it would in production, and serves them
//! on `/metrics` with every catalog family.
//!
//! ```text
//! cargo run --example own-families -- --listen 127.0.0.1:9184 --duration 30
//! curl -s localhost:9184/metrics | grep '^app_'
//! ```

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{OpenValue, Status, Target};
use photon_metrics::{family, Label};
use std::time::{Duration, Instant};

/// The dialect a kernel was lowered from.
#[derive(Label, Clone, Copy, Debug, PartialEq, Eq)]
#[label(name = "dialect")]
enum Dialect {
    Linalg,
    Tosa,
    #[label(value = "stablehlo")]
    StableHlo,
}

/// The tenant that submitted the kernel: open, at most 16 at once (more
/// are counted as `__overflow__`), retired when the tenant leaves.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "tenant", cap = 16)]
struct Tenant(OpenValue);

family! {
    /// Kernels launched on the accelerator, by dialect, tenant and outcome.
    #[family(name = "app_kernel_launches_total", unit = count)]
    static KERNEL_LAUNCHES: Counter<(Dialect, Tenant, Status)>;

    /// Time a kernel waited in the queue before it ran, in seconds, by dialect and target.
    #[family(name = "app_queue_wait_seconds", unit = seconds,
             buckets = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0],
             native(schema = 3))]
    static QUEUE_WAIT: Histogram<(Dialect, Target)>;
}

struct Args {
    listen: String,
    duration: Duration,
}

fn args() -> Result<Args, String> {
    let mut listen = "0.0.0.0:9184".to_string();
    let mut duration = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--listen" => listen = it.next().ok_or("--listen needs ADDR")?,
            "--duration" => {
                let secs = it.next().ok_or("--duration needs SECS")?;
                let secs: f64 = secs
                    .parse()
                    .map_err(|_| format!("--duration {secs}: not a number of seconds"))?;
                if !secs.is_finite() || secs < 0.0 {
                    return Err(format!("--duration {secs}: not a number of seconds"));
                }
                duration = Some(Duration::from_secs_f64(secs));
            }
            other => {
                return Err(format!(
                "unknown argument `{other}`; usage: own-families [--listen ADDR] [--duration SECS]"
            ))
            }
        }
    }
    Ok(Args {
        listen,
        duration: duration.unwrap_or(Duration::from_secs(60)),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args().unwrap_or_else(|e| {
        eprintln!("own-families: {e}");
        std::process::exit(2);
    });
    // No registration call: install finds every `family!` of the program,
    // so both families are in the first scrape.
    let exporter = PrometheusExporterBuilder::new()
        .listen_on(&args.listen)?
        .install()?;
    println!(
        "own-families: serving http://{}/metrics for {:.0} s",
        exporter
            .local_addr()
            .map_or(args.listen.clone(), |a| a.to_string()),
        args.duration.as_secs_f64()
    );

    let targets = [Target::new("mzi-64x64")?, Target::new("microring-32")?];
    let dialects = [Dialect::Linalg, Dialect::Tosa, Dialect::StableHlo];
    let tenants: Vec<Tenant> = ["acme", "globex", "initech"]
        .iter()
        .map(|t| Tenant::new(t))
        .collect::<Result<_, _>>()?;
    let end = Instant::now() + args.duration;
    let mut i: u64 = 0;
    while Instant::now() < end {
        let dialect = dialects[(i % 3) as usize];
        let tenant = tenants[(i % 5 % 3) as usize];
        let target = targets[(i % 2) as usize];
        // A simulated kernel: it waits (its queue time is observed when
        // the timer drops), runs, and fails one time in ten.
        let waited = QUEUE_WAIT.start_timer((dialect, target));
        std::thread::sleep(Duration::from_micros(100 + (i * 37) % 900));
        drop(waited);
        let status = if i % 10 == 9 {
            Status::Error
        } else {
            Status::Success
        };
        KERNEL_LAUNCHES.inc((dialect, tenant, status));
        i += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("own-families: launched {i} kernels");
    Ok(())
}
