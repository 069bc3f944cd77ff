photon_metrics::family! {
    /// Queue wait.
    #[family(name = "app_queue_wait_seconds_count", unit = seconds)]
    static WAIT: Gauge<()>;
}
fn main() {}
