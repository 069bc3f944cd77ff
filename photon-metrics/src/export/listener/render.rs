//! Renders shared between concurrent scrapes.
//!
//! A render is the expensive part of a scrape, so the listener never runs
//! more than one at a time per (format, encoding) and never runs one that
//! nobody waits for:
//!
//! * A request is answered by a render that *started after it arrived*, so
//!   a scrape always sees every record made before it was sent.
//! * While a render runs, all requests that arrive share the *next* one,
//!   which starts when the running one ends, and only if one of them is
//!   still waiting when it would start: clients that have gone away cost
//!   nothing.
//! * Lanes (formats, encodings) take turns on the one render thread: each
//!   render is its own task, so a flood in one format cannot starve a
//!   scrape in another.
//! * Every waiter of a render gets the same [`Bytes`], and every body
//!   alive is counted, whether a response in flight (a slow reader) or a
//!   lane (its newest) holds it. Past [`MAX_IN_FLIGHT`] bytes, a request is
//!   answered with the newest body of its lane instead of a new render, or
//!   503 when its lane has none, so bodies take at most [`MAX_IN_FLIGHT`]
//!   plus the one render running, however many slow readers arrive; fresh
//!   renders resume as they finish or time out.
//! * A lane unused for [`LANE_IDLE`] lets its newest body go, so what an
//!   attack in many formats left behind is given back.
//!
//! A flood of scrapes therefore costs at most back-to-back renders while it
//! lasts and one more after it, and a legitimate scrape waits for at most
//! two renders of its lane and one of each other lane.

use super::super::encode::{self, Exposition};
use crate::store::Store;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Bytes of rendered bodies alive at once (held by lanes and responses)
/// before new requests share their lane's newest body instead of
/// rendering.
pub(super) const MAX_IN_FLIGHT: usize = 64 * 1024 * 1024;

/// How long a lane keeps its newest body without a request.
pub(super) const LANE_IDLE: Duration = Duration::from_secs(60);

/// Why a request got no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NoBody {
    /// The render failed (500).
    Failed,
    /// Bodies in flight are at [`MAX_IN_FLIGHT`] and this lane has none to
    /// share (503).
    OverMemory,
}

/// What a scrape asks to be rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Variant {
    /// Format and name escaping.
    pub format: Exposition,
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
    /// A render task is queued or running.
    running: bool,
    /// Requests waiting for a render that has not started yet.
    pending: usize,
    done: watch::Sender<Done>,
    /// The last body's size, to allocate the next one at once.
    last_size: Arc<AtomicUsize>,
    /// The last request.
    used: Instant,
}

pub(super) struct Renders {
    store: Arc<Store>,
    lanes: Mutex<HashMap<Variant, Lane>>,
    /// Bytes of bodies alive (held by a lane or a response in flight).
    in_flight: Arc<AtomicUsize>,
    /// When idle lanes were last looked for.
    swept: Mutex<Instant>,
    /// [`MAX_IN_FLIGHT`], smaller in tests.
    max_in_flight: usize,
    /// Renders run, for tests of the sharing.
    #[cfg(test)]
    pub(super) count: AtomicUsize,
}

impl Renders {
    pub(super) fn new(store: Arc<Store>) -> Arc<Self> {
        Arc::new(Renders {
            store,
            lanes: Mutex::new(HashMap::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            swept: Mutex::new(Instant::now()),
            max_in_flight: MAX_IN_FLIGHT,
            #[cfg(test)]
            count: AtomicUsize::new(0),
        })
    }

    /// The body for `variant`, rendered after this call began (or, past
    /// [`MAX_IN_FLIGHT`], the lane's newest). Dropping the future (the
    /// client left) withdraws the request.
    pub(super) async fn get(self: &Arc<Self>, variant: Variant) -> Result<Bytes, NoBody> {
        let (need, mut rx, start) = {
            let now = Instant::now();
            let mut lanes = self.lock();
            self.sweep(&mut lanes, now);
            let lane = lanes.entry(variant).or_insert_with(|| Lane {
                started: 0,
                running: false,
                pending: 0,
                done: watch::Sender::new(Done { id: 0, body: None }),
                last_size: Arc::new(AtomicUsize::new(0)),
                used: now,
            });
            lane.used = now;
            if self.in_flight.load(Ordering::Relaxed) > self.max_in_flight {
                return lane.done.borrow().body.clone().ok_or(NoBody::OverMemory);
            }
            lane.pending += 1;
            let start = !lane.running;
            lane.running = true;
            (lane.started + 1, lane.done.subscribe(), start)
        };
        let _withdraw = Withdraw {
            renders: self,
            variant,
            need,
        };
        if start {
            self.spawn(variant);
        }
        let done = rx.wait_for(|d| d.id >= need).await;
        done.ok().and_then(|d| d.body.clone()).ok_or(NoBody::Failed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Variant, Lane>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets lanes unused for [`LANE_IDLE`] drop their newest body; looks
    /// at most once a second.
    fn sweep(&self, lanes: &mut HashMap<Variant, Lane>, now: Instant) {
        {
            let mut swept = self.swept.lock().unwrap_or_else(|e| e.into_inner());
            if now.duration_since(*swept) < Duration::from_secs(1) {
                return;
            }
            *swept = now;
        }
        for lane in lanes.values_mut() {
            if !lane.running && now.duration_since(lane.used) >= LANE_IDLE {
                lane.done.send_if_modified(|d| d.body.take().is_some());
            }
        }
    }

    /// Queues one render of `variant` on the blocking thread. It renders
    /// only if someone still waits when its turn comes, and queues the
    /// next one behind the other lanes' if requests arrived meanwhile.
    fn spawn(self: &Arc<Self>, variant: Variant) {
        let renders = self.clone();
        tokio::task::spawn_blocking(move || {
            let (id, hint) = {
                let mut lanes = renders.lock();
                let lane = lanes.get_mut(&variant).expect("lanes are never removed");
                if lane.pending == 0 {
                    // Everyone who asked has left.
                    lane.running = false;
                    return;
                }
                // Those waiting now wait for this render.
                lane.pending = 0;
                lane.started += 1;
                (lane.started, lane.last_size.clone())
            };
            // A panic in an encoder must not leave waiters waiting forever.
            let body = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                render(&renders.store, variant, &hint, &renders.in_flight)
            }))
            .ok()
            .flatten();
            #[cfg(test)]
            renders.count.fetch_add(1, Ordering::Relaxed);
            let again = {
                let mut lanes = renders.lock();
                let lane = lanes.get_mut(&variant).expect("lanes are never removed");
                lane.done.send_replace(Done { id, body });
                lane.running = lane.pending > 0;
                lane.running
            };
            if again {
                renders.spawn(variant);
            }
        });
    }
}

/// Takes a request that has not been served out of the count of those
/// waiting for the next render, so a render nobody waits for never runs.
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
                lane.pending -= 1;
            }
        }
    }
}

fn render(
    store: &Store,
    variant: Variant,
    last_size: &AtomicUsize,
    in_flight: &Arc<AtomicUsize>,
) -> Option<Bytes> {
    let body = encode::render_sized(store, variant.format, last_size);
    let body = if variant.gzip {
        compress(&body).ok()?
    } else {
        body
    };
    Some(Bytes::from_owner(Counted::new(body, in_flight.clone())))
}

/// A body that counts itself in the bytes in flight while any response,
/// or the lane, still holds it.
///
/// Under pressure (more than [`MAP_ABOVE`] of bodies alive already: slow
/// readers piling up) a large body is copied into an anonymous mapping, so
/// freeing it gives its pages back at once; glibc keeps freed heap blocks
/// of this size, and kept 61 MB after 1,592 slow readers had left. The
/// copy costs about 0.6 ms for 950 kB (page faults), a sixth of a render,
/// so bodies are mapped only then.
struct Counted {
    body: Body,
    in_flight: Arc<AtomicUsize>,
}

enum Body {
    Heap(Vec<u8>),
    Mapped(memmap2::Mmap, usize),
}

/// Bodies from this size on may be mapped.
const MAP_FROM: usize = 256 * 1024;

/// Bytes of bodies alive above which new large bodies are mapped.
const MAP_ABOVE: usize = 8 * 1024 * 1024;

impl Counted {
    fn new(body: Vec<u8>, in_flight: Arc<AtomicUsize>) -> Self {
        let pressure = in_flight.fetch_add(body.len(), Ordering::Relaxed) > MAP_ABOVE;
        let body = match pressure.then(|| mapped(&body)).flatten() {
            Some(map) => Body::Mapped(map, body.len()),
            None => Body::Heap(body),
        };
        Counted { body, in_flight }
    }

    fn len(&self) -> usize {
        match &self.body {
            Body::Heap(v) => v.len(),
            Body::Mapped(_, len) => *len,
        }
    }
}

/// `body` copied into a read-only anonymous mapping, when it is large.
fn mapped(body: &[u8]) -> Option<memmap2::Mmap> {
    if body.len() < MAP_FROM {
        return None;
    }
    let mut map = memmap2::MmapMut::map_anon(body.len()).ok()?;
    map.copy_from_slice(body);
    map.make_read_only().ok()
}

impl AsRef<[u8]> for Counted {
    fn as_ref(&self) -> &[u8] {
        match &self.body {
            Body::Heap(v) => v,
            Body::Mapped(map, len) => &map[..*len],
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(self.len(), Ordering::Relaxed);
    }
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
    use crate::export::encode::{Escaping, Format};
    use crate::store::StoreConfig;
    use std::time::Duration;

    fn renders() -> Arc<Renders> {
        renders_with(MAX_IN_FLIGHT)
    }

    fn renders_with(max_in_flight: usize) -> Arc<Renders> {
        let store = Store::new(StoreConfig {
            global_labels: Vec::new(),
            default_buckets: crate::store::DEFAULT_BUCKETS.to_vec(),
            foreign_limits: Default::default(),
            foreign_idle_expiry: None,
        });
        // Make each render take a while, so that requests overlap it.
        store.on_render(Box::new(|| std::thread::sleep(Duration::from_millis(100))));
        let renders = Renders::new(Arc::new(store));
        Arc::new(Renders {
            store: renders.store.clone(),
            lanes: Mutex::new(HashMap::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            swept: Mutex::new(std::time::Instant::now()),
            max_in_flight,
            count: AtomicUsize::new(0),
        })
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .max_blocking_threads(1)
            .build()
            .unwrap()
    }

    const TEXT: Variant = Variant {
        format: Exposition {
            format: Format::Text,
            escaping: Escaping::Underscores,
            explicit: false,
        },
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

    #[test]
    fn a_flood_in_one_format_does_not_starve_another() {
        let renders = renders();
        let took = runtime().block_on(async {
            // Text requests arrive all the time, so its lane always has a
            // next render waiting.
            let flooding = tokio::spawn({
                let r = renders.clone();
                async move {
                    let mut tasks = Vec::new();
                    for _ in 0..40 {
                        let r = r.clone();
                        tasks.push(tokio::spawn(async move { r.get(TEXT).await }));
                        tokio::time::sleep(Duration::from_millis(25)).await;
                    }
                    for t in tasks {
                        t.await.unwrap().unwrap();
                    }
                }
            });
            tokio::time::sleep(Duration::from_millis(150)).await;
            let start = std::time::Instant::now();
            let body = renders
                .get(Variant {
                    format: Format::OpenMetrics.into(),
                    gzip: false,
                })
                .await
                .unwrap();
            let took = start.elapsed();
            assert!(body.ends_with(b"# EOF\n"));
            flooding.await.unwrap();
            took
        });
        // One text render running, at most one queued ahead, then ours.
        assert!(
            took < Duration::from_millis(450),
            "OpenMetrics waited {took:?}"
        );
    }

    #[test]
    fn past_the_in_flight_bound_requests_share_the_newest_body_and_every_body_counts() {
        let rt = runtime();
        let size = rt.block_on(renders().get(TEXT)).unwrap().len();
        // Room for one text body, not two.
        let renders = renders_with(size + size / 2);
        let older = rt.block_on(renders.get(TEXT)).unwrap();
        // Bodies are counted by their own length: another test of this
        // process may change what a store renders between two renders.
        assert_eq!(renders.in_flight.load(Ordering::Relaxed), older.len());
        let newest = rt.block_on(renders.get(TEXT)).unwrap();
        assert_eq!(renders.count.load(Ordering::Relaxed), 2);
        // `older` (a slow reader) and the lane's newest: over the bound, so
        // the next request shares the newest body.
        let shared = rt.block_on(renders.get(TEXT)).unwrap();
        assert_eq!(renders.count.load(Ordering::Relaxed), 2, "no new render");
        assert_eq!(shared.as_ptr(), newest.as_ptr());
        // A lane with nothing to share is refused rather than rendered.
        let open_metrics = Variant {
            format: Format::OpenMetrics.into(),
            gzip: false,
        };
        assert_eq!(
            rt.block_on(renders.get(open_metrics)),
            Err(NoBody::OverMemory)
        );
        assert_eq!(
            renders.in_flight.load(Ordering::Relaxed),
            older.len() + newest.len()
        );
        drop(older);
        // Below the bound again: a fresh render.
        let fresh = rt.block_on(renders.get(TEXT)).unwrap();
        assert_eq!(renders.count.load(Ordering::Relaxed), 3);
        assert_ne!(fresh.as_ptr(), newest.as_ptr());
        let kept = fresh.len();
        drop((newest, shared, fresh));
        // The lane still holds its newest body; nothing else does.
        assert_eq!(renders.in_flight.load(Ordering::Relaxed), kept);
    }

    #[test]
    fn large_bodies_are_mapped_only_under_pressure() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let large = vec![7u8; MAP_FROM];
        let calm = Counted::new(large.clone(), in_flight.clone());
        assert!(matches!(calm.body, Body::Heap(_)));
        in_flight.fetch_add(MAP_ABOVE, Ordering::Relaxed);
        let pressed = Counted::new(large.clone(), in_flight.clone());
        assert!(matches!(pressed.body, Body::Mapped(..)));
        assert_eq!(pressed.as_ref(), &large[..]);
        let small = Counted::new(vec![1; 10], in_flight.clone());
        assert!(matches!(small.body, Body::Heap(_)));
        drop((calm, pressed, small));
        assert_eq!(in_flight.load(Ordering::Relaxed), MAP_ABOVE);
    }

    #[test]
    fn a_lane_unused_for_a_minute_gives_its_body_back() {
        let renders = renders();
        let rt = runtime();
        drop(rt.block_on(renders.get(TEXT)).unwrap());
        assert!(renders.in_flight.load(Ordering::Relaxed) > 0);
        let later = std::time::Instant::now() + LANE_IDLE;
        renders.sweep(&mut renders.lock(), later);
        assert_eq!(renders.in_flight.load(Ordering::Relaxed), 0);
    }
}
