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
    let name_lit = o.name.clone().ok_or_else(|| {
        Error::new(
            ident.span(),
            "a label type needs `#[label(name = \"…\")]`: its exported name",
        )
    })?;
    let name = name_lit.value();
    if !valid_label_name(&name) {
        return Err(Error::new_spanned(
            &name_lit,
            "not a label name: use ASCII letters, digits and `_`, not starting with a digit or `__`, and not `le` or `quantile`",
        ));
    }
    match &input.data {
        syn::Data::Enum(data) => {
            let mut values = Vec::new();
            let mut arms = Vec::new();
            for (slot, variant) in data.variants.iter().enumerate() {
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
                if values.contains(&text) {
                    return Err(Error::new(
                        span,
                        format!("value `{text}` is taken by an earlier variant"),
                    ));
                }
                values.push(text);
                let v = &variant.ident;
                arms.push(quote!(#ident::#v => #slot));
            }
            if values.is_empty() {
                return Err(Error::new(
                    ident.span(),
                    "a closed label needs at least one variant",
                ));
            }
            Ok(quote! {
                impl ::photon_metrics::labels::ClosedLabel for #ident {
                    const NAME: &'static str = #name;
                    const VALUES: &'static [&'static str] = &[#(#values),*];
                    #[inline(always)]
                    fn slot(self) -> usize {
                        match self { #(#arms,)* }
                    }
                }
                impl ::photon_metrics::labels::LabelValue for #ident {
                    const NAME: ::photon_metrics::labels::LabelName =
                        ::photon_metrics::labels::LabelName::OwnClosed {
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
                        ::photon_metrics::labels::LabelText::from(
                            <#ident as ::photon_metrics::labels::ClosedLabel>::VALUES
                                [<#ident as ::photon_metrics::labels::ClosedLabel>::slot(self)],
                        )
                    }
                    fn is_live(self) -> bool {
                        true
                    }
                }
            })
        }
        syn::Data::Struct(data) => {
            let one_field = matches!(&data.fields, syn::Fields::Unnamed(f) if f.unnamed.len() == 1);
            if !one_field {
                return Err(Error::new(
                    ident.span(),
                    "an open label is a newtype around its handle: `struct Name(photon_metrics::labels::OpenValue);`",
                ));
            }
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
            let vis = &input.vis;
            let not_catalog = quote_spanned!(name_lit.span()=>
                const _: () = ::core::assert!(
                    !::photon_metrics::__private::is_catalog_open_label(#name),
                    "this is a catalog open label's name; an application open label needs its own"
                );
            );
            Ok(quote! {
                #not_catalog
                const _: () = {
                    static DEF: ::photon_metrics::labels::OpenDef =
                        ::photon_metrics::labels::OpenDef::new(#name, #cap, #expiry);
                    impl #ident {
                        /// This label, for the functions of `photon_metrics::labels` that take one.
                        #vis const LABEL: ::photon_metrics::labels::OpenLabel =
                            ::photon_metrics::labels::OpenLabel::Own(&DEF);
                        /// The value every new value maps to once the label is at its cap.
                        #vis const OVERFLOW: #ident = #ident(::photon_metrics::labels::OpenValue::OVERFLOW);

                        /// Validates and interns `value` (at most 128 bytes, not empty);
                        /// past the cap it is the overflow value.
                        #vis fn new(value: &str) -> ::core::result::Result<Self, ::photon_metrics::labels::LabelError> {
                            ::photon_metrics::labels::OpenValue::intern(Self::LABEL, value).map(#ident)
                        }

                        /// The value as exported (`__retired__` once retired), read
                        /// for as long as the returned text is held.
                        #vis fn as_str(&self) -> ::photon_metrics::labels::LabelText {
                            self.0.text(Self::LABEL).unwrap_or(
                                ::photon_metrics::labels::LabelText::from(
                                    ::photon_metrics::labels::RETIRED_VALUE,
                                ),
                            )
                        }

                        /// Whether the value is still live (not retired).
                        #vis fn is_live(&self) -> bool {
                            self.0.is_live(Self::LABEL)
                        }

                        /// The value as one `u32` (slot and generation): what
                        /// `photon_metrics::families::Dynamic` and the C ABI take.
                        #vis fn to_raw(self) -> u32 {
                            self.0.to_raw()
                        }

                        /// A value from [`to_raw`](Self::to_raw); `None` for a raw
                        /// value this label never handed out.
                        #vis fn from_raw(raw: u32) -> ::core::option::Option<Self> {
                            ::photon_metrics::labels::OpenValue::from_raw(Self::LABEL, raw).map(#ident)
                        }

                        /// Whether this is the overflow value.
                        #vis fn is_overflow(&self) -> bool {
                            self.0 == ::photon_metrics::labels::OpenValue::OVERFLOW
                        }

                        /// Removes every series carrying this value, in every family,
                        /// and gives its slot back to the cap; `false` if it was
                        /// retired already (or is the overflow value).
                        #vis fn retire(self) -> bool {
                            ::photon_metrics::__private::retire(Self::LABEL, self.0.to_raw())
                        }
                    }
                    impl ::photon_metrics::labels::LabelValue for #ident {
                        const NAME: ::photon_metrics::labels::LabelName =
                            ::photon_metrics::labels::LabelName::OwnOpen { name: #name, def: &DEF };
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
                };
            })
        }
        syn::Data::Union(_) => Err(Error::new(
            ident.span(),
            "a label type is an enum (closed) or a newtype (open)",
        )),
    }
}
