//! `derive(Label)`: an application's label types, closed (an enum) or
//! open (a newtype around `OpenValue`), checked at the user's tokens.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{Attribute, Error, Ident, LitStr, Result};

use crate::limits::{valid_label_name, MAX_CAP, MAX_VALUE_LEN};

/// `#[label(…)]` on the type or a variant.
#[derive(Default)]
struct LabelOptions {
    name: Option<LitStr>,
    cap: Option<syn::LitInt>,
    idle_expiry_secs: Option<syn::LitInt>,
    value: Option<LitStr>,
}

fn label_options(attrs: &[Attribute], allowed: &[&str]) -> Result<LabelOptions> {
    let mut o = LabelOptions::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            if !allowed.contains(&key.as_str()) {
                return Err(meta.error(format!(
                    "expected {}",
                    allowed
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            match key.as_str() {
                "name" => o.name = Some(meta.value()?.parse()?),
                "cap" => o.cap = Some(meta.value()?.parse()?),
                "idle_expiry_secs" => o.idle_expiry_secs = Some(meta.value()?.parse()?),
                _ => o.value = Some(meta.value()?.parse()?),
            }
            Ok(())
        })?;
    }
    Ok(o)
}

/// `CamelCase` as `snake_case`.
fn snake(ident: &str) -> String {
    let mut out = String::new();
    for (i, c) in ident.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn label(input: syn::DeriveInput) -> Result<TokenStream> {
    let ident = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(Error::new_spanned(
            &input.generics,
            "a label type has no generic parameters",
        ));
    }
    let is_enum = matches!(input.data, syn::Data::Enum(_));
    let allowed: &[&str] = if is_enum {
        &["name"]
    } else {
        &["name", "cap", "idle_expiry_secs"]
    };
    let o = label_options(&input.attrs, allowed)?;
    let name_lit = label_name(ident, &o)?;
    match &input.data {
        syn::Data::Enum(data) => closed(ident, &name_lit, data),
        syn::Data::Struct(data) => open(&input, &name_lit, &o, data),
        syn::Data::Union(_) => Err(Error::new(
            ident.span(),
            "a label type is an enum (closed) or a newtype (open)",
        )),
    }
}

/// The label's exported name, checked.
fn label_name(ident: &Ident, o: &LabelOptions) -> Result<LitStr> {
    let name_lit = o.name.clone().ok_or_else(|| {
        Error::new(
            ident.span(),
            "a label type needs `#[label(name = \"…\")]`: its exported name",
        )
    })?;
    if !valid_label_name(&name_lit.value()) {
        return Err(Error::new_spanned(
            &name_lit,
            "not a label name: use ASCII letters, digits and `_`, not starting with a digit or `__`, and not `le` or `quantile`",
        ));
    }
    Ok(name_lit)
}

/// A closed label's values, in variant order, each checked at its token.
fn closed_values(ident: &Ident, data: &syn::DataEnum) -> Result<Vec<(Ident, String)>> {
    let mut values: Vec<(Ident, String)> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            return Err(Error::new_spanned(
                variant,
                "a closed label's variants have no fields",
            ));
        }
        let vo = label_options(&variant.attrs, &["value"])?;
        let text = vo
            .value
            .as_ref()
            .map_or_else(|| snake(&variant.ident.to_string()), LitStr::value);
        let span = vo.value.as_ref().map_or(variant.ident.span(), LitStr::span);
        if text.is_empty() || text.len() > MAX_VALUE_LEN {
            return Err(Error::new(
                span,
                format!("a label value is 1 to {MAX_VALUE_LEN} bytes"),
            ));
        }
        if values.iter().any(|(_, v)| *v == text) {
            return Err(Error::new(
                span,
                format!("value `{text}` is taken by an earlier variant"),
            ));
        }
        values.push((variant.ident.clone(), text));
    }
    if values.is_empty() {
        return Err(Error::new(
            ident.span(),
            "a closed label needs at least one variant",
        ));
    }
    Ok(values)
}

/// A closed label: an enum, one slot per variant.
fn closed(ident: &Ident, name: &LitStr, data: &syn::DataEnum) -> Result<TokenStream> {
    let values = closed_values(ident, data)?;
    let variants: Vec<&Ident> = values.iter().map(|(v, _)| v).collect();
    let texts: Vec<&String> = values.iter().map(|(_, t)| t).collect();
    let slots = 0..values.len();
    Ok(quote! {
        impl #ident {
            /// Every value, in slot order.
            pub const ALL: &'static [#ident] = &[#(#ident::#variants),*];

            /// The value as exported.
            pub const fn as_str(self) -> &'static str {
                match self { #(#ident::#variants => #texts,)* }
            }
        }
        impl ::photon_metrics::labels::ClosedLabel for #ident {
            const NAME: &'static str = #name;
            const VALUES: &'static [&'static str] = &[#(#texts),*];
            #[inline(always)]
            fn slot(self) -> usize {
                match self { #(#ident::#variants => #slots,)* }
            }
        }
        impl ::photon_metrics::labels::LabelValue for #ident {
            const NAME: ::photon_metrics::labels::LabelName =
                ::photon_metrics::labels::LabelName::Closed {
                    name: #name,
                    values: <#ident as ::photon_metrics::labels::ClosedLabel>::VALUES,
                };
            #[inline(always)]
            fn slot(self) -> usize {
                <#ident as ::photon_metrics::labels::ClosedLabel>::slot(self)
            }
            #[inline(always)]
            fn generation(self) -> u32 {
                0
            }
            fn text(self) -> ::photon_metrics::labels::LabelText {
                ::photon_metrics::labels::LabelText::from(#ident::as_str(self))
            }
            fn is_live(self) -> bool {
                true
            }
        }
        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#ident::as_str(*self))
            }
        }
        impl ::core::str::FromStr for #ident {
            type Err = ::photon_metrics::labels::LabelError;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                #ident::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ::photon_metrics::labels::LabelError::UnknownVariant {
                        label: #name,
                        value: ::std::string::ToString::to_string(s),
                        expected: <#ident as ::photon_metrics::labels::ClosedLabel>::VALUES.join(", "),
                    })
            }
        }
    })
}

/// An open label's cap and idle expiry (0: none), checked at their tokens.
fn open_limits(o: &LabelOptions) -> Result<(usize, u64)> {
    let cap = match &o.cap {
        Some(lit) => {
            let cap = lit.base10_parse::<u64>()?;
            if cap == 0 || cap > MAX_CAP {
                return Err(Error::new_spanned(
                    lit,
                    format!("a cap is 1 to {MAX_CAP} values"),
                ));
            }
            cap as usize
        }
        None => 64,
    };
    let expiry = match &o.idle_expiry_secs {
        Some(lit) => lit.base10_parse::<u64>()?,
        None => 0,
    };
    Ok((cap, expiry))
}

/// An open label: a newtype around `OpenValue`, interned under its cap.
fn open(
    input: &syn::DeriveInput,
    name: &LitStr,
    o: &LabelOptions,
    data: &syn::DataStruct,
) -> Result<TokenStream> {
    let ident = &input.ident;
    let one_field = matches!(&data.fields, syn::Fields::Unnamed(f) if f.unnamed.len() == 1);
    if !one_field {
        return Err(Error::new(
            ident.span(),
            "an open label is a newtype around its handle: `struct Name(photon_metrics::labels::OpenValue);`",
        ));
    }
    let (cap, expiry) = open_limits(o)?;
    let vis = &input.vis;
    // The catalog's own labels are the ones an application may not name again.
    let not_catalog = if std::env::var("CARGO_CRATE_NAME").as_deref() == Ok("photon_metrics") {
        TokenStream::new()
    } else {
        quote_spanned!(name.span()=>
            const _: () = ::core::assert!(
                !::photon_metrics::__private::is_catalog_open_label(#name),
                "this is a catalog open label's name; an application open label needs its own"
            );
        )
    };
    let methods = open_methods(ident, vis);
    let traits = open_traits(ident, name);
    Ok(quote! {
        #not_catalog
        const _: () = {
            static DEF: ::photon_metrics::labels::OpenDef =
                ::photon_metrics::labels::OpenDef::new(#name, #cap, #expiry);
            impl #ident {
                /// This label, for the functions of `photon_metrics::labels` that take one.
                #vis const LABEL: ::photon_metrics::labels::OpenLabel =
                    ::photon_metrics::labels::OpenLabel::new(&DEF);
            }
            #methods
            #traits
        };
    })
}

/// An open label type's inherent methods.
fn open_methods(ident: &Ident, vis: &syn::Visibility) -> TokenStream {
    quote! {
        impl #ident {
            /// The value every new value maps to once the label is at its cap.
            #vis const OVERFLOW: #ident = #ident(::photon_metrics::labels::OpenValue::OVERFLOW);

            /// Validates and interns `value` (not empty, at most 128 bytes; any
            /// other UTF-8 is kept exactly), once: the result is `Copy` and
            /// records without hashing. Past the label's cap it is
            /// [`OVERFLOW`](Self::OVERFLOW), which is not an error.
            #vis fn new(value: &str) -> ::core::result::Result<Self, ::photon_metrics::labels::LabelError> {
                ::photon_metrics::labels::OpenValue::intern(Self::LABEL, value).map(#ident)
            }

            /// The value as exported, or `__retired__` once this value was
            /// retired: a `LabelText`, which reads as a `str` for as long
            /// as it is held (a retired value's text is freed once nothing
            /// holds it).
            #vis fn as_str(&self) -> ::photon_metrics::labels::LabelText {
                self.0.text(Self::LABEL).unwrap_or(
                    ::photon_metrics::labels::LabelText::from(
                        ::photon_metrics::labels::RETIRED_VALUE,
                    ),
                )
            }

            /// Whether this value is still live: interned and not retired.
            #vis fn is_live(&self) -> bool {
                self.0.is_live(Self::LABEL)
            }

            /// The value's handle as a small integer (its slot and the
            /// slot's generation; 0 is [`OVERFLOW`](Self::OVERFLOW)), stable
            /// for the life of this value in this process: what
            /// `photon_metrics::families::Dynamic` and the C ABI take. It
            /// means nothing in another process.
            #vis const fn to_raw(self) -> u32 {
                self.0.to_raw()
            }

            /// The value whose [`to_raw`](Self::to_raw) is `raw`, or `None`
            /// when no value of this label was ever interned at its slot. A
            /// raw handle of a retired value is returned as it was: records
            /// through it are dropped as stale.
            #vis fn from_raw(raw: u32) -> ::core::option::Option<Self> {
                ::photon_metrics::labels::OpenValue::from_raw(Self::LABEL, raw).map(#ident)
            }

            /// Whether this is the overflow value.
            #vis const fn is_overflow(&self) -> bool {
                self.0.to_raw() == 0
            }

            /// Retires this value: every series carrying it, in every
            /// family, is removed at once (the next scrape shows their
            /// final values once more, then they are gone), and its slot
            /// goes back to the label's cap for a new value after
            /// `photon_metrics::labels::set_reuse_delay`. Copies made
            /// before record nothing from then on (counted in
            /// `photon_metrics_stale_records_total{label}`) and read as
            /// `__retired__`. `false` when there was nothing to retire:
            /// retired already, or the overflow value (never retired).
            #vis fn retire(self) -> bool {
                self.0.retire(Self::LABEL)
            }
        }
    }
}

/// The traits an open label type gets: `LabelValue` and text conversions.
fn open_traits(ident: &Ident, name: &LitStr) -> TokenStream {
    quote! {
        impl ::photon_metrics::labels::LabelValue for #ident {
            const NAME: ::photon_metrics::labels::LabelName =
                ::photon_metrics::labels::LabelName::Open { name: #name, def: #ident::LABEL.def() };
            #[inline(always)]
            fn slot(self) -> usize {
                self.0.slot()
            }
            #[inline(always)]
            fn generation(self) -> u32 {
                self.0.generation()
            }
            fn text(self) -> ::photon_metrics::labels::LabelText {
                self.as_str()
            }
            fn is_live(self) -> bool {
                #ident::is_live(&self)
            }
        }
        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(&self.as_str())
            }
        }
        impl ::core::str::FromStr for #ident {
            type Err = ::photon_metrics::labels::LabelError;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                #ident::new(s)
            }
        }
        impl ::core::convert::TryFrom<&str> for #ident {
            type Error = ::photon_metrics::labels::LabelError;
            fn try_from(s: &str) -> ::core::result::Result<Self, Self::Error> {
                #ident::new(s)
            }
        }
    }
}
