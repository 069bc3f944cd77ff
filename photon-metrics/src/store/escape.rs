//! Escaping for the exposition formats, done once per series when the
//! series is created (label values) or once per family per scrape (help).
//!
//! Text 0.0.4 and OpenMetrics escape label values the same way (`\\`, `\"`,
//! `\n`); help text escapes `\\` and `\n` in text 0.0.4 and also `\"` in
//! OpenMetrics. Everything else, any Unicode included, is written verbatim.

/// Appends `value` escaped as a label value.
pub(crate) fn label_value(out: &mut String, value: &str) {
    escape(out, value, true);
}

/// Appends one protobuf `Metric.label` field (number 1): a `LabelPair`
/// with `name` (1) and `value` (2), as the protobuf exposition copies it.
pub(crate) fn label_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
    let inner = 1
        + encoded_len_varint(name.len() as u64)
        + name.len()
        + 1
        + encoded_len_varint(value.len() as u64)
        + value.len();
    encode_key(1, WireType::LengthDelimited, out);
    encode_varint(inner as u64, out);
    for (tag, text) in [(1, name), (2, value)] {
        encode_key(tag, WireType::LengthDelimited, out);
        encode_varint(text.len() as u64, out);
        out.extend_from_slice(text.as_bytes());
    }
}

/// The `(name, value)` pairs of label text this module wrote
/// (`name="escaped",…`), unescaped.
pub(crate) fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    while let Some((name, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => {}
                },
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        pairs.push((name.trim_start_matches(',').to_string(), value));
        rest = &after[end..];
    }
    pairs
}

/// Appends `help` escaped for a `# HELP` line; `quotes` for OpenMetrics.
pub(crate) fn help(out: &mut Vec<u8>, help: &str, quotes: bool) {
    let mut s = String::with_capacity(help.len());
    escape(&mut s, help, quotes);
    out.extend_from_slice(s.as_bytes());
}

fn escape(out: &mut String, value: &str, quotes: bool) {
    let mut start = 0;
    for (i, b) in value.bytes().enumerate() {
        let replacement = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quotes => "\\\"",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        out.push_str(replacement);
        start = i + 1;
    }
    out.push_str(&value[start..]);
}

/// A valid Prometheus metric name from any text: characters outside
/// `[a-zA-Z0-9_:]` become `_`, and a leading digit gets a `_` in front.
pub(crate) fn metric_name(name: &str) -> String {
    sanitize(name, true)
}

/// A valid Prometheus label name: characters outside `[a-zA-Z0-9_]` become
/// `_`, and a leading digit gets a `_` in front.
pub(crate) fn label_name(name: &str) -> String {
    sanitize(name, false)
}

fn sanitize(name: &str, colons: bool) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    for c in name.chars() {
        let ok = c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':');
        out.push(if ok { c } else { '_' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_newline_only() {
        let mut s = String::new();
        label_value(&mut s, "a\\\"b\nc — ü");
        assert_eq!(s, "a\\\\\\\"b\\nc — ü");
    }

    #[test]
    fn help_keeps_quotes_in_text_format() {
        let mut v = Vec::new();
        help(&mut v, "say \"hi\"\\\n", false);
        assert_eq!(String::from_utf8(v).unwrap(), "say \"hi\"\\\\\\n");
        let mut v = Vec::new();
        help(&mut v, "say \"hi\"", true);
        assert_eq!(String::from_utf8(v).unwrap(), "say \\\"hi\\\"");
    }

    #[test]
    fn label_text_parses_back_to_its_pairs() {
        let values = ["plain", "a\\\"b\nc — ü", "", "=\",x=\"", "\\"];
        let mut text = String::new();
        for (i, v) in values.iter().enumerate() {
            crate::store::table::push_label(&mut text, &format!("l{i}"), v);
        }
        let parsed = parse_labels(&text);
        assert_eq!(parsed.len(), values.len());
        for (i, (name, value)) in parsed.iter().enumerate() {
            assert_eq!(name, &format!("l{i}"));
            assert_eq!(value, values[i]);
        }
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(metric_name("http.requests-total"), "http_requests_total");
        assert_eq!(metric_name("9lives"), "_9lives");
        assert_eq!(metric_name("a:b"), "a:b");
        assert_eq!(label_name("a:b"), "a_b");
        assert_eq!(label_name(""), "_");
    }
}
