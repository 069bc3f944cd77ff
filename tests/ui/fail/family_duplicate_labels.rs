use photon_metrics::labels::Target;
photon_metrics::family! {
    /// Copies between two targets.
    #[family(name = "app_copies_total")]
    static COPIES: Counter<(Target, Target)>;
}
fn main() {}
