//! A small reader of the text exposition (both formats' sample lines), for
//! checking what a scrape says. Independent parsers (promtool, Python's
//! prometheus_client) are used where the format itself is under test.
#![allow(dead_code)]

use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

/// One sample line: name, labels, value, and the exemplar text if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
    pub exemplar: Option<String>,
}

/// Every sample line of an exposition; panics on a line it cannot read.
pub fn parse(text: &str) -> Vec<Sample> {
    // Lines end at `\n` only (not CRLF): a raw `\r` is valid text.
    text.split('\n')
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| parse_line(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

fn parse_line(line: &str) -> Result<Sample, String> {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return Err("no value".into()),
    };
    let mut labels = Labels::new();
    let mut rest = rest;
    if let Some(mut r) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = r.strip_prefix('}') {
                r = after;
                break;
            }
            let eq = r.find("=\"").ok_or("no =\" in labels")?;
            let key = r[..eq].to_string();
            r = &r[eq + 2..];
            let mut value = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => return Err("dangling escape".into()),
                    },
                    Some((i, '"')) => break i,
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            };
            labels.insert(key, value);
            r = &r[end + 1..];
            r = r.strip_prefix(',').unwrap_or(r);
        }
        rest = r;
    }
    let rest = rest.trim_start();
    let (value, exemplar) = match rest.split_once(" # ") {
        Some((v, e)) => (v, Some(e.to_string())),
        None => (rest, None),
    };
    let value = value.split_whitespace().next().ok_or("no value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|e| format!("bad value {v}: {e}"))?,
    };
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
        exemplar,
    })
}

/// The value of the sample `name` whose labels include `labels`.
pub fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}
