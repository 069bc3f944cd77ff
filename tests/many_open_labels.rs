//! More open labels than the self-monitoring families tell apart
//! (`MAX_OPEN_LABELS`): the rest share the `label="__overflow__"` series of
//! `photon_metrics_label_cap` and its siblings, and nothing panics (the
//! 65th application label used to).

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{OpenValue, MAX_OPEN_LABELS};
use photon_metrics::Label;

macro_rules! labels {
    ($($ty:ident $name:literal),* $(,)?) => {
        $(
            #[derive(Label, Clone, Copy, PartialEq, Eq)]
            #[label(name = $name, cap = 2)]
            struct $ty(OpenValue);
        )*
        /// One value of every label, which puts each in use.
        fn use_all() -> usize {
            let mut n = 0;
            $( $ty::new("x").unwrap(); n += 1; )*
            n
        }
    };
}

labels! {
    L00 "l00", L01 "l01", L02 "l02", L03 "l03", L04 "l04", L05 "l05", L06 "l06", L07 "l07",
    L08 "l08", L09 "l09", L10 "l10", L11 "l11", L12 "l12", L13 "l13", L14 "l14", L15 "l15",
    L16 "l16", L17 "l17", L18 "l18", L19 "l19", L20 "l20", L21 "l21", L22 "l22", L23 "l23",
    L24 "l24", L25 "l25", L26 "l26", L27 "l27", L28 "l28", L29 "l29", L30 "l30", L31 "l31",
    L32 "l32", L33 "l33", L34 "l34", L35 "l35", L36 "l36", L37 "l37", L38 "l38", L39 "l39",
    L40 "l40", L41 "l41", L42 "l42", L43 "l43", L44 "l44", L45 "l45", L46 "l46", L47 "l47",
    L48 "l48", L49 "l49", L50 "l50", L51 "l51", L52 "l52", L53 "l53", L54 "l54", L55 "l55",
    L56 "l56", L57 "l57", L58 "l58", L59 "l59", L60 "l60", L61 "l61", L62 "l62", L63 "l63",
    L64 "l64", L65 "l65", L66 "l66", L67 "l67", L68 "l68", L69 "l69", L70 "l70", L71 "l71",
}

#[test]
fn labels_past_the_self_monitoring_cap_fold_into_overflow_without_a_panic() {
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    let application = use_all();
    let text = exporter.render();
    let caps: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("photon_metrics_label_cap{"))
        .collect();
    // The catalog's 6 open labels and 72 of the application's: more than
    // the families tell apart, so exactly MAX_OPEN_LABELS named series and
    // one `__overflow__` series.
    assert!(6 + application > MAX_OPEN_LABELS);
    assert_eq!(caps.len(), MAX_OPEN_LABELS + 1, "{caps:#?}");
    assert!(
        caps.iter().any(|l| l.contains("label=\"__overflow__\"")),
        "{caps:#?}"
    );
    for catalog in [
        "target",
        "model_type",
        "error_kind",
        "device_id",
        "location",
        "pass",
    ] {
        assert!(
            caps.iter()
                .any(|l| l.contains(&format!("label=\"{catalog}\""))),
            "the catalog's `{catalog}` keeps its series: {caps:#?}"
        );
    }
    assert!(
        text.contains("photon_metrics_label_cap{label=\"l00\"} 2\n"),
        "{text}"
    );
    // A second render serves the same series.
    assert_eq!(
        exporter
            .render()
            .matches("photon_metrics_label_cap{")
            .count(),
        caps.len()
    );
}
