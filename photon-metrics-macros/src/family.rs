//! `family!`: an application's own families. Everything a token can get
//! wrong is checked here, with the error at that token; what needs the
//! label types' names (two labels of one name, a clash with a catalog
//! name) is a `const` check in the core crate, spanned at the user's type.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Error, Expr, Ident, LitStr, Result, Token, Type, Visibility};

use crate::limits::{valid_metric_name, MAX_LABELS};

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

struct Families(Vec<Declaration>);

struct Declaration {
    docs: Vec<String>,
    family_attr: Attribute,
    other_attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    kind: Ident,
    labels: Type,
}

impl Parse for Families {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut out = Vec::new();
        while !input.is_empty() {
            out.push(input.parse()?);
        }
        Ok(Families(out))
    }
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        input.parse::<Token![static]>()?;
        let ident: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty: Type = input.parse()?;
        input.parse::<Token![;]>()?;

        let mut docs = Vec::new();
        let mut family_attr = None;
        let mut other_attrs = Vec::new();
        for attr in attrs {
            if attr.path().is_ident("doc") {
                if let syn::Meta::NameValue(nv) = &attr.meta {
                    if let Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = &nv.value
                    {
                        docs.push(s.value().trim().to_string());
                    }
                }
                other_attrs.push(attr);
            } else if attr.path().is_ident("family") {
                if family_attr.is_some() {
                    return Err(Error::new_spanned(attr, "one `#[family(…)]` per family"));
                }
                family_attr = Some(attr);
            } else {
                other_attrs.push(attr);
            }
        }
        let family_attr = family_attr.ok_or_else(|| {
            Error::new(
                ident.span(),
                "a family needs `#[family(name = \"…\", unit = …)]`",
            )
        })?;

        let (kind, labels) = split_type(&ty)?;
        match &labels {
            Type::Tuple(t) => {
                if let Some(extra) = t.elems.iter().nth(MAX_LABELS) {
                    return Err(Error::new_spanned(
                        extra,
                        format!("a family has at most {MAX_LABELS} labels (a series' stamp holds {MAX_LABELS} generations)"),
                    ));
                }
            }
            other => {
                return Err(Error::new_spanned(
                    other,
                    "the labels are a tuple of label types: `()`, `(A,)`, `(A, B)` or `(A, B, C)`",
                ))
            }
        };
        Ok(Declaration {
            docs,
            family_attr,
            other_attrs,
            vis,
            ident,
            kind,
            labels,
        })
    }
}

/// `Counter<(A, B)>` into `Counter` and `(A, B)`.
fn split_type(ty: &Type) -> Result<(Ident, Type)> {
    let wrong = || {
        Error::new_spanned(
            ty,
            "a family's type is `Counter<(labels…)>`, `Gauge<(labels…)>` or `Histogram<(labels…)>`",
        )
    };
    let Type::Path(path) = ty else {
        return Err(wrong());
    };
    let segment = path.path.segments.last().ok_or_else(wrong)?;
    if !["Counter", "Gauge", "Histogram"].contains(&segment.ident.to_string().as_str()) {
        return Err(wrong());
    }
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return Err(wrong());
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(labels)) if args.args.len() == 1 => {
            Ok((segment.ident.clone(), labels.clone()))
        }
        _ => Err(wrong()),
    }
}

/// What `#[family(…)]` says.
struct Options {
    name: LitStr,
    unit: Option<Ident>,
    buckets: Option<(Ident, Vec<(f64, Span)>)>,
    native: Option<(Ident, i64, u64)>,
    query: Option<LitStr>,
}

fn options(attr: &Attribute) -> Result<Options> {
    let mut name = None;
    let mut unit = None;
    let mut buckets = None;
    let mut native = None;
    let mut query = None;
    attr.parse_nested_meta(|meta| {
        let key =
            meta.path.get_ident().cloned().ok_or_else(|| {
                meta.error("expected `name`, `unit`, `buckets`, `native` or `query`")
            })?;
        match key.to_string().as_str() {
            "name" => name = Some(meta.value()?.parse::<LitStr>()?),
            "unit" => unit = Some(meta.value()?.parse::<Ident>()?),
            "query" => query = Some(meta.value()?.parse::<LitStr>()?),
            "buckets" => {
                let list: syn::ExprArray = meta.value()?.parse()?;
                let mut values = Vec::new();
                for e in &list.elems {
                    values.push((number(e)?, e.span()));
                }
                buckets = Some((key, values));
            }
            "native" => {
                let mut schema = None;
                let mut max_buckets = 160;
                meta.parse_nested_meta(|inner| {
                    if inner.path.is_ident("schema") {
                        let e: Expr = inner.value()?.parse()?;
                        let v = number(&e)?;
                        if v.fract() != 0.0 || !(-4.0..=8.0).contains(&v) {
                            return Err(Error::new_spanned(
                                e,
                                "a native schema is an integer from -4 to 8",
                            ));
                        }
                        schema = Some(v as i64);
                    } else if inner.path.is_ident("max_buckets") {
                        let lit: syn::LitInt = inner.value()?.parse()?;
                        max_buckets = lit.base10_parse::<u64>()?;
                        if max_buckets == 0 || max_buckets > u64::from(u32::MAX) {
                            return Err(Error::new_spanned(lit, "max_buckets is at least 1"));
                        }
                    } else {
                        return Err(inner.error("expected `schema` or `max_buckets`"));
                    }
                    Ok(())
                })?;
                let schema = schema
                    .ok_or_else(|| Error::new_spanned(&key, "`native(…)` needs `schema = …`"))?;
                native = Some((key, schema, max_buckets));
            }
            _ => {
                return Err(Error::new_spanned(
                    key,
                    "unknown option; expected `name`, `unit`, `buckets`, `native` or `query`",
                ))
            }
        }
        Ok(())
    })?;
    let name =
        name.ok_or_else(|| Error::new_spanned(attr, "`#[family(…)]` needs `name = \"…\"`"))?;
    Ok(Options {
        name,
        unit,
        buckets,
        native,
        query,
    })
}

/// A numeric literal, possibly negated, as `f64`.
fn number(e: &Expr) -> Result<f64> {
    match e {
        Expr::Lit(lit) => match &lit.lit {
            syn::Lit::Float(f) => f.base10_parse::<f64>(),
            syn::Lit::Int(i) => i.base10_parse::<f64>(),
            other => Err(Error::new_spanned(other, "expected a number")),
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => number(&u.expr).map(|v| -v),
        other => Err(Error::new_spanned(other, "expected a number literal")),
    }
}

pub(crate) fn family(input: TokenStream) -> Result<TokenStream> {
    let Families(declarations) = syn::parse2(input)?;
    let mut out = TokenStream::new();
    for d in declarations {
        out.extend(declaration(d)?);
    }
    Ok(out)
}

fn declaration(d: Declaration) -> Result<TokenStream> {
    let o = options(&d.family_attr)?;
    let name = o.name.value();
    let kind = d.kind.to_string();
    if !valid_metric_name(&name) {
        return Err(Error::new_spanned(
            &o.name,
            "not a metric name: use ASCII letters, digits and `_`, not starting with a digit or `__` (colons are for recording rules)",
        ));
    }
    if let Some(suffix) = SERIES_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(Error::new_spanned(
            &o.name,
            format!("`{suffix}` ends the names of a family's series, not a family's name"),
        ));
    }
    let base = match kind.as_str() {
        "Counter" => name
            .strip_suffix("_total")
            .ok_or_else(|| Error::new_spanned(&o.name, "a counter's name ends in `_total`"))?,
        _ if name.ends_with("_total") => {
            return Err(Error::new_spanned(
                &o.name,
                format!(
                    "`_total` is reserved for counters; a {} name does not end in it",
                    kind.to_lowercase()
                ),
            ))
        }
        _ => name.as_str(),
    };
    // The unit: the one declared must be the one the name ends in.
    let named = UNITS
        .iter()
        .find(|(_, _, s)| s.is_some_and(|s| base.ends_with(s)));
    let unit_variant = match (&o.unit, named) {
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
    };
    if d.docs.iter().all(String::is_empty) {
        return Err(Error::new(
            d.ident.span(),
            "a family needs a doc comment: it is its `# HELP` text",
        ));
    }
    let help = d
        .docs
        .iter()
        .filter(|l| !l.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");

    let buckets = match (&o.buckets, kind.as_str()) {
        (Some((_, values)), "Histogram") => {
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
            let values = values.iter().map(|(v, _)| v);
            quote!(::core::option::Option::Some(&[#(#values as f64),*]))
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
        (None, _) => quote!(::core::option::Option::None),
    };
    let native = match (&o.native, kind.as_str()) {
        (Some((_, schema, max)), "Histogram") => {
            let schema = *schema as i8;
            let max = *max as u32;
            quote!(::core::option::Option::Some(::photon_metrics::catalog::NativeBuckets {
                schema: #schema,
                zero_threshold: ::photon_metrics::catalog::LATENCY_NATIVE_BUCKETS.zero_threshold,
                max_buckets: #max,
            }))
        }
        (Some((key, _, _)), _) => {
            return Err(Error::new_spanned(
                key,
                "only a histogram has native buckets",
            ))
        }
        (None, _) => quote!(::core::option::Option::None),
    };
    let query = match &o.query {
        Some(q) => q.value(),
        None => match kind.as_str() {
            "Counter" => format!("sum(rate({name}[5m]))"),
            "Gauge" => name.clone(),
            _ => format!("histogram_quantile(0.95, sum by (le) (rate({name}_bucket[5m])))"),
        },
    };

    let Declaration {
        other_attrs,
        vis,
        ident,
        kind: kind_ident,
        labels,
        ..
    } = d;
    let kind_variant = Ident::new(&kind, kind_ident.span());
    let unit_variant = Ident::new(unit_variant, Span::call_site());
    let ty = quote_spanned!(kind_ident.span()=> ::photon_metrics::families::#kind_ident<#labels>);
    let names =
        quote_spanned!(labels.span()=> <#labels as ::photon_metrics::labels::LabelSet>::NAMES);
    let new = quote_spanned!(labels.span()=> <#ty>::__new);
    let no_clash = quote_spanned!(o.name.span()=>
        const _: () = ::core::assert!(
            !::photon_metrics::catalog::is_catalog_name(#name),
            "this name is a catalog family's, or one of its series' names"
        );
    );
    let distinct = quote_spanned!(labels.span()=>
        const _: () = ::core::assert!(
            !::photon_metrics::__private::has_duplicate_label(#names),
            "two labels of this family have the same name"
        );
    );
    Ok(quote! {
        #no_clash
        #distinct
        ::photon_metrics::__private::inventory::submit! {
            ::photon_metrics::__private::Declared::new(#name, || #ident.register())
        }
        #(#other_attrs)*
        #vis static #ident: #ty = #new(::photon_metrics::catalog::FamilySpec {
            name: #name,
            help: #help,
            unit: ::photon_metrics::catalog::Unit::#unit_variant,
            kind: ::photon_metrics::catalog::Kind::#kind_variant,
            labels: #names,
            buckets: #buckets,
            native: #native,
            subsystem: ::photon_metrics::catalog::Subsystem::Application,
            example_query: #query,
        });
    })
}
