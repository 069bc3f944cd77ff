const LOWERING_BUCKETS: &[f64] = &[0.1, 1.0, 0.5];

photon_metrics::family! {
    /// Lowering time.
    #[family(name = "app_lowering_seconds", unit = seconds, buckets = LOWERING_BUCKETS)]
    static LOWERING: Histogram<()>;
}
fn main() {}
