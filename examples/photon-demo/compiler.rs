//! The simulated compiler, instrumented with `#[instrument_compile]`: models
//! compiled for targets on a worker thread through a pipeline of timed
//! passes, some from cache, some failing in a pass, a rare one crashing.

use crate::args::Crash;
use crate::crash;
use crate::rng::Rng;
use photon_metrics::labels::{MemoryStat, ModelType, Pass, Target};
use photon_metrics::{compiler, instrument_compile, ErrorClass, ModelInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The `model_type` cap under `--show-overflow`: three real architectures
/// plus a few ad-hoc experiments; later experiments are folded into
/// `__overflow__` and counted in
/// `photon_metrics_label_overflow_total{label="model_type"}`.
pub const MODEL_TYPE_CAP: usize = 6;

/// Simulated compile times are this fraction of the real ones, so the demo
/// shows realistic histograms without waiting minutes.
const TIME_SCALE: f64 = 0.05;

#[derive(ModelInfo)]
struct Model {
    #[model(id)]
    id: &'static str,
    #[model(model_type)]
    arch: ModelType,
    #[model(parameters)]
    parameters: u64,
    /// Typical compile time in seconds.
    seconds: f64,
    /// Under `--churn`, when an ad-hoc experiment stops being compiled.
    until: Option<Instant>,
}

#[derive(Debug, Clone, Copy, ErrorClass)]
enum CompileError {
    UnsupportedOp,
    ShapeMismatch,
    OutOfMemory,
}

/// The simulated pipeline, each pass with its share of the compile time;
/// every pass run is timed into `photon_pass_duration_seconds{pass}`.
const PIPELINE: [(&str, f64); 5] = [
    ("inline", 0.05),
    ("canonicalize", 0.15),
    ("shape-inference", 0.1),
    ("photonic-lowering", 0.5),
    ("mesh-placement", 0.2),
];

/// How a compile ends, decided up front; a failure belongs to one pass.
enum Verdict {
    Compiles,
    Fails(CompileError),
    Crashes,
}

impl CompileError {
    /// The pass that meets this error.
    fn pass(&self) -> &'static str {
        match self {
            CompileError::UnsupportedOp => "photonic-lowering",
            CompileError::ShapeMismatch => "shape-inference",
            CompileError::OutOfMemory => "mesh-placement",
        }
    }
}

#[instrument_compile(target = target, model = model)]
fn compile(
    target: Target,
    model: &Model,
    rng: &mut Rng,
    fault: Option<Crash>,
) -> Result<Vec<u8>, CompileError> {
    let seconds = model.seconds * rng.range(0.5, 1.5) * TIME_SCALE;
    let peak = 256_000_000 + model.parameters * 24;
    compiler::set_memory_usage(target, MemoryStat::Peak, peak);
    compiler::set_memory_usage(
        target,
        MemoryStat::Current,
        (peak as f64 * rng.range(0.3, 0.7)) as u64,
    );
    let verdict = match rng.unit() {
        x if x < 0.03 => Verdict::Fails(CompileError::UnsupportedOp),
        x if x < 0.05 => Verdict::Fails(CompileError::ShapeMismatch),
        x if x < 0.06 && model.parameters > 100_000_000 => {
            Verdict::Fails(CompileError::OutOfMemory)
        }
        x if x < 0.065 => Verdict::Crashes,
        _ => Verdict::Compiles,
    };
    for (name, share) in PIPELINE {
        // A crash inside a pass unwinds through its timer: a failed run.
        let mut pass = compiler::start_pass(label(Pass::new(name)), target);
        std::thread::sleep(Duration::from_secs_f64(seconds * share));
        if name == "photonic-lowering" {
            match fault {
                Some(Crash::Simulated) => {
                    crash::simulate("simulated crash in the lowering pass (--crash simulated)")
                }
                Some(Crash::Real) => {
                    panic!("index out of bounds in the lowering pass (--crash real)")
                }
                None => {}
            }
            if let Verdict::Crashes = verdict {
                crash::simulate("simulated crash in the lowering pass");
            }
        }
        if let Verdict::Fails(error) = &verdict {
            if error.pass() == name {
                pass.fail();
                // Inside the compile span: the log line carries model_id and target.
                tracing::warn!(error = ?error, pass = name, "compilation failed");
                return Err(*error);
            }
        }
    }
    tracing::debug!(seconds, "compiled");
    Ok(vec![0; 64])
}

fn label<T>(value: Result<T, photon_metrics::labels::LabelError>) -> T {
    value.expect("demo labels are valid")
}

/// Compiles on the calling thread until `stop` is set; `fault` is what the
/// first compile does (`--crash`). Under `--churn SECS` (`churn`), ad-hoc
/// experiments are compiled for 2 × SECS and then dropped, so idle expiry
/// retires their model types.
pub fn run(seed: u64, mut fault: Option<Crash>, churn: Option<Duration>, stop: &AtomicBool) {
    let mut rng = Rng::new(seed);
    compiler::set_memory_limit(8 << 30);
    let targets: Vec<Target> = ["mzi-64x64", "microring-16", "simulator"]
        .iter()
        .map(|t| label(Target::new(t)))
        .collect();
    let mut models = vec![
        Model {
            id: "resnet50-v1.5",
            arch: label(ModelType::new("resnet")),
            parameters: 25_600_000,
            seconds: 8.0,
            until: None,
        },
        Model {
            id: "bert-base-uncased",
            arch: label(ModelType::new("bert")),
            parameters: 110_000_000,
            seconds: 25.0,
            until: None,
        },
        Model {
            id: "tiny-mlp",
            arch: label(ModelType::new("mlp")),
            parameters: 50_000,
            seconds: 0.3,
            until: None,
        },
    ];
    let mut experiments = 0;
    while !stop.load(Ordering::Relaxed) {
        // Now and then a researcher compiles an ad-hoc architecture with a
        // fresh name: the kind of unbounded label the cap exists for.
        if rng.chance(0.05) {
            experiments += 1;
            let arch = label(ModelType::new(&format!("experiment-{experiments}")));
            models.push(Model {
                id: "adhoc",
                arch,
                parameters: 80_000,
                seconds: 0.5,
                until: churn.map(|c| Instant::now() + c * 2),
            });
        }
        models.retain(|m| m.until.is_none_or(|t| Instant::now() < t));
        let target = *rng.pick(&targets);
        let model = rng.pick(&models);
        if rng.chance(0.4) {
            compiler::record_cache_hit(target);
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        compiler::record_cache_miss(target);
        // A crash is recorded as status="panic" by the attribute; a
        // simulated one is then caught here so the compiler keeps going, any
        // other panic ends the thread, and main stops the demo.
        let _ = crash::catch_simulated(|| compile(target, model, &mut rng, fault.take()));
    }
}
