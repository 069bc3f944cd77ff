//! The code a checked declaration becomes: its `static`, its registration
//! at link time, and the `const` checks that need the label types.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use super::ast::Declaration;
use super::valid::Checked;

/// The expansion of one checked declaration.
pub(super) fn expand(c: Checked) -> TokenStream {
    let Checked {
        declaration:
            Declaration {
                other_attrs,
                vis,
                ident,
                kind: kind_ident,
                labels,
                ..
            },
        name,
        name_token,
        help,
        unit_variant,
        buckets,
        native,
        query,
    } = c;
    let kind = kind_ident.to_string();
    let buckets = match buckets {
        Some(values) => quote!(::core::option::Option::Some(&[#(#values as f64),*])),
        None => quote!(::core::option::Option::None),
    };
    let native = match native {
        Some((schema, max)) => {
            quote!(::core::option::Option::Some(::photon_metrics::catalog::NativeBuckets {
                schema: #schema,
                zero_threshold: ::photon_metrics::catalog::LATENCY_NATIVE_BUCKETS.zero_threshold,
                max_buckets: #max,
            }))
        }
        None => quote!(::core::option::Option::None),
    };
    let kind_variant = Ident::new(&kind, kind_ident.span());
    let unit_variant = Ident::new(unit_variant, Span::call_site());
    let ty = quote_spanned!(kind_ident.span()=> ::photon_metrics::families::#kind_ident<#labels>);
    let names =
        quote_spanned!(labels.span()=> <#labels as ::photon_metrics::labels::LabelSet>::NAMES);
    let new = quote_spanned!(labels.span()=> <#ty>::__new);
    let no_clash = quote_spanned!(name_token.span()=>
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
    quote! {
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
    }
}
