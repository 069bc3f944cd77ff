photon_metrics::family! {
    /// Kernels launched.
    #[family(name = "app_kernels_total", subsystem = kernels)]
    static KERNELS: Counter<()>;
}
fn main() {}
