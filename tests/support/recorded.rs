//! Runs code under a local `DebuggingRecorder` and reads back what it recorded.
#![allow(dead_code)]

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshot};

/// One series: name, labels, value.
type Series = (String, Vec<(String, String)>, DebugValue);

/// What one closure recorded.
pub struct Recorded(Vec<Series>);

/// Runs `f` with a fresh local recorder and returns everything it recorded.
pub fn record<T>(f: impl FnOnce() -> T) -> (T, Recorded) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let out = metrics::with_local_recorder(&recorder, f);
    (out, Recorded::from(snapshotter.snapshot()))
}

impl From<Snapshot> for Recorded {
    fn from(s: Snapshot) -> Self {
        Recorded(
            s.into_vec()
                .into_iter()
                .map(|(ck, _, _, v)| {
                    let key = ck.key();
                    let labels = key
                        .labels()
                        .map(|l| (l.key().to_string(), l.value().to_string()))
                        .collect();
                    (key.name().to_string(), labels, v)
                })
                .collect(),
        )
    }
}

impl Recorded {
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        self.0.iter().find_map(|(n, l, v)| {
            let same = n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, want)| l.iter().any(|(lk, lv)| lk == k && lv == want));
            same.then_some(v)
        })
    }

    /// A counter's value, 0 when it was never registered.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(name, labels) {
            Some(DebugValue::Counter(v)) => *v,
            None => 0,
            Some(other) => panic!("{name} is not a counter: {other:?}"),
        }
    }

    /// A gauge's value, if it was registered.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        match self.find(name, labels) {
            Some(DebugValue::Gauge(v)) => Some(v.into_inner()),
            None => None,
            Some(other) => panic!("{name} is not a gauge: {other:?}"),
        }
    }

    /// A histogram's samples (empty when never registered).
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        match self.find(name, labels) {
            Some(DebugValue::Histogram(v)) => v.iter().map(|x| x.into_inner()).collect(),
            None => Vec::new(),
            Some(other) => panic!("{name} is not a histogram: {other:?}"),
        }
    }

    /// Every series of `name`, for failure messages.
    pub fn dump(&self, name: &str) -> String {
        self.0
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(n, l, v)| format!("{n}{l:?} = {v:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
