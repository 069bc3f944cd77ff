//! What a `family!` declaration says: the input model and the parsing of
//! `#[family(…)]`, with errors at the offending token.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Error, Expr, Ident, LitStr, Result, Token, Type, Visibility};

use crate::limits::MAX_LABELS;

/// One `family!` invocation: its declarations, in order, and whether it is
/// photon's catalog (`#![catalog]`, used once, inside photon-metrics).
pub(super) struct Families {
    pub(super) catalog: bool,
    pub(super) declarations: Vec<Declaration>,
}

pub(super) struct Declaration {
    pub(super) docs: Vec<String>,
    pub(super) family_attr: Attribute,
    pub(super) other_attrs: Vec<Attribute>,
    pub(super) vis: Visibility,
    pub(super) ident: Ident,
    pub(super) kind: Ident,
    pub(super) labels: Type,
}

impl Parse for Families {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut catalog = false;
        for attr in input.call(Attribute::parse_inner)? {
            if !attr.path().is_ident("catalog") || !matches!(attr.meta, syn::Meta::Path(_)) {
                return Err(Error::new_spanned(
                    attr,
                    "the only inner attribute is `#![catalog]`, which photon's own catalog uses",
                ));
            }
            // The catalog's families register first and reserve their names:
            // one crate's privilege, or two catalogs would interleave.
            if std::env::var("CARGO_CRATE_NAME").as_deref() != Ok("photon_metrics") {
                return Err(Error::new_spanned(
                    attr,
                    "`#![catalog]` is photon-metrics' own catalog; an application's families need no marker",
                ));
            }
            catalog = true;
        }
        let mut declarations = Vec::new();
        while !input.is_empty() {
            declarations.push(input.parse()?);
        }
        Ok(Families {
            catalog,
            declarations,
        })
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
pub(super) fn split_type(ty: &Type) -> Result<(Ident, Type)> {
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

/// A histogram's bucket bounds as written: a list of numbers (checked
/// here) or the path of a `const` slice (checked by a `const` assertion).
pub(super) enum Bounds {
    List(Vec<(f64, Span)>),
    Path(syn::ExprPath),
}

/// What `#[family(…)]` says.
pub(super) struct Options {
    pub(super) name: LitStr,
    pub(super) unit: Option<Ident>,
    pub(super) buckets: Option<(Ident, Bounds)>,
    pub(super) subsystem: Option<Ident>,
    pub(super) merge: Option<Ident>,
    pub(super) native: Option<(Ident, i64, u64)>,
    pub(super) query: Option<LitStr>,
}

pub(super) fn options(attr: &Attribute) -> Result<Options> {
    let mut name = None;
    let mut unit = None;
    let mut buckets = None;
    let mut native = None;
    let mut query = None;
    let mut subsystem = None;
    let mut merge = None;
    attr.parse_nested_meta(|meta| {
        let key =
            meta.path.get_ident().cloned().ok_or_else(|| {
                meta.error("expected `name`, `unit`, `buckets`, `native`, `query`, `subsystem` or `merge`")
            })?;
        match key.to_string().as_str() {
            "name" => name = Some(meta.value()?.parse::<LitStr>()?),
            "unit" => unit = Some(meta.value()?.parse::<Ident>()?),
            "query" => query = Some(meta.value()?.parse::<LitStr>()?),
            "subsystem" => subsystem = Some(meta.value()?.parse::<Ident>()?),
            "merge" => merge = Some(meta.value()?.parse::<Ident>()?),
            "buckets" => {
                let bounds = match meta.value()?.parse::<Expr>()? {
                    Expr::Array(list) => {
                        let mut values = Vec::new();
                        for e in &list.elems {
                            values.push((number(e)?, e.span()));
                        }
                        Bounds::List(values)
                    }
                    Expr::Path(path) => Bounds::Path(path),
                    other => {
                        return Err(Error::new_spanned(
                            other,
                            "buckets are a list of numbers, `[0.1, 1.0, 10.0]`, or a `const` slice's path",
                        ))
                    }
                };
                buckets = Some((key, bounds));
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
                    "unknown option; expected `name`, `unit`, `buckets`, `native`, `query`, `subsystem` or `merge`",
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
        subsystem,
        merge,
    })
}

/// A numeric literal, possibly negated, as `f64`.
pub(super) fn number(e: &Expr) -> Result<f64> {
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
