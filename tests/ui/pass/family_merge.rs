// A gauge says how the processes of one service combine it.
photon_metrics::family! {
    /// Temperature of the host's laser in degrees Celsius.
    #[family(name = "app_laser_celsius", unit = celsius, merge = last)]
    static LASER: Gauge<()>;

    /// Kernels queued in each worker.
    #[family(name = "app_kernels_queued", merge = per_process)]
    static QUEUED: Gauge<()>;
}

fn main() {
    assert_eq!(LASER.spec().merge, photon_metrics::catalog::Merge::Last);
    assert_eq!(QUEUED.spec().merge, photon_metrics::catalog::Merge::PerProcess);
}
