use photon_metrics::instrument_compile;

#[instrument_compile(target = t, model = m)]
struct Compiler {
    jobs: u32,
}

fn main() {}
