//! W3C trace context (`traceparent`, `tracestate`) across processes, so a
//! compile in one process and an inference in another are one trace.
//!
//! ```no_run
//! use photon_metrics::propagation;
//!
//! // Sender: inside the span to continue elsewhere.
//! let span = tracing::info_span!("submit");
//! let headers = propagation::inject(&span); // {"traceparent": "00-…-…-01"}
//!
//! // Receiver: a span whose parent is the remote span; instrumented calls
//! // made inside it become part of the same trace.
//! let request = tracing::info_span!("serve");
//! propagation::set_parent(&request, &headers);
//! request.in_scope(|| { /* #[instrument_inference] calls … */ });
//! ```

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C trace context of `span` as headers (`traceparent`, and
/// `tracestate` when set). Empty when the span is not traced.
pub fn inject(span: &tracing::Span) -> HashMap<String, String> {
    let mut headers = HashMap::new();
    TraceContextPropagator::new().inject_context(&span.context(), &mut headers);
    headers
}

/// Makes the trace context in `headers` the parent of `span`. Returns
/// whether a valid `traceparent` was found (a missing or malformed one
/// leaves `span` a root, as the W3C spec asks).
pub fn set_parent(span: &tracing::Span, headers: &HashMap<String, String>) -> bool {
    use opentelemetry::trace::TraceContextExt;
    let cx = TraceContextPropagator::new().extract(headers);
    let valid = cx.span().span_context().is_valid();
    valid && span.set_parent(cx).is_ok()
}
