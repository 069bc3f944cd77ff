//! Which escaping of names a scraper asked for (Prometheus 3's `escaping`
//! parameter): what every encoder and the name table read.

/// How names that are not valid legacy Prometheus names are served
/// (Prometheus 3's `escaping` parameter of `Accept`). Only names recorded
/// through the `metrics` facade can be such names; the catalog's never are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Escaping {
    /// As recorded (`allow-utf-8`): quoted in the text formats.
    AllowUtf8,
    /// Every invalid character as `_` (`underscores`): what a scraper that
    /// names no escaping gets.
    #[default]
    Underscores,
    /// `.` as `_dot_`, `_` as `__`, others as `__` (`dots`).
    Dots,
    /// `U__` and every invalid character as `_<hex>_` (`values`).
    Values,
}

impl Escaping {
    /// The parameter's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Escaping::AllowUtf8 => "allow-utf-8",
            Escaping::Underscores => "underscores",
            Escaping::Dots => "dots",
            Escaping::Values => "values",
        }
    }

    pub(crate) fn parse(value: &str) -> Option<Escaping> {
        Some(match value {
            "allow-utf-8" => Escaping::AllowUtf8,
            "underscores" => Escaping::Underscores,
            "dots" => Escaping::Dots,
            "values" => Escaping::Values,
            _ => return None,
        })
    }
}
