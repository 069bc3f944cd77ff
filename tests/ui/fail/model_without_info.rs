use photon_metrics::instrument_compile;
use photon_metrics::labels::Target;

struct Model;

#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model) {}

fn main() {}
