//! Pushing the exposition to a Prometheus Pushgateway, for batch compile
//! jobs that end before Prometheus would scrape them.
//!
//! A job shorter than a push interval would push nothing if pushes only
//! happened on a timer, so a push happens on a timer *and* on demand (`PrometheusExporter::push_now`), which a batch job calls
//! last; the body is the same exposition the listener serves.
//!

use super::encode::{self, Format};
use super::ExportError;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Where and how often to push.
#[derive(Debug, Clone)]
pub(crate) struct PushConfig {
    pub endpoint: String,
    pub interval: Option<Duration>,
}

/// Checks that `endpoint` is `http://host[:port]/metrics/job/<job>[/label/value…]`.
pub(crate) fn parse_endpoint(endpoint: &str) -> Result<String, ExportError> {
    let invalid = |reason: &str| ExportError::InvalidPushgatewayEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.to_string(),
    };
    let rest = match endpoint.split_once("://") {
        Some(("http", rest)) => rest,
        Some(("https", _)) => {
            return Err(invalid(
                "https is not supported by the push client; use http:// (or a TLS proxy)",
            ))
        }
        Some((scheme, _)) => {
            return Err(invalid(&format!(
                "unsupported scheme `{scheme}`; use http://"
            )))
        }
        None => {
            return Err(invalid(
                "missing scheme; expected http://host:port/metrics/job/<job>",
            ))
        }
    };
    let (host, path) = rest
        .split_once('/')
        .ok_or_else(|| invalid("missing the /metrics/job/<job> path"))?;
    if host.is_empty() {
        return Err(invalid("missing host"));
    }
    let mut parts = path.split('/');
    if parts.next() != Some("metrics")
        || parts.next() != Some("job")
        || parts.next().is_none_or(str::is_empty)
    {
        return Err(invalid("the path must start with /metrics/job/<job>"));
    }
    Ok(endpoint.trim_end_matches('/').to_string())
}

/// Pushes the exposition once, replacing the group (HTTP PUT), in the
/// protobuf format, as client_golang's push does: the Pushgateway's own
/// format, and the one that carries native histograms and start times.
pub(crate) fn push(store: &Store, endpoint: &str) -> Result<(), ExportError> {
    let mut body = Vec::new();
    encode::render(store, Format::Protobuf, &mut body);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let failed = |reason: String| ExportError::Push {
        endpoint: endpoint.to_string(),
        reason,
    };
    let mut response = agent
        .put(endpoint)
        .content_type(Format::Protobuf.content_type())
        .send(&body[..])
        .map_err(|e| failed(e.to_string()))?;
    if response.status().is_success() {
        return Ok(());
    }
    let status = response.status();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Err(failed(format!("HTTP {status}: {}", body.trim())))
}

/// Pushes every `interval` on a background thread; a failed push is logged
/// (at most once per failure streak) and retried at the next tick.
pub(crate) fn spawn_periodic(store: Arc<Store>, config: PushConfig) -> Result<(), ExportError> {
    let Some(interval) = config.interval else {
        return Ok(());
    };
    std::thread::Builder::new()
        .name("photon-metrics-push".into())
        .spawn(move || {
            let mut failing = false;
            loop {
                std::thread::sleep(interval);
                match push(&store, &config.endpoint) {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!(endpoint = %config.endpoint, "photon-metrics: pushes succeed again");
                    }
                    Ok(()) => {}
                    Err(e) if !failing => {
                        failing = true;
                        crate::warning::warn(|| {
                            tracing::warn!(error = %e, "photon-metrics: push to the Pushgateway failed; retrying every {interval:?}");
                        });
                    }
                    Err(_) => {}
                }
            }
        })
        .map(drop)
        .map_err(ExportError::Thread)
}

#[cfg(test)]
mod tests {
    use super::parse_endpoint;

    #[test]
    fn endpoints_are_checked() {
        assert!(parse_endpoint("http://127.0.0.1:9091/metrics/job/compile").is_ok());
        assert!(parse_endpoint("http://gw/metrics/job/compile/target/mzi").is_ok());
        for bad in [
            "127.0.0.1:9091/metrics/job/x",
            "https://gw/metrics/job/x",
            "ftp://gw/metrics/job/x",
            "http://gw/",
            "http://gw/metrics/job/",
            "http:///metrics/job/x",
        ] {
            let err = parse_endpoint(bad).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
    }
}
