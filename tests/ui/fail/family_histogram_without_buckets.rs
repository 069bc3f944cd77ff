photon_metrics::family! {
    /// Queue wait.
    #[family(name = "app_queue_wait_seconds", unit = seconds)]
    static WAIT: Histogram<()>;
}
fn main() {}
