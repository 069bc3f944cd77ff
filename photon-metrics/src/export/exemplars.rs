//! Exemplars: the trace behind a recent count or observation.
//!
//! When a counter is incremented or a histogram observed while a *sampled*
//! span is current, the store keeps `{trace_id, span_id}` with the value and
//! a timestamp as that counter's (or bucket's) latest exemplar. They are
//! served only in OpenMetrics, which is what Prometheus asks for; start
//! Prometheus with `--enable-feature=exemplar-storage` to keep them, and
//! Grafana links a latency panel's points to the traces.
//!
//! The store learns the current span from [`ExemplarLayer`], which
//! [`init()`](crate::init) adds whenever OTLP export is on. If you build
//! your own subscriber, add it next to your `tracing-opentelemetry` layer
//! (order does not matter). Code that knows its trace context some other
//! way (a foreign runtime, a test) can use [`with_trace_context`].
//!
//! With no sampled span current, the cost on the record path is one
//! thread-local read.
//!
//! ```
//! use photon_metrics::export::encode::Format;
//! use photon_metrics::export::exemplars::{with_trace_context, TraceContext};
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! use photon_metrics::labels::{ModelType, Status, Target};
//!
//! let (recorder, exporter) = PrometheusExporterBuilder::new().without_listener().build_recorder();
//! let trace = TraceContext { trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736, span_id: 0x00f067aa0ba902b7 };
//! metrics::with_local_recorder(&recorder, || {
//!     with_trace_context(trace, || {
//!         let target = Target::new("mzi-64x64").unwrap();
//!         let model = ModelType::new("resnet50").unwrap();
//!         photon_metrics::compiler::record_compilation(target, Status::Success, model);
//!     })
//! });
//! let om = exporter.render_as(Format::OpenMetrics);
//! assert!(om.contains(r#"# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 1 "#));
//! ```

use crate::store::exemplar;
pub use crate::store::exemplar::TraceContext;

/// The exemplar label that holds the 32-hex-digit trace id (what Grafana's
/// `exemplarTraceIdDestinations` names).
pub const TRACE_ID_LABEL: &str = "trace_id";

/// The exemplar label that holds the 16-hex-digit span id.
pub const SPAN_ID_LABEL: &str = "span_id";

/// Runs `f` with `context` as the current trace for exemplars on this
/// thread (innermost wins when nested).
pub fn with_trace_context<T>(context: TraceContext, f: impl FnOnce() -> T) -> T {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            exemplar::pop();
        }
    }
    let valid = context.trace_id != 0 && context.span_id != 0;
    exemplar::push(valid.then_some(context));
    let _pop = Pop;
    f()
}

#[cfg(feature = "otlp")]
pub use layer::ExemplarLayer;

#[cfg(feature = "otlp")]
mod layer {
    use crate::store::exemplar::{self, TraceContext};
    use opentelemetry::trace::TraceContextExt;
    use std::sync::OnceLock;
    use tracing::dispatcher::WeakDispatch;
    use tracing::span;
    use tracing::{Dispatch, Subscriber};
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;

    /// A tracing layer that makes each entered, sampled span's W3C ids the
    /// exemplar context of the metrics recorded inside it. Needs
    /// `tracing-opentelemetry`'s layer in the same subscriber.
    #[derive(Debug, Default)]
    pub struct ExemplarLayer {
        dispatch: OnceLock<WeakDispatch>,
    }

    impl ExemplarLayer {
        /// A new layer.
        pub fn new() -> Self {
            Self::default()
        }

        fn context(&self, id: &span::Id) -> Option<TraceContext> {
            // The dispatch this layer was registered with; a layer inside a
            // container that does not forward the registration falls back
            // to the thread's default dispatch.
            let cx = match self.dispatch.get().and_then(WeakDispatch::upgrade) {
                Some(dispatch) => tracing_opentelemetry::get_otel_context(id, &dispatch),
                None => tracing::dispatcher::get_default(|dispatch| {
                    tracing_opentelemetry::get_otel_context(id, dispatch)
                }),
            }?;
            let span = cx.span();
            let sc = span.span_context();
            (sc.is_valid() && sc.is_sampled()).then(|| TraceContext {
                trace_id: u128::from_be_bytes(sc.trace_id().to_bytes()),
                span_id: u64::from_be_bytes(sc.span_id().to_bytes()),
            })
        }
    }

    impl<S> Layer<S> for ExemplarLayer
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        fn on_register_dispatch(&self, subscriber: &Dispatch) {
            let _ = self.dispatch.set(subscriber.downgrade());
        }

        fn on_enter(&self, id: &span::Id, _: Context<'_, S>) {
            exemplar::push(self.context(id));
        }

        fn on_exit(&self, _: &span::Id, _: Context<'_, S>) {
            exemplar::pop();
        }
    }
}
