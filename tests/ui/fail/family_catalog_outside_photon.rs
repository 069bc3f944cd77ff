photon_metrics::family! {
    #![catalog]

    /// Kernels launched.
    #[family(name = "app_kernels_total")]
    static KERNELS: Counter<()>;
}
fn main() {}
