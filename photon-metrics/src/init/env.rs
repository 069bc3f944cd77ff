//! The environment variables of the table on [`init()`](super::init), applied
//! over what the code set.

use super::{InitError, Sampling, TelemetryBuilder};
use crate::export::logs::LogFormat;
#[cfg(feature = "otlp")]
use crate::export::otlp::{OtlpConfig, Protocol};
use crate::export::prometheus::PrometheusExporterBuilder;

impl TelemetryBuilder {
    pub(super) fn apply_environment(&mut self) -> Result<(), InitError> {
        let ignored = self.ignored.clone();
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty() && !ignored.contains(&name))
        };
        let bad = |var: &'static str, value: &str, reason: &dyn std::fmt::Display| {
            InitError::Environment {
                var,
                value: value.to_string(),
                source: reason.to_string().into(),
            }
        };
        if let Some(name) = var("OTEL_SERVICE_NAME") {
            self.service_name = name;
        }
        if let Some(file) = var("PHOTON_LOG_FILE") {
            self.log_file = Some(file.into());
            self.log_file_from_env = true;
        }
        if let Some(format) = var("PHOTON_LOG_FORMAT") {
            self.log_format = LogFormat::parse(&format).ok_or_else(|| {
                bad(
                    "PHOTON_LOG_FORMAT",
                    &format,
                    &"expected json, pretty or off",
                )
            })?;
        }
        if let Some(listen) = var("PHOTON_METRICS_LISTEN") {
            self.metrics = if listen == "off" {
                self.metrics
                    .take()
                    .map(PrometheusExporterBuilder::without_listener)
            } else {
                let base = self.metrics.take().unwrap_or_default();
                Some(
                    base.listen_on(&listen)
                        .map_err(|e| InitError::Environment {
                            var: "PHOTON_METRICS_LISTEN",
                            value: listen.clone(),
                            source: Box::new(e),
                        })?,
                )
            };
        }
        // The argument is checked whenever it is set, and applies to the
        // default sampler (parentbased_traceidratio) when no sampler is named.
        let ratio = match var("OTEL_TRACES_SAMPLER_ARG") {
            None => None,
            Some(a) => Some(
                a.parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| {
                        bad(
                            "OTEL_TRACES_SAMPLER_ARG",
                            &a,
                            &"expected a ratio from 0 to 1",
                        )
                    })?,
            ),
        };
        if let (Some(ratio), Sampling::Ratio { parent_based, .. }) = (ratio, self.sampler) {
            self.sampler = Sampling::Ratio {
                parent_based,
                ratio,
            };
        }
        if let Some(sampler) = var("OTEL_TRACES_SAMPLER") {
            let ratio = ratio.unwrap_or(1.0);
            self.sampler = match sampler.as_str() {
                "always_on" => Sampling::AlwaysOn {
                    parent_based: false,
                },
                "always_off" => Sampling::AlwaysOff {
                    parent_based: false,
                },
                "traceidratio" => Sampling::Ratio {
                    parent_based: false,
                    ratio,
                },
                "parentbased_always_on" => Sampling::AlwaysOn { parent_based: true },
                "parentbased_always_off" => Sampling::AlwaysOff { parent_based: true },
                "parentbased_traceidratio" => Sampling::Ratio {
                    parent_based: true,
                    ratio,
                },
                other => {
                    return Err(bad(
                        "OTEL_TRACES_SAMPLER",
                        other,
                        &"unsupported sampler; expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
                    ))
                }
            };
        }
        #[cfg(feature = "otlp")]
        {
            let protocol = match var("OTEL_EXPORTER_OTLP_PROTOCOL") {
                Some(p) => Some(Protocol::parse(&p).map_err(|e| InitError::Environment {
                    var: "OTEL_EXPORTER_OTLP_PROTOCOL",
                    value: p.clone(),
                    source: Box::new(e),
                })?),
                None => None,
            };
            let traces = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
            let base = var("OTEL_EXPORTER_OTLP_ENDPOINT");
            if traces.is_some() || base.is_some() || protocol.is_some() {
                let mut config = self.otlp.take().unwrap_or_else(|| {
                    OtlpConfig::grpc(crate::export::otlp::DEFAULT_GRPC_ENDPOINT)
                });
                if let Some(protocol) = protocol {
                    if protocol != config.protocol && traces.is_none() && base.is_none() {
                        config.endpoint = match protocol {
                            Protocol::Grpc => crate::export::otlp::DEFAULT_GRPC_ENDPOINT.into(),
                            Protocol::HttpProtobuf => {
                                crate::export::otlp::DEFAULT_HTTP_ENDPOINT.into()
                            }
                        };
                    }
                    config.protocol = protocol;
                }
                // The endpoint is checked here, where the variable it came
                // from is known, so the error can name it.
                let from = |var: &'static str, value: &str, config: &OtlpConfig| {
                    config.validate().map_err(|e| InitError::Environment {
                        var,
                        value: value.to_string(),
                        source: Box::new(e),
                    })
                };
                if let Some(endpoint) = traces {
                    config.endpoint = endpoint.clone();
                    from("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint, &config)?;
                } else if let Some(endpoint) = base {
                    config.endpoint = match config.protocol {
                        Protocol::Grpc => endpoint.clone(),
                        Protocol::HttpProtobuf => {
                            format!("{}/v1/traces", endpoint.trim_end_matches('/'))
                        }
                    };
                    from("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint, &config)?;
                }
                self.otlp = Some(config);
            }
        }
        Ok(())
    }
}
