//! Renders shared between concurrent scrapes.
//!
//! A render is the expensive part of a scrape, so the listener never runs
//! more than one at a time per (format, encoding) and never queues one
//! that nobody waits for:
//!
//! * A request is answered by a render that *started after it arrived*, so
//!   a scrape always sees every record made before it was sent.
//! * While a render runs, all requests that arrive share the *next* one,
//!   which starts when the running one ends, and only if one of them is
//!   still waiting: clients that have gone away cost nothing.
//! * Every waiter gets the same [`Bytes`], so a thousand slow readers hold
//!   one body, not a thousand.
//!
//! A flood of scrapes therefore costs at most back-to-back renders while it
//! lasts and one more after it, and a legitimate scrape waits for at most
//! two renders.

use super::super::encode::{self, Format};
use crate::store::Store;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// What a scrape asks to be rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Variant {
    pub format: Format,
    pub gzip: bool,
}

#[derive(Clone)]
struct Done {
    /// The render's number; 0 before the first.
    id: u64,
    /// `None` when rendering (compression) failed.
    body: Option<Bytes>,
}

struct Lane {
    /// The number of the render started last.
    started: u64,
    running: bool,
    /// Requests waiting for a render that has not started yet.
    next_waiters: usize,
    done: watch::Sender<Done>,
    /// The last body's size, to allocate the next one at once.
    last_size: Arc<AtomicUsize>,
}

pub(super) struct Renders {
    store: Arc<Store>,
    lanes: Mutex<HashMap<Variant, Lane>>,
    /// Renders run, for tests of the sharing.
    #[cfg(test)]
    pub(super) count: AtomicUsize,
}

impl Renders {
    pub(super) fn new(store: Arc<Store>) -> Arc<Self> {
        Arc::new(Renders {
            store,
            lanes: Mutex::new(HashMap::new()),
            #[cfg(test)]
            count: AtomicUsize::new(0),
        })
    }

    /// The body for `variant`, rendered after this call began. `None` when
    /// the render failed. Dropping the future (the client left) withdraws
    /// the request.
    pub(super) async fn get(self: &Arc<Self>, variant: Variant) -> Option<Bytes> {
        let (need, mut rx, start) = {
            let mut lanes = self.lock();
            let lane = lanes.entry(variant).or_insert_with(|| Lane {
                started: 0,
                running: false,
                next_waiters: 0,
                done: watch::Sender::new(Done { id: 0, body: None }),
                last_size: Arc::new(AtomicUsize::new(0)),
            });
            let need = lane.started + 1;
            let start = !lane.running;
            if start {
                lane.started = need;
                lane.running = true;
            } else {
                lane.next_waiters += 1;
            }
            (need, lane.done.subscribe(), start)
        };
        let _withdraw = Withdraw {
            renders: self,
            variant,
            need,
        };
        if start {
            self.spawn(variant);
        }
        let done = rx.wait_for(|d| d.id >= need).await.ok()?;
        done.body.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Variant, Lane>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs renders for `variant` on the blocking thread, back to back for
    /// as long as requests wait for the next one.
    fn spawn(self: &Arc<Self>, variant: Variant) {
        let renders = self.clone();
        let hint = self.lock()[&variant].last_size.clone();
        tokio::task::spawn_blocking(move || loop {
            // A panic in an encoder must not leave waiters waiting forever.
            let body = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                render(&renders.store, variant, &hint)
            }))
            .ok()
            .flatten();
            #[cfg(test)]
            renders.count.fetch_add(1, Ordering::Relaxed);
            let mut lanes = renders.lock();
            let lane = lanes.get_mut(&variant).expect("lanes are never removed");
            lane.done.send_replace(Done {
                id: lane.started,
                body,
            });
            if lane.next_waiters == 0 {
                lane.running = false;
                return;
            }
            // Those waiting now wait for the render about to start.
            lane.next_waiters = 0;
            lane.started += 1;
        });
    }
}

/// Takes a request that has not been served out of the count of those
/// waiting for the next render, so a render nobody waits for never starts.
struct Withdraw<'a> {
    renders: &'a Renders,
    variant: Variant,
    need: u64,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        let mut lanes = self.renders.lock();
        if let Some(lane) = lanes.get_mut(&self.variant) {
            if lane.started < self.need {
                lane.next_waiters -= 1;
            }
        }
    }
}

fn render(store: &Store, variant: Variant, last_size: &AtomicUsize) -> Option<Bytes> {
    let hint = last_size.load(Ordering::Relaxed);
    let mut body = Vec::with_capacity(hint + hint / 8);
    encode::render(store, variant.format, &mut body);
    last_size.store(body.len(), Ordering::Relaxed);
    let body = if variant.gzip {
        compress(&body).ok()?
    } else {
        body
    };
    Some(Bytes::from(body))
}

fn compress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreConfig;
    use std::time::Duration;

    fn renders() -> Arc<Renders> {
        let store = Store::new(StoreConfig {
            global_labels: Vec::new(),
            default_buckets: crate::store::DEFAULT_BUCKETS.to_vec(),
            foreign_limits: Default::default(),
        });
        // Make each render take a while, so that requests overlap it.
        store.on_render(Box::new(|| std::thread::sleep(Duration::from_millis(100))));
        Renders::new(Arc::new(store))
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(1)
            .build()
            .unwrap()
    }

    const TEXT: Variant = Variant {
        format: Format::Text,
        gzip: false,
    };

    #[test]
    fn concurrent_scrapes_share_renders_and_the_body() {
        let renders = renders();
        let bodies = runtime().block_on(async {
            let first = tokio::spawn({
                let r = renders.clone();
                async move { r.get(TEXT).await }
            });
            tokio::time::sleep(Duration::from_millis(10)).await;
            // 100 requests while the first render runs: one more render.
            let rest: Vec<_> = (0..100)
                .map(|_| {
                    let r = renders.clone();
                    tokio::spawn(async move { r.get(TEXT).await })
                })
                .collect();
            let mut bodies = vec![first.await.unwrap().unwrap()];
            for t in rest {
                bodies.push(t.await.unwrap().unwrap());
            }
            bodies
        });
        assert_eq!(renders.count.load(Ordering::Relaxed), 2);
        // The 100 share one allocation.
        let shared = bodies[1].as_ptr();
        assert!(bodies[1..].iter().all(|b| b.as_ptr() == shared));
        assert!(bodies[0].starts_with(b"# HELP"));
    }

    #[test]
    fn a_request_that_leaves_starts_no_render() {
        let renders = renders();
        runtime().block_on(async {
            let first = tokio::spawn({
                let r = renders.clone();
                async move { r.get(TEXT).await }
            });
            tokio::time::sleep(Duration::from_millis(10)).await;
            // 20 clients ask and leave while the first render runs.
            for _ in 0..20 {
                let r = renders.clone();
                let _ = tokio::time::timeout(Duration::from_millis(1), r.get(TEXT)).await;
            }
            first.await.unwrap().unwrap();
            tokio::time::sleep(Duration::from_millis(250)).await;
        });
        assert_eq!(renders.count.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn each_answer_is_rendered_after_its_request() {
        let renders = renders();
        let rt = runtime();
        let one = rt.block_on(renders.get(TEXT)).unwrap();
        let two = rt.block_on(renders.get(TEXT)).unwrap();
        assert_ne!(
            one.as_ptr(),
            two.as_ptr(),
            "a later scrape never reuses an older body"
        );
        assert_eq!(renders.count.load(Ordering::Relaxed), 2);
    }
}
