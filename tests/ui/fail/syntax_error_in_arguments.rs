use photon_metrics::instrument_compile;

#[instrument_compile(target = , model = m)]
fn compile(t: u32, m: u32) -> u32 {
    t + m
}

fn main() {}
