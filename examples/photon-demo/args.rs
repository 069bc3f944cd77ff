//! Command-line flags.

use photon_metrics::export::logs::LogFormat;
use std::time::Duration;

pub const USAGE: &str = "usage: photon-demo [--listen ADDR] [--duration SECS] [--device-down ID] [--otlp URL] [--log-format FORMAT] [--show-overflow] [--churn SECS]

  --listen ADDR         where to serve /metrics (default 0.0.0.0:8080; beats $PHOTON_METRICS_LISTEN)
  --duration SECS       stop after SECS seconds (default: run until Ctrl-C)
  --device-down ID      keep device ID (opu-0 … opu-3) down, e.g. to see DeviceFailure fire
  --otlp URL            send spans over OTLP/gRPC, e.g. http://localhost:4317 (beats OTEL_EXPORTER_OTLP_ENDPOINT)
  --log-format FORMAT   json (the promtail schema), pretty (default) or off (beats PHOTON_LOG_FORMAT)
  --show-overflow       lower the model_type cap to 6, so ad-hoc experiment models overflow into
                        __overflow__ within seconds (the cardinality guard at work)
  --churn SECS          replace one device every SECS seconds (the old id retired, its series gone,
                        DeviceFailure resolved; a new id brought up), and give ad-hoc model types a
                        life of 2 × SECS, after which idle expiry (3 × SECS) retires them";

pub struct Args {
    /// `None`: the environment or the library's default decides.
    pub listen: Option<String>,
    pub duration: Option<Duration>,
    pub device_down: Option<String>,
    pub otlp: Option<String>,
    pub log_format: Option<LogFormat>,
    pub show_overflow: bool,
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
