//! Command-line flags.

use photon_metrics::export::logs::LogFormat;
use std::time::Duration;

pub const USAGE: &str = "usage: photon-demo [--listen ADDR] [--duration SECS] [--device-down ID] [--otlp URL] [--log-format FORMAT] [--show-overflow] [--web-config FILE] [--crash KIND] [--churn SECS]

  --listen ADDR         where to serve /metrics (default 0.0.0.0:8080; beats $PHOTON_METRICS_LISTEN)
  --duration SECS       stop after SECS seconds (default: run until Ctrl-C)
  --device-down ID      keep device ID (opu-0 … opu-3) down, e.g. to see DeviceFailure fire
  --otlp URL            send spans over OTLP/gRPC, e.g. http://localhost:4317 (beats OTEL_EXPORTER_OTLP_ENDPOINT)
  --log-format FORMAT   json (the promtail schema), pretty (default) or off (beats PHOTON_LOG_FORMAT)
  --show-overflow       lower the model_type cap to 6, so ad-hoc experiment models overflow into
                        __overflow__ within seconds (the cardinality guard at work)
  --web-config FILE     serve /metrics with TLS and/or basic auth from an exporter-toolkit
                        web-config file (the format of node_exporter's --web.config.file)
  --crash KIND          the first compile crashes: `simulated` (one of the demo's deliberate crashes:
                        recorded as status=\"panic\", caught, and the demo carries on) or `real` (an
                        unexpected panic: reported as one, and the demo stops with exit status 101)
  --churn SECS          replace one device every SECS seconds (the old id retired, its series gone,
                        DeviceFailure resolved; a new id brought up), and give ad-hoc model types a
                        life of 2 × SECS, after which idle expiry (3 × SECS) retires them";

/// Which crash `--crash` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    /// One of the simulated compiler's deliberate crashes.
    Simulated,
    /// A panic the demo does not expect, as a bug would raise.
    Real,
}

pub struct Args {
    /// `None`: the environment or the library's default decides.
    pub listen: Option<String>,
    pub duration: Option<Duration>,
    pub device_down: Option<String>,
    pub otlp: Option<String>,
    pub log_format: Option<LogFormat>,
    pub show_overflow: bool,
    pub web_config: Option<String>,
    pub crash: Option<Crash>,
    pub churn: Option<Duration>,
}

impl Args {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Args {
            listen: None,
            duration: None,
            device_down: None,
            otlp: None,
            log_format: None,
            show_overflow: false,
            web_config: None,
            crash: None,
            churn: None,
        };
        while let Some(flag) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
            match flag.as_str() {
                "--listen" => parsed.listen = Some(value("--listen")?),
                "--duration" => {
                    let raw = value("--duration")?;
                    let secs: f64 = raw
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                        .ok_or(format!("--duration takes seconds, got `{raw}`"))?;
                    parsed.duration = Some(Duration::from_secs_f64(secs));
                }
                "--device-down" => parsed.device_down = Some(value("--device-down")?),
                "--otlp" => parsed.otlp = Some(value("--otlp")?),
                "--log-format" => {
                    let raw = value("--log-format")?;
                    parsed.log_format = Some(LogFormat::parse(&raw).ok_or(format!(
                        "--log-format takes json, pretty or off, got `{raw}`"
                    ))?);
                }
                "--show-overflow" => parsed.show_overflow = true,
                "--web-config" => parsed.web_config = Some(value("--web-config")?),
                "--crash" => {
                    parsed.crash = Some(match value("--crash")?.as_str() {
                        "simulated" => Crash::Simulated,
                        "real" => Crash::Real,
                        other => {
                            return Err(format!("--crash takes simulated or real, got `{other}`"))
                        }
                    })
                }
                "--churn" => {
                    let raw = value("--churn")?;
                    let secs: f64 = raw
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or(format!(
                            "--churn takes a positive number of seconds, got `{raw}`"
                        ))?;
                    parsed.churn = Some(Duration::from_secs_f64(secs));
                }
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(parsed)
    }
}
