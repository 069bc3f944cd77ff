//! The simulated compiler: models compiled for targets, some from cache,
//! some failing.

use crate::rng::Rng;
use photon_metrics::compiler;
use photon_metrics::labels::{ErrorKind, MemoryStat, ModelType, Status, Target};

struct Model {
    kind: ModelType,
    parameters: u64,
    /// Typical compile time in seconds for this model.
    seconds: f64,
}

pub struct Compiler {
    targets: Vec<Target>,
    models: Vec<Model>,
    errors: Vec<ErrorKind>,
}

fn label<T>(value: Result<T, photon_metrics::labels::LabelError>) -> T {
    value.expect("demo labels are valid")
}

impl Compiler {
    pub fn new() -> Self {
        compiler::set_memory_limit(8 << 30);
        Compiler {
            targets: ["mzi-64x64", "microring-16", "simulator"]
                .iter()
                .map(|t| label(Target::new(t)))
                .collect(),
            models: vec![
                Model {
                    kind: label(ModelType::new("resnet50")),
                    parameters: 25_600_000,
                    seconds: 8.0,
                },
                Model {
                    kind: label(ModelType::new("bert-base")),
                    parameters: 110_000_000,
                    seconds: 25.0,
                },
                Model {
                    kind: label(ModelType::new("tiny-mlp")),
                    parameters: 50_000,
                    seconds: 0.3,
                },
            ],
            errors: ["UnsupportedOp", "ShapeMismatch", "OutOfMemory"]
                .iter()
                .map(|e| label(ErrorKind::new(e)))
                .collect(),
        }
    }

    pub fn step(&mut self, rng: &mut Rng) {
        let target = *rng.pick(&self.targets);
        let model = rng.pick(&self.models);
        if rng.chance(0.4) {
            compiler::record_cache_hit(target);
            return;
        }
        compiler::record_cache_miss(target);
        let seconds = model.seconds * rng.range(0.5, 1.5);
        compiler::observe_compilation_duration(target, model.parameters, seconds);
        let status = if rng.chance(0.08) {
            compiler::record_compilation_error(target, *rng.pick(&self.errors));
            Status::Error
        } else {
            Status::Success
        };
        compiler::record_compilation(target, status, model.kind);
        let peak = 256_000_000 + model.parameters * 24;
        compiler::set_memory_usage(target, MemoryStat::Peak, peak);
        compiler::set_memory_usage(
            target,
            MemoryStat::Current,
            (peak as f64 * rng.range(0.3, 0.7)) as u64,
        );
    }
}
