//! What `#[instrument_compile]` and `#[instrument_inference]` record on every
//! path — success, error, panic, cancellation, sync and async — read back from
//! a local recorder through the public API.

mod support;

use photon_metrics::labels::{DeviceType, ModelType, Target};
use photon_metrics::{instrument_compile, instrument_inference, ErrorClass, ModelInfo};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::time::Duration;
use support::exec::{block_on, poll_once, yield_once};
use support::recorded::record;

#[derive(ModelInfo)]
struct Model {
    #[model(id)]
    id: String,
    #[model(model_type)]
    arch: ModelType,
    #[model(parameters)]
    params: u64,
}

#[derive(Debug, ErrorClass)]
enum CompileError {
    UnsupportedOp(&'static str),
    #[error_kind(rename = "oom")]
    OutOfMemory {
        needed: u64,
    },
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::UnsupportedOp(op) => write!(f, "unsupported op {op}"),
            CompileError::OutOfMemory { needed } => write!(f, "needs {needed} bytes"),
        }
    }
}

fn target() -> Target {
    Target::new("mzi-64x64").unwrap()
}

fn model(params: u64) -> Model {
    Model {
        id: "resnet50-v1.5".into(),
        arch: ModelType::new("resnet").unwrap(),
        params,
    }
}

const COMPILATIONS: &str = "photon_compilations_total";
const DURATION: &str = "photon_compilation_duration_seconds";
const ERRORS: &str = "photon_compilation_errors_total";

fn status(s: &str) -> [(&str, &str); 3] {
    [
        ("target", "mzi-64x64"),
        ("status", s),
        ("model_type", "resnet"),
    ]
}

enum Plan {
    Succeed,
    Unsupported,
    OutOfMemory,
    Panic,
}

#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model, plan: Plan) -> Result<Vec<u8>, CompileError> {
    match plan {
        Plan::Succeed => Ok(vec![1, 2, 3]),
        Plan::Unsupported => Err(CompileError::UnsupportedOp("fft"))?,
        Plan::OutOfMemory => return Err(CompileError::OutOfMemory { needed: 1 << 40 }),
        Plan::Panic => panic!("lowering pass crashed"),
    }
}

#[test]
fn sync_success_counts_and_times_with_model_size_from_parameters() {
    let (out, r) = record(|| {
        compile(target(), &model(25_600_000), Plan::Succeed).unwrap();
        compile(target(), &model(10), Plan::Succeed)
    });
    assert_eq!(out.unwrap(), vec![1, 2, 3]);
    assert_eq!(
        r.counter(COMPILATIONS, &status("success")),
        2,
        "{}",
        r.dump(COMPILATIONS)
    );
    assert_eq!(
        r.histogram(
            DURATION,
            &[("target", "mzi-64x64"), ("model_size", "large")]
        )
        .len(),
        1
    );
    assert_eq!(
        r.histogram(
            DURATION,
            &[("target", "mzi-64x64"), ("model_size", "small")]
        )
        .len(),
        1
    );
    assert_eq!(r.counter(COMPILATIONS, &status("error")), 0);
}

#[test]
fn errors_are_classified_by_the_derived_kind_through_question_mark_and_return() {
    let (_, r) = record(|| {
        assert!(compile(target(), &model(1), Plan::Unsupported).is_err());
        assert!(compile(target(), &model(1), Plan::OutOfMemory).is_err());
        assert!(compile(target(), &model(1), Plan::OutOfMemory).is_err());
    });
    assert_eq!(r.counter(COMPILATIONS, &status("error")), 3);
    assert_eq!(
        r.counter(
            ERRORS,
            &[("target", "mzi-64x64"), ("error_kind", "UnsupportedOp")]
        ),
        1
    );
    assert_eq!(
        r.counter(ERRORS, &[("target", "mzi-64x64"), ("error_kind", "oom")]),
        2,
        "{}",
        r.dump(ERRORS)
    );
    assert_eq!(
        r.histogram(
            DURATION,
            &[("target", "mzi-64x64"), ("model_size", "small")]
        )
        .len(),
        3
    );
}

#[instrument_compile(target = target, model = model)]
fn parse_budget(target: Target, model: &Model, text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

#[test]
fn errors_without_error_class_use_their_type_name() {
    let (_, r) = record(|| parse_budget(target(), &model(1), "many").unwrap_err());
    assert_eq!(
        r.counter(
            ERRORS,
            &[
                ("target", "mzi-64x64"),
                ("error_kind", "core::num::error::ParseIntError")
            ]
        ),
        1
    );
}

#[instrument_compile(target = target, model = model)]
fn read_weights(target: Target, model: &Model) -> Result<u32, std::io::Error> {
    Err(std::io::Error::other("weights file truncated"))
}

#[instrument_compile(target = target, model = model)]
fn load_graph(target: Target, model: &Model) -> Result<u32, anyhow::Error> {
    Err(anyhow::anyhow!("graph has a cycle"))
}

#[instrument_compile(target = target, model = model)]
fn parse_config(target: Target, model: &Model) -> Result<u32, serde_json::Error> {
    serde_json::from_str("{not json")
}

#[test]
fn errors_named_error_in_different_crates_get_different_kinds() {
    let (_, r) = record(|| {
        read_weights(target(), &model(1)).unwrap_err();
        load_graph(target(), &model(1)).unwrap_err();
        parse_config(target(), &model(1)).unwrap_err();
    });
    let kind = |k: &str| r.counter(ERRORS, &[("target", "mzi-64x64"), ("error_kind", k)]);
    // Each is the path `std::any::type_name` gives: where the type is
    // defined, private modules included.
    assert_eq!(kind("std::io::error::Error"), 1, "{}", r.dump(ERRORS));
    assert_eq!(kind("anyhow::Error"), 1, "{}", r.dump(ERRORS));
    assert_eq!(kind("serde_json::error::Error"), 1, "{}", r.dump(ERRORS));
    assert_eq!(kind("Error"), 0, "{}", r.dump(ERRORS));
}

#[test]
fn a_panic_is_recorded_and_keeps_unwinding() {
    let (caught, r) = record(|| {
        catch_unwind(AssertUnwindSafe(|| {
            compile(target(), &model(1), Plan::Panic)
        }))
    });
    let payload = caught.expect_err("the panic must propagate to the caller");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"lowering pass crashed")
    );
    assert_eq!(
        r.counter(COMPILATIONS, &status("panic")),
        1,
        "{}",
        r.dump(COMPILATIONS)
    );
    assert_eq!(
        r.histogram(
            DURATION,
            &[("target", "mzi-64x64"), ("model_size", "small")]
        )
        .len(),
        1
    );
}

#[instrument_compile(target = target, model = model)]
async fn compile_async(target: Target, model: &Model, fail: bool) -> Result<usize, CompileError> {
    yield_once().await;
    yield_once().await;
    if fail {
        return Err(CompileError::UnsupportedOp("conv3d"));
    }
    Ok(model.id.len())
}

#[test]
fn async_duration_covers_every_await() {
    let m = model(1);
    let (out, r) = record(|| {
        block_on(
            compile_async(target(), &m, false),
            Duration::from_millis(30),
        )
    });
    assert_eq!(out.unwrap(), "resnet50-v1.5".len());
    assert_eq!(r.counter(COMPILATIONS, &status("success")), 1);
    let samples = r.histogram(
        DURATION,
        &[("target", "mzi-64x64"), ("model_size", "small")],
    );
    assert_eq!(samples.len(), 1);
    assert!(
        samples[0] >= 0.055,
        "two 30 ms awaits must be inside the timing, got {}s",
        samples[0]
    );
}

#[test]
fn async_error_is_classified() {
    let m = model(1);
    let (_, r) = record(|| block_on(compile_async(target(), &m, true), Duration::ZERO));
    assert_eq!(r.counter(COMPILATIONS, &status("error")), 1);
    assert_eq!(
        r.counter(
            ERRORS,
            &[("target", "mzi-64x64"), ("error_kind", "UnsupportedOp")]
        ),
        1
    );
}

#[test]
fn a_future_dropped_mid_await_is_cancelled() {
    let m = model(1);
    let (finished, r) = record(|| {
        let mut fut = pin!(compile_async(target(), &m, false));
        poll_once(fut.as_mut())
        // dropped here, suspended at the first await
    });
    assert!(!finished);
    assert_eq!(
        r.counter(COMPILATIONS, &status("cancelled")),
        1,
        "{}",
        r.dump(COMPILATIONS)
    );
    assert_eq!(r.counter(COMPILATIONS, &status("success")), 0);
}

#[test]
fn a_future_never_polled_records_nothing() {
    let m = model(1);
    let (_, r) = record(|| drop(compile_async(target(), &m, false)));
    assert_eq!(
        r.counter(COMPILATIONS, &status("cancelled")),
        0,
        "{}",
        r.dump(COMPILATIONS)
    );
}

// Sync fns that return a future: the future is what is timed and classified,
// from the call to its completion, not its construction.

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

#[instrument_compile(target = target, model = model)]
fn compile_later(
    target: Target,
    model: &Model,
    fail: bool,
) -> impl std::future::Future<Output = Result<usize, CompileError>> + Send + '_ {
    let id = model.id.clone();
    async move {
        yield_once().await;
        yield_once().await;
        if fail {
            return Err(CompileError::UnsupportedOp("conv3d"));
        }
        Ok(id.len())
    }
}

#[instrument_compile(target = target, model = model)]
fn compile_pinned(
    target: Target,
    model: &Model,
    fail: bool,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, CompileError>> + Send + '_>> {
    let params = model.params;
    Box::pin(async move {
        yield_once().await;
        if fail {
            Err(CompileError::OutOfMemory { needed: params })
        } else {
            Ok(params)
        }
    })
}

#[instrument_compile(target = target, model = model)]
fn compile_boxed(
    target: Target,
    model: &Model,
    fail: bool,
) -> BoxFuture<'static, Result<u64, CompileError>> {
    let params = model.params;
    Box::pin(async move {
        yield_once().await;
        if fail {
            Err(CompileError::OutOfMemory { needed: params })
        } else {
            Ok(params)
        }
    })
}

#[instrument_compile(target = target, model = model)]
fn compile_unpin(
    target: Target,
    model: &Model,
) -> impl std::future::Future<Output = Result<u64, CompileError>> + Unpin {
    let params = model.params;
    Box::pin(async move {
        yield_once().await;
        Err(CompileError::UnsupportedOp("unpinned"))?;
        Ok(params)
    })
}

fn is_send<T: Send>(t: T) -> T {
    t
}

#[test]
fn a_sync_fn_returning_a_future_is_timed_and_classified_when_the_future_completes() {
    let m = model(1);
    let (_, r) = record(|| {
        let between = Duration::from_millis(30);
        assert_eq!(
            block_on(is_send(compile_later(target(), &m, false)), between).unwrap(),
            13
        );
        assert!(block_on(compile_later(target(), &m, true), Duration::ZERO).is_err());
        assert_eq!(
            block_on(compile_pinned(target(), &m, false), between).unwrap(),
            1
        );
        assert!(block_on(compile_pinned(target(), &m, true), Duration::ZERO).is_err());
        assert_eq!(
            block_on(compile_boxed(target(), &m, false), between).unwrap(),
            1
        );
        assert!(block_on(compile_boxed(target(), &m, true), Duration::ZERO).is_err());
        let mut unpin = compile_unpin(target(), &m);
        assert!(!poll_once(std::pin::Pin::new(&mut unpin)), "Unpin is kept");
        assert!(block_on(unpin, Duration::ZERO).is_err());
        let mut dropped = pin!(compile_later(target(), &m, false));
        assert!(!poll_once(dropped.as_mut()));
    });
    assert_eq!(
        r.counter(COMPILATIONS, &status("success")),
        3,
        "{}",
        r.dump(COMPILATIONS)
    );
    assert_eq!(r.counter(COMPILATIONS, &status("error")), 4);
    assert_eq!(r.counter(COMPILATIONS, &status("cancelled")), 1);
    assert_eq!(
        r.counter(
            ERRORS,
            &[("target", "mzi-64x64"), ("error_kind", "UnsupportedOp")]
        ),
        2,
        "{}",
        r.dump(ERRORS)
    );
    assert_eq!(
        r.counter(ERRORS, &[("target", "mzi-64x64"), ("error_kind", "oom")]),
        2
    );
    let mut samples = r.histogram(
        DURATION,
        &[("target", "mzi-64x64"), ("model_size", "small")],
    );
    samples.sort_by(f64::total_cmp);
    assert_eq!(samples.len(), 8, "{samples:?}");
    // The three successes waited 30 ms per await: two, one and one awaits.
    assert!(
        samples[5] >= 0.025 && samples[7] >= 0.055,
        "the awaits are inside the timing: {samples:?}"
    );
}

#[instrument_inference(device = DeviceType::Pcm, ops = 5u64)]
fn infer_later(fail: bool) -> impl std::future::Future<Output = Result<u32, InferError>> {
    async move {
        yield_once().await;
        if fail {
            Err(InferError::DeviceTimeout)
        } else {
            Ok(2)
        }
    }
}

#[test]
fn a_sync_inference_fn_returning_a_future_holds_its_session_until_the_future_ends() {
    use photon_metrics::export::prometheus::PrometheusExporterBuilder;
    let (recorder, exporter) = PrometheusExporterBuilder::new()
        .without_listener()
        .build_recorder();
    metrics::with_local_recorder(&recorder, || {
        let mut pending = Box::pin(infer_later(true));
        assert!(!poll_once(pending.as_mut()));
        assert!(exporter.render().contains("photon_active_sessions 1\n"));
        assert!(block_on(pending, Duration::ZERO).is_err());
        assert_eq!(block_on(infer_later(false), Duration::ZERO).unwrap(), 2);
        let text = exporter.render();
        assert!(text.contains("photon_active_sessions 0\n"), "{text}");
        assert!(
            text.contains(r#"photon_runtime_errors_total{error_kind="DeviceTimeout"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"photon_inference_ops_total{device_type="pcm"} 5"#),
            "{text}"
        );
    });
}

// Methods, generics and `impl Trait` returns.

struct Compiler {
    target: Target,
    runs: u32,
}

impl Compiler {
    #[instrument_compile(target = self.target, model = model)]
    fn by_ref(&self, model: &Model) -> usize {
        model.id.len()
    }

    #[instrument_compile(target = self.target, model = model)]
    fn by_mut(&mut self, model: &Model) -> Result<u32, CompileError> {
        self.runs += 1;
        Ok(self.runs)
    }

    #[instrument_compile(target = self.target, model = model)]
    fn by_value(self, model: Model) -> Result<impl Iterator<Item = u8>, CompileError> {
        Ok((0..model.params as u8).map(|x| x * 2))
    }
}

#[instrument_compile(target = target, model = model)]
fn generic<M: ModelInfo, T: Clone + std::fmt::Debug>(target: Target, model: M, item: &T) -> Vec<T> {
    vec![item.clone(); 2]
}

#[instrument_compile(target = target, model = model)]
fn borrowed<'a>(target: Target, model: &'a Model) -> &'a str {
    &model.id
}

#[test]
fn methods_generics_and_impl_trait_returns_are_instrumented() {
    let (_, r) = record(|| {
        let mut c = Compiler {
            target: target(),
            runs: 0,
        };
        assert_eq!(c.by_ref(&model(1)), 13);
        assert_eq!(c.by_mut(&model(1)).unwrap(), 1);
        assert_eq!(c.by_mut(&model(1)).unwrap(), 2);
        assert_eq!(
            c.by_value(model(3)).unwrap().collect::<Vec<_>>(),
            vec![0, 2, 4]
        );
        assert_eq!(generic(target(), model(1), &"x"), vec!["x", "x"]);
        assert_eq!(borrowed(target(), &model(1)), "resnet50-v1.5");
    });
    assert_eq!(
        r.counter(COMPILATIONS, &status("success")),
        6,
        "{}",
        r.dump(COMPILATIONS)
    );
}

// `#[async_trait]`: the attribute sees the expanded `Pin<Box<dyn Future>>` form.

#[async_trait::async_trait]
trait Backend {
    async fn lower(&self, model: &Model) -> Result<u64, CompileError>;
}

struct Photonic {
    target: Target,
}

#[async_trait::async_trait]
impl Backend for Photonic {
    #[instrument_compile(target = self.target, model = model)]
    async fn lower(&self, model: &Model) -> Result<u64, CompileError> {
        yield_once().await;
        if model.params == 0 {
            return Err(CompileError::OutOfMemory { needed: 0 });
        }
        Ok(model.params)
    }
}

#[test]
fn async_trait_methods_are_instrumented_inside_the_boxed_future() {
    let p = Photonic { target: target() };
    let (_, r) = record(|| {
        assert_eq!(
            block_on(p.lower(&model(7)), Duration::from_millis(20)).unwrap(),
            7
        );
        assert!(block_on(p.lower(&model(0)), Duration::ZERO).is_err());
        let m = model(7);
        let mut pending = pin!(p.lower(&m));
        assert!(!poll_once(pending.as_mut()));
    });
    assert_eq!(
        r.counter(COMPILATIONS, &status("success")),
        1,
        "{}",
        r.dump(COMPILATIONS)
    );
    assert_eq!(r.counter(COMPILATIONS, &status("error")), 1);
    assert_eq!(
        r.counter(ERRORS, &[("target", "mzi-64x64"), ("error_kind", "oom")]),
        1
    );
    assert_eq!(r.counter(COMPILATIONS, &status("cancelled")), 1);
    let samples = r.histogram(
        DURATION,
        &[("target", "mzi-64x64"), ("model_size", "small")],
    );
    assert!(
        samples.iter().any(|s| *s >= 0.015),
        "await inside the boxed future is timed: {samples:?}"
    );
}

// Inference.

#[derive(Debug, ErrorClass)]
enum InferError {
    DeviceTimeout,
}

struct Opu {
    kind: DeviceType,
}

impl Opu {
    #[instrument_inference(device = self.kind, ops = batch.len() * 64)]
    fn infer(&self, batch: &[f32], plan: Plan) -> Result<f32, InferError> {
        match plan {
            Plan::Succeed => Ok(batch.iter().sum()),
            Plan::Panic => panic!("detector saturated"),
            _ => Err(InferError::DeviceTimeout),
        }
    }

    #[instrument_inference(device = self.kind)]
    async fn infer_async(&self) -> u32 {
        yield_once().await;
        7
    }
}

const SESSIONS: &str = "photon_active_sessions";

#[test]
fn inference_records_latency_ops_errors_and_releases_the_session_on_every_path() {
    let opu = Opu {
        kind: DeviceType::Microring,
    };
    let (_, r) = record(|| {
        assert_eq!(opu.infer(&[1.0, 2.0], Plan::Succeed).unwrap(), 3.0);
        assert!(opu.infer(&[1.0], Plan::Unsupported).is_err());
        assert!(catch_unwind(AssertUnwindSafe(|| opu.infer(&[1.0], Plan::Panic))).is_err());
        assert_eq!(block_on(opu.infer_async(), Duration::ZERO), 7);
        let mut cancelled = pin!(opu.infer_async());
        assert!(!poll_once(cancelled.as_mut()));
    });
    let dev = [("device_type", "microring")];
    assert_eq!(
        r.gauge(SESSIONS, &[]),
        Some(0.0),
        "every path releases its session"
    );
    assert_eq!(
        r.histogram("photon_inference_latency_seconds", &dev).len(),
        3,
        "ok, err and async ok"
    );
    assert_eq!(r.counter("photon_inference_ops_total", &dev), 128 + 1);
    assert_eq!(
        r.counter(
            "photon_runtime_errors_total",
            &[("error_kind", "DeviceTimeout")]
        ),
        1
    );
    assert_eq!(
        r.counter("photon_runtime_errors_total", &[("error_kind", "panic")]),
        1
    );
    assert!(r.gauge("photon_throughput_ops_per_second", &[]).unwrap() > 0.0);
}

#[test]
fn the_session_is_counted_while_the_call_is_suspended() {
    use photon_metrics::export::prometheus::PrometheusExporterBuilder;
    let (recorder, exporter) = PrometheusExporterBuilder::new()
        .without_listener()
        .build_recorder();
    let opu = Opu {
        kind: DeviceType::Mzi,
    };
    metrics::with_local_recorder(&recorder, || {
        let mut fut = Box::pin(opu.infer_async());
        assert!(!poll_once(fut.as_mut()));
        assert!(
            exporter.render().contains("photon_active_sessions 1\n"),
            "{}",
            exporter.render()
        );
        drop(fut);
        assert!(
            exporter.render().contains("photon_active_sessions 0\n"),
            "{}",
            exporter.render()
        );
    });
}
