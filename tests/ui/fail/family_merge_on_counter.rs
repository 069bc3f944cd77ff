photon_metrics::family! {
    /// Kernels launched: a counter always adds up over processes.
    #[family(name = "app_kernels_total", merge = max)]
    static KERNELS: Counter<()>;
}
fn main() {}
