//! An open label's text is read without a lock (`as_str`, and every span
//! field and exemplar of a label value), while other threads retire values
//! and re-use their slots for new ones. A reader holding a handle across
//! its value's retirement sees its own value's text or `__retired__`, never
//! the text of the value that took the slot next.

use photon_metrics::labels::{self, Pass, RETIRED_VALUE};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn a_pass_text_read_during_retirement_is_its_own_or_retired() {
    labels::set_reuse_delay(Duration::from_millis(1));
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        // Readers: a handle, kept across its retirement, read over and over.
        let readers: Vec<_> = (0..2)
            .map(|r| {
                let stop = &stop;
                s.spawn(move || {
                    let mut reads = 0u64;
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let name = format!("reader-{r}-{n}");
                        let Ok(pass) = Pass::new(&name) else { continue };
                        if pass.is_overflow() {
                            continue;
                        }
                        for _ in 0..200 {
                            let text = pass.as_str();
                            assert!(
                                text == name || text == RETIRED_VALUE,
                                "{name} read as {text}"
                            );
                            reads += 1;
                        }
                        n += 1;
                    }
                    reads
                })
            })
            .collect();
        // The retirer: every value it finds live is retired, so slots are
        // reused by new values under the readers' old handles.
        for round in 0..20_000u64 {
            for r in 0..2 {
                for n in round.saturating_sub(3)..=round {
                    if let Ok(pass) = Pass::new(&format!("reader-{r}-{n}")) {
                        if !pass.is_overflow() {
                            pass.retire();
                        }
                    }
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
        eprintln!("figures: {reads} reads during retirement");
        assert!(reads > 10_000, "{reads} reads");
    });
}
