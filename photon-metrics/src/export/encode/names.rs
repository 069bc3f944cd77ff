//! Metric names as a scraper asked for them: Prometheus 3's `escaping`.
//!
//! Catalog names, and every label name (foreign label names are made valid
//! legacy names when a key is registered: see [`crate::store::foreign`]),
//! are valid legacy names, which no escaping changes. What an escaping
//! changes is the name of a foreign family first recorded under a name
//! that is not one (`app.requests`, `größe`):
//!
//! | `escaping=` | `app.requests` is served as |
//! |---|---|
//! | `allow-utf-8` | `app.requests` (quoted in the text formats: `{"app.requests"} 1`) |
//! | `underscores` (the default) | `app_requests` |
//! | `dots` | `app_dot_requests` (`_` → `__`, `.` → `_dot_`, others → `__`) |
//! | `values` | `U__app_2e_requests` (`_` → `__`, others → `_<hex>_`) |
//!
//! A counter's `_total` (and every sample suffix) stays outside the
//! escaping: `app.requests_total` is `app_dot_requests_total` under `dots`,
//! so its samples still end in `_total` as OpenMetrics requires.
//!
//! # No name is served twice
//!
//! Names that sanitize alike are one family (their series merge), so
//! `app.requests` and `app_requests` are one family under every escaping,
//! shown under the name first recorded. An escaped name that would still
//! collide with a catalog family's or an earlier foreign family's sample
//! names (`values` makes `a.b` into `U__a_2e_b`, which is also a valid
//! name someone may record) is not served under that escaping, with one
//! warning per name and escaping; it is under the others.

use super::escaping::Escaping;
use crate::store::foreign::{claims as samples, Claims, ForeignName, Handle};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Mutex;

/// Whether `name` is a valid legacy metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn is_legacy(name: &str) -> bool {
    !name.is_empty() && name.bytes().enumerate().all(|(i, b)| legacy_byte(b, i))
}

fn legacy_byte(b: u8, i: usize) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || (i > 0 && b.is_ascii_digit())
}

/// `name` under `escaping` (a valid legacy name is never changed).
pub(crate) fn escape(name: &str, escaping: Escaping) -> String {
    if is_legacy(name) {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len() + 8);
    match escaping {
        Escaping::AllowUtf8 => out.push_str(name),
        Escaping::Underscores => out.push_str(&crate::store::escape::metric_name(name)),
        Escaping::Dots => {
            for (i, c) in name.char_indices() {
                match c {
                    '_' => out.push_str("__"),
                    '.' => out.push_str("_dot_"),
                    c if c.is_ascii() && legacy_byte(c as u8, i) => out.push(c),
                    _ => out.push_str("__"),
                }
            }
        }
        Escaping::Values => {
            out.push_str("U__");
            for (i, c) in name.char_indices() {
                match c {
                    '_' => out.push_str("__"),
                    c if c.is_ascii() && legacy_byte(c as u8, i) => out.push(c),
                    c => {
                        use std::fmt::Write as _;
                        let _ = write!(out, "_{:x}_", u32::from(c));
                    }
                }
            }
        }
    }
    out
}

/// One render's foreign names: which each family is served under, and
/// which are taken.
pub(crate) struct ForeignNames {
    escaping: Escaping,
    taken: HashSet<String>,
}

impl ForeignNames {
    pub(crate) fn new(escaping: Escaping) -> Self {
        ForeignNames {
            escaping,
            taken: HashSet::new(),
        }
    }

    /// The name foreign family `key` (its sanitized name) is served under
    /// in this render (empty: the key itself), or `None` if that would
    /// collide (warned once).
    ///
    /// A family served under its key needs no check: registration made
    /// every key's sample names unique, the catalog's included (`claims`).
    /// Any other name is checked against those claims and against the
    /// other escaped names of this render, so a render under the default
    /// escaping does no work here at all.
    pub(crate) fn family(
        &mut self,
        key: &str,
        family: &ForeignName,
        claims: &Claims<'_>,
    ) -> Option<Cow<'static, str>> {
        let exposed = match (&family.original, self.escaping) {
            (Some(original), Escaping::AllowUtf8 | Escaping::Dots | Escaping::Values) => {
                // A counter's `_total` is the format's, not the name's: the
                // name before it is escaped, so the samples still end in it.
                let (base, suffix) = match original.strip_suffix("_total") {
                    Some(base) if family.kind == crate::catalog::Kind::Counter => (base, "_total"),
                    _ => (&**original, ""),
                };
                escape(base, self.escaping) + suffix
            }
            _ => return Some(Cow::Borrowed("")),
        };
        if exposed == key {
            return Some(Cow::Borrowed(""));
        }
        let samples = samples(&exposed, family.kind);
        if samples
            .iter()
            .any(|s| claims.owner(s).is_some_and(|o| o != key) || self.taken.contains(s))
        {
            warn_collision(&exposed, self.escaping);
            return None;
        }
        self.taken.extend(samples);
        Some(Cow::Owned(exposed))
    }

    /// Every series of `family` with its protobuf label pairs.
    pub(crate) fn each_series(&self, family: &ForeignName, mut f: impl FnMut(&Handle, &[u8])) {
        for handle in &family.series {
            let pairs = match handle {
                Handle::Counter(s) => &s.pairs,
                Handle::Gauge(s) => &s.pairs,
                Handle::Histogram(s) => &s.pairs,
            };
            f(handle, pairs);
        }
    }
}

/// One warning per name and escaping, ever (the names are bounded by the
/// foreign series cap).
fn warn_collision(name: &str, escaping: Escaping) {
    static WARNED: Mutex<Option<HashSet<(String, Escaping)>>> = Mutex::new(None);
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned
        .get_or_insert_with(HashSet::new)
        .insert((name.to_string(), escaping))
    {
        crate::warning::warn(|| {
            tracing::warn!(
                metric = %name,
                escaping = escaping.as_str(),
                "photon-metrics: a metric recorded through the metrics facade would be served under a name another family uses with this escaping; it is left out of such scrapes (warned once per name and escaping)"
            );
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapings_follow_prometheus_common() {
        let cases = [
            (
                "app.requests",
                "app.requests",
                "app_requests",
                "app_dot_requests",
                "U__app_2e_requests",
            ),
            ("a_b.c", "a_b.c", "a_b_c", "a__b_dot_c", "U__a__b_2e_c"),
            ("größe", "größe", "gr__e", "gr____e", "U__gr_f6__df_e"),
            ("9lives", "9lives", "_9lives", "__lives", "U___39_lives"),
            (
                "valid_name",
                "valid_name",
                "valid_name",
                "valid_name",
                "valid_name",
            ),
        ];
        for (name, utf8, underscores, dots, values) in cases {
            assert_eq!(escape(name, Escaping::AllowUtf8), utf8);
            assert_eq!(escape(name, Escaping::Underscores), underscores, "{name}");
            assert_eq!(escape(name, Escaping::Dots), dots, "{name}");
            assert_eq!(escape(name, Escaping::Values), values, "{name}");
        }
    }

    #[test]
    fn legacy_names() {
        assert!(is_legacy("a:b_c9"));
        assert!(!is_legacy("9a"));
        assert!(!is_legacy("a.b"));
        assert!(!is_legacy(""));
    }
}
