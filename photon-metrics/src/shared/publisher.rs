//! A process's publications: its store saved to the service's directory.

use super::dir::{Identity, ServiceDir};
use crate::store::saved::{self, Header};
use crate::store::Store;
use std::collections::HashMap;

/// A gauge series as the latest publications saw it.
struct Seen {
    bits: u64,
    changed_ns: u64,
    publication: u64,
}

/// What a process needs to publish: who it is, its gauges' change times,
/// a buffer it reuses.
pub(crate) struct Publisher {
    pub(crate) me: Identity,
    /// The parent when this process joined (or forked).
    parent: Identity,
    /// Per gauge family and series text: the value's bits, when it last
    /// changed, and the publication that last saw it (series not seen in
    /// the latest are dropped, so retired series leave).
    gauges: HashMap<&'static str, HashMap<Box<str>, Seen>>,
    publications: u64,
    /// The latest publication a scrape asked for, and the departures it
    /// held (see [`crate::store::departures`]): once a later scrape asks,
    /// that one was served, so its retired series may leave.
    asked: (u64, u64),
    buf: Vec<u8>,
    warned: bool,
}

impl Publisher {
    /// A publisher for `me`, joining when the latest publication asked for
    /// was `requested` (asked of the processes before it).
    pub(crate) fn new(me: Identity, requested: u64) -> Self {
        Publisher {
            me,
            parent: Identity::parent(),
            gauges: HashMap::new(),
            publications: 0,
            asked: (requested, crate::store::departures()),
            buf: Vec::new(),
            warned: false,
        }
    }

    /// Saves `store` and replaces this process's publication with it.
    pub(crate) fn publish(
        &mut self,
        dir: &ServiceDir,
        store: &Store,
        generation: u64,
    ) -> std::io::Result<()> {
        let now = crate::store::table::now_ns();
        if generation > self.asked.0 {
            // The scrape that asked for the previous generation served
            // the retired series it held: they leave, as after a scrape
            // of a single process.
            store.forget_departed(self.asked.1);
            self.asked = (generation, crate::store::departures());
        }
        self.publications += 1;
        let this = self.publications;
        let header = Header {
            pid: self.me.pid,
            started: self.me.started,
            generation,
            saved_ns: now,
            parent_pid: self.parent.pid,
            parent_started: self.parent.started,
        };
        let gauges = &mut self.gauges;
        self.buf.clear();
        saved::save(
            store,
            header,
            &mut |spec, series, bits| {
                let family = gauges.entry(spec.name).or_default();
                match family.get_mut(&*series.text) {
                    Some(seen) => {
                        if seen.bits != bits {
                            seen.bits = bits;
                            seen.changed_ns = now;
                        }
                        seen.publication = this;
                        seen.changed_ns
                    }
                    None => {
                        let seen = Seen {
                            bits,
                            changed_ns: now,
                            publication: this,
                        };
                        family.insert(series.text.clone(), seen);
                        now
                    }
                }
            },
            &mut self.buf,
        );
        for family in gauges.values_mut() {
            family.retain(|_, seen| seen.publication == this);
        }
        dir.publish(self.me, &self.buf)?;
        self.warned = false;
        Ok(())
    }

    /// Says once (until a publication succeeds again) that publishing failed.
    pub(crate) fn failed(&mut self, dir: &ServiceDir, e: std::io::Error) {
        if !self.warned {
            self.warned = true;
            tracing::error!(
                dir = %dir.path().display(),
                error = %e,
                "cannot publish this process's metrics to the shared directory; the service's /metrics misses its records since its last publication until it can"
            );
        }
    }

    /// A forked child: another process, whose gauges have not changed yet.
    pub(crate) fn forked(&mut self) {
        self.me = Identity::current();
        self.parent = Identity::parent();
        self.gauges.clear();
    }
}
