photon_metrics::family! {
    /// Kernels queued.
    #[family(name = "app_kernels_queued", merge = average)]
    static QUEUED: Gauge<()>;
}
fn main() {}
