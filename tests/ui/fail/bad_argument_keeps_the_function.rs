use photon_metrics::instrument_compile;
use photon_metrics::labels::Target;

struct M;

// One mistake in the attribute: one error, and `compile` still exists, so
// its call below is not a second error.
#[instrument_compile(target = t, model = m, modle_size = 3)]
fn compile(_t: Target, _m: &M) -> u32 {
    1
}

fn main() {
    let _ = compile(Target::new("x").unwrap(), &M);
}
