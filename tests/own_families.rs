//! An application's own families, as its users see them in `/metrics`:
//! present with `# HELP`/`# TYPE` from registration, recorded on the direct
//! path, capped with overflow accounting, retired with the catalog's
//! lifecycle, listed beside the catalog, and received by any other recorder
//! through the facade.

mod support;

use photon_metrics::export::prometheus::PrometheusExporter;
use photon_metrics::labels::{self, OpenValue, Status, Target, RETIRED_VALUE};
use photon_metrics::{catalog, family, Label};
use support::exposition::{parse, value};

/// The dialect a kernel was lowered from.
#[derive(Label, Clone, Copy, Debug, PartialEq, Eq)]
#[label(name = "dialect")]
enum Dialect {
    Linalg,
    Tosa,
    #[label(value = "stablehlo")]
    StableHlo,
}

/// A tenant: open.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "tenant", cap = 16)]
struct Tenant(OpenValue);

/// A seat: open, capped at 3 so the test can fill it.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "seat", cap = 3)]
struct Seat(OpenValue);

/// A queue: open, never filled here.
#[derive(Label, Clone, Copy, PartialEq, Eq, Debug)]
#[label(name = "queue")]
struct Queue(OpenValue);

family! {
    /// Kernels launched, by dialect, tenant and outcome.
    #[family(name = "app_kernel_launches_total", unit = count)]
    static KERNELS: Counter<(Dialect, Tenant, Status)>;

    /// Time a kernel waited for the device, by dialect and target.
    #[family(name = "app_queue_wait_seconds", unit = seconds,
             buckets = [0.001, 0.01, 0.1, 1.0], native(schema = 3))]
    static QUEUE_WAIT: Histogram<(Dialect, Target)>;

    /// Kernels waiting, by dialect (closed labels only: all at 0 from registration).
    #[family(name = "app_kernels_waiting")]
    static WAITING: Gauge<(Dialect,)>;

    /// Depth of each named queue.
    #[family(name = "app_queue_depth")]
    static DEPTH: Gauge<(Queue,)>;

    /// Lookups by name, by tenant.
    #[family(name = "app_lookups_total")]
    static LOOKUPS: Counter<(Tenant,)>;

    /// Seats taken, by seat.
    #[family(name = "app_seat_bookings_total")]
    static SEATS: Counter<(Seat,)>;
}

mod other_crate {
    photon_metrics::family! {
        /// The same name as the test's counter, declared a second time.
        #[family(name = "app_kernel_launches_total")]
        pub static KERNELS_AGAIN: Counter<()>;
    }
}

fn exporter() -> &'static PrometheusExporter {
    support::init::installed_once(|| {
        KERNELS.register().unwrap();
        QUEUE_WAIT.register().unwrap();
        WAITING.register().unwrap();
        DEPTH.register().unwrap();
        SEATS.register().unwrap();
        LOOKUPS.register().unwrap();
    })
}

#[test]
fn registered_families_are_served_with_help_and_type_before_any_record() {
    let text = exporter().render();
    for (name, kind) in [
        ("app_kernel_launches_total", "counter"),
        ("app_queue_wait_seconds", "histogram"),
        ("app_kernels_waiting", "gauge"),
        ("app_queue_depth", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "no TYPE for {name} in:\n{text}"
        );
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}"
        );
    }
    assert!(text.contains(
        "# HELP app_kernels_waiting Kernels waiting, by dialect (closed labels only: all at 0 from registration).\n"
    ));
    // Closed labels only: every series exists at 0 from the first scrape.
    let samples = parse(&text);
    // (Other tests in this binary move `linalg` and `tosa`; none touches `stablehlo`.)
    for d in ["linalg", "tosa"] {
        assert!(value(&samples, "app_kernels_waiting", &[("dialect", d)]).is_some());
    }
    assert_eq!(
        value(&samples, "app_kernels_waiting", &[("dialect", "stablehlo")]),
        Some(0.0)
    );
    let (ok, out) = support::promtool_check_metrics(&text);
    assert!(ok, "promtool: {out}\n{text}");
}

#[test]
fn records_reach_their_series_and_the_exposition_passes_promtool() {
    let exporter = exporter();
    let acme = Tenant::new("records-acme").unwrap();
    let target = Target::new("own-mzi").unwrap();
    for _ in 0..5 {
        KERNELS.inc((Dialect::Tosa, acme, Status::Success));
    }
    KERNELS.add((Dialect::Linalg, acme, Status::Error), 2);
    for v in [0.0005, 0.005, 0.05, 0.5, 5.0] {
        QUEUE_WAIT.observe((Dialect::StableHlo, target), v);
    }
    drop(QUEUE_WAIT.start_timer((Dialect::Linalg, target)));
    WAITING.set((Dialect::Tosa,), 4.0);
    WAITING.add((Dialect::Tosa,), -1.0);
    {
        let _in_flight = WAITING.track((Dialect::Linalg,));
        let samples = parse(&exporter.render());
        assert_eq!(
            value(&samples, "app_kernels_waiting", &[("dialect", "linalg")]),
            Some(1.0)
        );
    }

    let text = exporter.render();
    let samples = parse(&text);
    let tenant = acme.as_str();
    assert_eq!(
        value(
            &samples,
            "app_kernel_launches_total",
            &[
                ("dialect", "tosa"),
                ("tenant", &tenant),
                ("status", "success")
            ]
        ),
        Some(5.0)
    );
    assert_eq!(
        value(
            &samples,
            "app_kernel_launches_total",
            &[
                ("dialect", "linalg"),
                ("tenant", &tenant),
                ("status", "error")
            ]
        ),
        Some(2.0)
    );
    let hlo = [("dialect", "stablehlo"), ("target", "own-mzi")];
    assert_eq!(
        value(&samples, "app_queue_wait_seconds_count", &hlo),
        Some(5.0)
    );
    let mut le = hlo.to_vec();
    le.push(("le", "0.01"));
    assert_eq!(
        value(&samples, "app_queue_wait_seconds_bucket", &le),
        Some(2.0)
    );
    assert_eq!(
        value(
            &samples,
            "app_queue_wait_seconds_count",
            &[("dialect", "linalg"), ("target", "own-mzi")]
        ),
        Some(1.0),
        "the timer observed once when dropped"
    );
    assert_eq!(
        value(&samples, "app_kernels_waiting", &[("dialect", "tosa")]),
        Some(3.0)
    );
    assert_eq!(
        value(&samples, "app_kernels_waiting", &[("dialect", "linalg")]),
        Some(0.0),
        "the guard went back down"
    );
    let (ok, out) = support::promtool_check_metrics(&text);
    assert!(ok, "promtool: {out}\n{text}");
}

#[test]
fn an_open_label_past_its_cap_overflows_and_is_counted_under_its_name() {
    let exporter = exporter();
    let values: Vec<Seat> = (0..6)
        .map(|i| Seat::new(&format!("seat-{i}")).unwrap())
        .collect();
    assert_eq!(labels::live_values(Seat::LABEL), 3);
    assert_eq!(labels::cap(Seat::LABEL), 3);
    let folded: Vec<&Seat> = values.iter().filter(|t| t.is_overflow()).collect();
    assert_eq!(folded.len(), 3, "the last three fold: {values:?}");
    for t in &values {
        SEATS.inc((*t,));
    }
    let text = exporter.render();
    let samples = parse(&text);
    assert_eq!(
        value(
            &samples,
            "app_seat_bookings_total",
            &[("seat", "__overflow__")]
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(&samples, "app_seat_bookings_total", &[("seat", "seat-0")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &samples,
            "photon_metrics_label_overflow_total",
            &[("label", "seat")]
        ),
        Some(3.0),
        "one per folded `new`: {text}"
    );
    assert_eq!(
        value(&samples, "photon_metrics_label_cap", &[("label", "seat")]),
        Some(3.0)
    );
    assert_eq!(
        value(
            &samples,
            "photon_metrics_label_values",
            &[("label", "seat")]
        ),
        Some(3.0)
    );
    for t in values.into_iter().filter(|t| !t.is_overflow()) {
        t.retire();
    }
}

#[test]
fn retiring_an_application_value_removes_its_series_and_stale_copies_record_nothing() {
    let exporter = exporter();
    let q = Queue::new("retire-queue").unwrap();
    let kept = Queue::new("kept-queue").unwrap();
    DEPTH.set((q,), 7.0);
    DEPTH.set((kept,), 1.0);
    assert!(exporter.render().contains("queue=\"retire-queue\""));
    let stale = q;
    let before = labels::stale_records(Queue::LABEL);
    assert!(q.retire());
    assert_eq!(q.as_str(), RETIRED_VALUE);
    DEPTH.set((stale,), 9.0);
    assert_eq!(labels::stale_records(Queue::LABEL), before + 1);
    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    let text = exporter.render();
    assert!(!text.contains("retire-queue"), "{text}");
    assert!(
        text.contains("app_queue_depth{queue=\"kept-queue\"} 1"),
        "{text}"
    );
    assert!(!text.contains("__retired__"));
}

#[test]
fn retiring_a_catalog_value_removes_it_from_application_families_too() {
    let exporter = exporter();
    let target = Target::new("own-retired-target").unwrap();
    QUEUE_WAIT.observe((Dialect::Tosa, target), 0.01);
    assert!(exporter.render().contains("target=\"own-retired-target\""));
    assert!(target.retire());
    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    assert!(!exporter.render().contains("own-retired-target"));
}

#[test]
fn own_families_are_listed_beside_the_catalog_with_their_memory_bound() {
    exporter();
    let all = catalog::families();
    let own: Vec<_> = all
        .iter()
        .filter(|f| f.subsystem == catalog::Subsystem::Application)
        .collect();
    let names: Vec<&str> = own.iter().map(|f| f.name).collect();
    for name in [
        "app_kernel_launches_total",
        "app_queue_wait_seconds",
        "app_kernels_waiting",
    ] {
        assert!(names.contains(&name), "{names:?}");
    }
    // The catalog's first, then the applications'.
    let catalog_len = all.len() - own.len();
    assert!(all[..catalog_len]
        .iter()
        .all(|f| f.subsystem != catalog::Subsystem::Application));
    let kernels = KERNELS.spec();
    assert_eq!(kernels.subsystem, catalog::Subsystem::Application);
    assert_eq!(kernels.unit, catalog::Unit::Count);
    let label_names: Vec<&str> = kernels.labels.iter().map(|l| l.as_str()).collect();
    assert_eq!(label_names, ["dialect", "tenant", "status"]);
    // 3 dialects × (cap 16 + overflow) tenants × 4 statuses.
    assert_eq!(kernels.max_series(), 3 * 17 * 4);
    assert!(kernels.max_memory_bytes() > 0);
    assert!(QUEUE_WAIT.spec().max_memory_bytes() > kernels.max_memory_bytes());
}

#[test]
fn a_second_family_of_one_name_is_refused_and_records_nothing() {
    let exporter = exporter();
    let err = other_crate::KERNELS_AGAIN.register().unwrap_err();
    assert!(
        err.to_string().contains("app_kernel_launches_total"),
        "{err}"
    );
    other_crate::KERNELS_AGAIN.inc(());
    let text = exporter.render();
    assert_eq!(
        text.matches("# TYPE app_kernel_launches_total counter")
            .count(),
        1,
        "{text}"
    );
    assert!(!text.contains("app_kernel_launches_total 1"));
}

#[test]
fn another_recorder_receives_application_families_through_the_facade() {
    exporter();
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let acme = Tenant::new("facade-acme").unwrap();
    metrics::with_local_recorder(&recorder, || {
        KERNELS.inc((Dialect::Tosa, acme, Status::Success));
        QUEUE_WAIT.observe((Dialect::Tosa, Target::new("own-mzi").unwrap()), 0.2);
    });
    let snapshot = snapshotter.snapshot().into_vec();
    let names: Vec<String> = snapshot
        .iter()
        .map(|(key, ..)| key.key().name().to_string())
        .collect();
    assert!(
        names.contains(&"app_kernel_launches_total".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"app_queue_wait_seconds".to_string()),
        "{names:?}"
    );
    let (key, _, help, _) = snapshot
        .iter()
        .find(|(k, ..)| k.key().name() == "app_kernel_launches_total")
        .unwrap();
    let labels: Vec<(String, String)> = key
        .key()
        .labels()
        .map(|l| (l.key().to_string(), l.value().to_string()))
        .collect();
    assert!(
        labels.contains(&("tenant".into(), "facade-acme".into())),
        "{labels:?}"
    );
    assert_eq!(
        help.as_ref().map(|h| h.to_string()),
        Some("Kernels launched, by dialect, tenant and outcome.".to_string())
    );
    acme.retire();
}

#[test]
fn a_facade_record_under_an_application_name_lands_in_that_family() {
    let exporter = exporter();
    let tenant = Tenant::new("facade-routed").unwrap();
    metrics::counter!(
        "app_kernel_launches_total",
        "dialect" => "stablehlo", "tenant" => "facade-routed", "status" => "panic"
    )
    .increment(4);
    KERNELS.inc((Dialect::StableHlo, tenant, Status::Panic));
    // A record that does not fit is dropped, never a second family.
    metrics::counter!("app_kernel_launches_total", "dialect" => "cobol").increment(1);
    let text = exporter.render();
    assert_eq!(
        text.matches("# TYPE app_kernel_launches_total counter")
            .count(),
        1,
        "{text}"
    );
    let samples = parse(&text);
    assert_eq!(
        value(
            &samples,
            "app_kernel_launches_total",
            &[
                ("dialect", "stablehlo"),
                ("tenant", "facade-routed"),
                ("status", "panic")
            ]
        ),
        Some(5.0)
    );
    assert!(!text.contains("cobol"));
    tenant.retire();
}

#[test]
fn application_families_carry_exemplars_in_openmetrics() {
    use photon_metrics::export::encode::Format;
    use photon_metrics::export::exemplars::{with_trace_context, TraceContext};
    let exporter = exporter();
    let q = Queue::new("exemplar-queue").unwrap();
    let trace = TraceContext {
        trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
        span_id: 0x00f067aa0ba902b7,
    };
    let target = Target::new("own-exemplar").unwrap();
    with_trace_context(trace, || {
        QUEUE_WAIT.observe((Dialect::Tosa, target), 0.05);
        SEATS.inc((Seat::OVERFLOW,));
    });
    let om = exporter.render_as(Format::OpenMetrics);
    let bucket = om
        .lines()
        .find(|l| {
            l.starts_with("app_queue_wait_seconds_bucket{")
                && l.contains("target=\"own-exemplar\"")
                && l.contains("le=\"0.1\"")
        })
        .unwrap_or_else(|| panic!("no bucket in:\n{om}"));
    assert!(
        bucket.contains("# {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\""),
        "{bucket}"
    );
    let counter = om
        .lines()
        .find(|l| l.starts_with("app_seat_bookings_total{seat=\"__overflow__\"}"))
        .unwrap_or_else(|| panic!("no counter in:\n{om}"));
    assert!(
        counter.contains("trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\""),
        "{counter}"
    );
    q.retire();
    target.retire();
}

#[test]
fn application_families_are_reachable_by_name_like_the_catalogs() {
    use photon_metrics::families::{Dynamic, DynamicError};
    let exporter = exporter();
    let seats = Dynamic::lookup("app_lookups_total").expect("registered, so found");
    let catalog_len = catalog::families()
        .iter()
        .filter(|f| f.subsystem != catalog::Subsystem::Application)
        .count();
    assert!(seats.index() >= catalog_len);
    assert_eq!(
        Dynamic::at(seats.index()).unwrap().spec().name,
        "app_lookups_total"
    );
    assert!(Dynamic::all()
        .iter()
        .any(|f| f.spec().name == "app_queue_wait_seconds"));
    let tenant = Tenant::new("dynamic-tenant").unwrap();
    assert_eq!(Tenant::from_raw(tenant.to_raw()), Some(tenant));
    seats.add(&[tenant.to_raw()], 2).unwrap();
    let text = exporter.render();
    assert!(
        text.contains("app_lookups_total{tenant=\"dynamic-tenant\"} 2"),
        "{text}"
    );
    tenant.retire();
    // Refusals record nothing.
    assert!(matches!(
        seats.set(&[0], 1.0),
        Err(DynamicError::WrongKind { .. })
    ));
    assert!(matches!(
        seats.add(&[0, 0], 1),
        Err(DynamicError::LabelCount {
            expected: 1,
            given: 2,
            ..
        })
    ));
    assert!(matches!(
        seats.add(&[4095], 1),
        Err(DynamicError::UnknownValue { raw: 4095, .. })
    ));
    let waiting = Dynamic::lookup("app_kernels_waiting").unwrap();
    assert!(matches!(
        waiting.set(&[3], 1.0),
        Err(DynamicError::UnknownValue {
            label: "dialect",
            ..
        })
    ));
    let depth = Dynamic::lookup("app_queue_depth").unwrap();
    let q = Queue::new("dynamic-queue").unwrap();
    depth.set(&[q.to_raw()], 9.0).unwrap();
    depth.add_to_gauge(&[q.to_raw()], -2.0).unwrap();
    let samples = parse(&exporter.render());
    assert_eq!(
        value(&samples, "app_queue_depth", &[("queue", "dynamic-queue")]),
        Some(7.0)
    );
    // A retired value's raw handle records nothing, as a typed copy would.
    let before = labels::stale_records(Queue::LABEL);
    assert!(q.retire());
    depth.set(&[q.to_raw()], 1.0).unwrap();
    assert_eq!(labels::stale_records(Queue::LABEL), before + 1);
    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    assert!(!exporter.render().contains("dynamic-queue"));
    assert!(Dynamic::lookup("app_never_declared_total").is_none());
}

/// A visitor: open, capped at 8, for the flood below.
#[derive(Label, Clone, Copy, PartialEq, Eq, Debug)]
#[label(name = "visitor", cap = 8)]
struct Visitor(OpenValue);

family! {
    /// Visits, by visitor (the flood's family).
    #[family(name = "app_visits_total")]
    static VISITS: Counter<(Visitor,)>;
}

#[test]
fn a_flood_of_application_label_values_stays_bounded_and_every_record_is_counted() {
    let exporter = exporter();
    const THREADS: usize = 4;
    const EACH: usize = 2_500;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (slowest, scrapes) = std::thread::scope(|s| {
        let flooders: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    for i in 0..EACH {
                        let v = Visitor::new(&format!("flood-{t}-{i}")).unwrap();
                        VISITS.inc((v,));
                    }
                })
            })
            .collect();
        let scraper = s.spawn(|| {
            let mut slowest = std::time::Duration::ZERO;
            let mut scrapes = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let start = std::time::Instant::now();
                let text = exporter.render();
                slowest = slowest.max(start.elapsed());
                scrapes += 1;
                let series = text
                    .lines()
                    .filter(|l| l.starts_with("app_visits_total{"))
                    .count();
                assert!(series <= 9, "{series} series past a cap of 8");
            }
            (slowest, scrapes)
        });
        for f in flooders {
            f.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        scraper.join().unwrap()
    });
    let text = exporter.render();
    let samples = parse(&text);
    let visits: f64 = samples
        .iter()
        .filter(|s| s.name == "app_visits_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(
        visits,
        (THREADS * EACH) as f64,
        "every record is counted, overflow included"
    );
    let folded = value(&samples, "app_visits_total", &[("visitor", "__overflow__")]).unwrap();
    assert_eq!(
        folded,
        (THREADS * EACH - 8) as f64,
        "exactly the cap's 8 values are kept"
    );
    assert_eq!(
        value(
            &samples,
            "photon_metrics_label_overflow_total",
            &[("label", "visitor")]
        ),
        Some(folded)
    );
    println!("{scrapes} renders during the flood, slowest {slowest:?}");
    assert!(scrapes > 0);
}

#[test]
fn handles_to_own_families_record_like_their_methods_and_respect_retirement() {
    let exporter = exporter();
    let tenant = Tenant::new("handle-acme").unwrap();
    let launches = KERNELS.handle((Dialect::Linalg, tenant, Status::Success));
    let wait = QUEUE_WAIT.handle((Dialect::Tosa, Target::new("handle-target").unwrap()));
    let queue = Queue::new("handle-queue").unwrap();
    let depth = DEPTH.handle((queue,));
    launches.inc();
    launches.add(4);
    KERNELS.inc((Dialect::Linalg, tenant, Status::Success));
    wait.observe(0.05);
    depth.set(7.5);
    depth.sub(0.5);
    let samples = parse(&exporter.render());
    assert_eq!(
        value(
            &samples,
            "app_kernel_launches_total",
            &[
                ("dialect", "linalg"),
                ("tenant", "handle-acme"),
                ("status", "success")
            ]
        ),
        Some(6.0)
    );
    assert_eq!(
        value(
            &samples,
            "app_queue_wait_seconds_count",
            &[("dialect", "tosa"), ("target", "handle-target")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "app_queue_depth", &[("queue", "handle-queue")]),
        Some(7.0)
    );
    // Retired: the handle's records are dropped and counted.
    let before = labels::stale_records(Queue::LABEL);
    assert!(queue.retire());
    depth.set(1.0);
    assert_eq!(labels::stale_records(Queue::LABEL), before + 1);
    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    assert!(!exporter.render().contains("handle-queue"));
}

/// Records by name (the C and Python path) reach another recorder with
/// each label's text, and a retired value's raw handle reaches nothing.
#[test]
fn records_by_name_reach_another_recorder_with_their_label_texts() {
    exporter();
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let tenant = Tenant::new("dynamic-facade-acme").unwrap();
    let gone = Tenant::new("dynamic-facade-gone").unwrap();
    let raw_gone = gone.to_raw();
    assert!(gone.retire());
    let lookups = photon_metrics::families::Dynamic::lookup("app_lookups_total").unwrap();
    metrics::with_local_recorder(&recorder, || {
        lookups.add(&[tenant.to_raw()], 2).unwrap();
        lookups.add(&[raw_gone], 5).unwrap();
    });
    let recorded: Vec<(Vec<(String, String)>, u64)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, ..)| k.key().name() == "app_lookups_total")
        .map(|(k, _, _, value)| {
            let labels = k
                .key()
                .labels()
                .map(|l| (l.key().to_string(), l.value().to_string()))
                .collect();
            let count = match value {
                metrics_util::debugging::DebugValue::Counter(n) => n,
                other => panic!("not a counter: {other:?}"),
            };
            (labels, count)
        })
        .collect();
    assert_eq!(
        recorded,
        [(
            vec![("tenant".to_string(), "dynamic-facade-acme".to_string())],
            2
        )]
    );
}
