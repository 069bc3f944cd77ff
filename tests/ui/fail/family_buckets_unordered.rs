photon_metrics::family! {
    /// Queue wait.
    #[family(name = "app_queue_wait_seconds", unit = seconds, buckets = [0.1, 1.0, 0.5])]
    static WAIT: Histogram<()>;
}
fn main() {}
