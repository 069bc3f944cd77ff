//! Validation of a parsed declaration, separate from its expansion: the
//! name's form and suffixes, the unit it states, its help, buckets and
//! native schema. Every error is spanned at the token that causes it.

use syn::{Error, Ident, LitStr, Result};

use super::ast::{options, Bounds, Declaration, Options};
use crate::limits::valid_metric_name;

/// The units a family may declare: the word, the `Unit` variant, and the
/// suffix its name must carry.
const UNITS: &[(&str, &str, Option<&str>)] = &[
    ("count", "Count", None),
    ("seconds", "Seconds", Some("_seconds")),
    ("bytes", "Bytes", Some("_bytes")),
    ("milliwatts", "Milliwatts", Some("_mw")),
    ("celsius", "Celsius", Some("_celsius")),
    ("ratio", "Ratio", None),
    ("ops_per_second", "OpsPerSecond", None),
    ("state", "State", None),
];

/// Suffixes that name a family's series, never a family.
const SERIES_SUFFIXES: &[&str] = &["_bucket", "_count", "_sum", "_created"];

/// A declaration that passed every check, with what its expansion needs.
pub(super) struct Checked {
    pub(super) declaration: Declaration,
    /// The family's name, and the literal it was written as (for spans).
    pub(super) name: String,
    pub(super) name_token: LitStr,
    pub(super) help: String,
    /// The `Unit` variant.
    pub(super) unit_variant: &'static str,
    pub(super) buckets: Option<Buckets>,
    /// The native schema and bucket limit.
    pub(super) native: Option<(i8, u32)>,
    pub(super) query: String,
    /// The `Subsystem` variant.
    pub(super) subsystem: &'static str,
    /// The `Merge` variant.
    pub(super) merge: &'static str,
}

/// Checked bucket bounds: numbers, or a `const` slice the expansion asserts on.
pub(super) enum Buckets {
    List(Vec<f64>),
    Path(syn::ExprPath),
}

/// The subsystems a family may name: the word and the `Subsystem` variant.
const SUBSYSTEMS: &[(&str, &str)] = &[
    ("application", "Application"),
    ("compiler", "Compiler"),
    ("hardware", "Hardware"),
    ("runtime", "Runtime"),
    ("self_monitoring", "SelfMonitoring"),
];

/// Checks a declaration through and through; expansion can then assume
/// it is well formed.
pub(super) fn check(d: Declaration) -> Result<Checked> {
    let o = options(&d.family_attr)?;
    let name = o.name.value();
    let kind = d.kind.to_string();
    check_name(&o.name, &name)?;
    let base = base_name(&o.name, &name, &kind)?;
    let unit_variant = unit_variant(&o, base, &kind)?;
    let help = help(&d)?;
    let buckets = buckets(&o, &kind, &d)?;
    let native = native(&o, &kind)?;
    let query = query(&o, &kind, &name);
    let subsystem = subsystem(&o)?;
    let merge = merge(&o, &kind)?;
    Ok(Checked {
        subsystem,
        merge,
        name,
        name_token: o.name,
        help,
        unit_variant,
        buckets,
        native,
        query,
        declaration: d,
    })
}

/// A metric name, and not a series' name.
fn check_name(token: &LitStr, name: &str) -> Result<()> {
    if !valid_metric_name(name) {
        return Err(Error::new_spanned(
            token,
            "not a metric name: use ASCII letters, digits and `_`, not starting with a digit or `__` (colons are for recording rules)",
        ));
    }
    if let Some(suffix) = SERIES_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(Error::new_spanned(
            token,
            format!("`{suffix}` ends the names of a family's series, not a family's name"),
        ));
    }
    Ok(())
}

/// The name without a counter's `_total`, which only a counter has.
fn base_name<'a>(token: &LitStr, name: &'a str, kind: &str) -> Result<&'a str> {
    Ok(match kind {
        "Counter" => name
            .strip_suffix("_total")
            .ok_or_else(|| Error::new_spanned(token, "a counter's name ends in `_total`"))?,
        _ if name.ends_with("_total") => {
            return Err(Error::new_spanned(
                token,
                format!(
                    "`_total` is reserved for counters; a {} name does not end in it",
                    kind.to_lowercase()
                ),
            ))
        }
        _ => name,
    })
}

/// The `Unit` variant: the unit declared must be the one the name ends in.
fn unit_variant(o: &Options, base: &str, kind: &str) -> Result<&'static str> {
    // The unit: the one declared must be the one the name ends in.
    let named = UNITS
        .iter()
        .find(|(_, _, s)| s.is_some_and(|s| base.ends_with(s)));
    Ok(match (&o.unit, named) {
        (Some(unit), _) => {
            let word = unit.to_string();
            let Some(&(_, variant, suffix)) = UNITS.iter().find(|(w, _, _)| *w == word) else {
                let words: Vec<&str> = UNITS.iter().map(|(w, _, _)| *w).collect();
                return Err(Error::new_spanned(
                    unit,
                    format!("unknown unit; expected one of: {}", words.join(", ")),
                ));
            };
            if let Some(suffix) = suffix {
                if !base.ends_with(suffix) {
                    return Err(Error::new_spanned(
                        unit,
                        format!(
                            "unit = {word}, but the name does not end in `{suffix}`{}",
                            if kind == "Counter" {
                                " (before `_total`)"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
            if let Some((named_word, _, suffix)) = named {
                if *named_word != word {
                    return Err(Error::new_spanned(
                        unit,
                        format!(
                            "the name ends in `{}`, which says unit = {named_word}",
                            suffix.unwrap_or_default()
                        ),
                    ));
                }
            }
            variant
        }
        (None, Some((word, _, suffix))) => {
            return Err(Error::new_spanned(
                &o.name,
                format!(
                    "the name ends in `{}`: say so with `unit = {word}`",
                    suffix.unwrap_or_default()
                ),
            ))
        }
        (None, None) => "Count",
    })
}

/// The doc comment, as `# HELP` text.
fn help(d: &Declaration) -> Result<String> {
    if d.docs.iter().all(String::is_empty) {
        return Err(Error::new(
            d.ident.span(),
            "a family needs a doc comment: it is its `# HELP` text",
        ));
    }
    Ok(d.docs
        .iter()
        .filter(|l| !l.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" "))
}

/// A histogram's bounds: finite and strictly increasing; no other kind has any.
fn buckets(o: &Options, kind: &str, d: &Declaration) -> Result<Option<Buckets>> {
    Ok(match (&o.buckets, kind) {
        (Some((_, Bounds::Path(path))), "Histogram") => Some(Buckets::Path(path.clone())),
        (Some((_, Bounds::List(values))), "Histogram") => {
            if values.is_empty() {
                return Err(Error::new_spanned(&o.buckets.as_ref().unwrap().0, "a histogram needs at least one bucket bound"));
            }
            for (i, (v, span)) in values.iter().enumerate() {
                if !v.is_finite() {
                    return Err(Error::new(*span, "bucket bounds are finite (`+Inf` is implicit)"));
                }
                if i > 0 && *v <= values[i - 1].0 {
                    return Err(Error::new(*span, "bucket bounds increase strictly"));
                }
            }
            Some(Buckets::List(values.iter().map(|(v, _)| *v).collect()))
        }
        (Some((key, _)), _) => {
            return Err(Error::new_spanned(key, "only a histogram has buckets"))
        }
        (None, "Histogram") => {
            return Err(Error::new(
                d.ident.span(),
                "a histogram needs `buckets = [...]` in `#[family(…)]`: the bounds its quantiles are read from",
            ))
        }
        (None, _) => None,
    })
}

/// A histogram's native schema and bucket limit; no other kind has them.
fn native(o: &Options, kind: &str) -> Result<Option<(i8, u32)>> {
    Ok(match (&o.native, kind) {
        (Some((_, schema, max)), "Histogram") => Some((*schema as i8, *max as u32)),
        (Some((key, _, _)), _) => {
            return Err(Error::new_spanned(
                key,
                "only a histogram has native buckets",
            ))
        }
        (None, _) => None,
    })
}

/// The `Subsystem` variant: `application` unless the declaration names another.
fn subsystem(o: &Options) -> Result<&'static str> {
    match &o.subsystem {
        None => Ok("Application"),
        Some(word) => variant(SUBSYSTEMS, word, "subsystem"),
    }
}

/// The variant `word` names in `table` (word, variant), or an error at
/// the word that lists the words.
fn variant(table: &[(&str, &'static str)], word: &Ident, what: &str) -> Result<&'static str> {
    table
        .iter()
        .find(|(w, _)| word == w)
        .map(|(_, variant)| *variant)
        .ok_or_else(|| {
            let words: Vec<&str> = table.iter().map(|(w, _)| *w).collect();
            Error::new_spanned(
                word,
                format!("unknown {what}; expected one of: {}", words.join(", ")),
            )
        })
}

/// How the processes of one service merge a gauge (see `Merge`): the word
/// and the variant.
const MERGES: &[(&str, &str)] = &[
    ("sum", "Sum"),
    ("max", "Max"),
    ("min", "Min"),
    ("last", "Last"),
    ("per_process", "PerProcess"),
];

/// The `Merge` variant: `sum` unless a gauge names another; counters and
/// histograms always add up, so only a gauge may say.
fn merge(o: &Options, kind: &str) -> Result<&'static str> {
    let Some(word) = &o.merge else {
        return Ok("Sum");
    };
    if kind != "Gauge" {
        return Err(Error::new_spanned(
            word,
            "only a gauge says how processes merge: counters and histograms add up",
        ));
    }
    variant(MERGES, word, "merge")
}

/// The example query the catalog shows for the family.
fn query(o: &Options, kind: &str, name: &str) -> String {
    match &o.query {
        Some(q) => q.value(),
        None => match kind {
            "Counter" => format!("sum(rate({name}[5m]))"),
            "Gauge" => name.to_string(),
            _ => format!("histogram_quantile(0.95, sum by (le) (rate({name}_bucket[5m])))"),
        },
    }
}
