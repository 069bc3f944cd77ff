//! The code a checked declaration becomes: its `static`, its registration
//! at link time, and the `const` checks that need the label types.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Ident;

use super::ast::Declaration;
use super::valid::{Buckets, Checked};

/// The expansion of one checked declaration; `place` is its position in
/// the catalog, for the catalog's own declarations.
pub(super) fn expand(c: Checked, place: Option<usize>) -> TokenStream {
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
        subsystem,
        merge,
    } = c;
    let kind = kind_ident.to_string();
    let mut bounds_check = TokenStream::new();
    let buckets = match buckets {
        Some(Buckets::List(values)) => {
            quote!(::core::option::Option::Some(&[#(#values as f64),*]))
        }
        Some(Buckets::Path(path)) => {
            bounds_check = quote_spanned!(path.span()=>
                const _: () = ::core::assert!(
                    ::photon_metrics::__private::valid_buckets(#path),
                    "bucket bounds are finite and increase strictly, at least one"
                );
            );
            quote!(::core::option::Option::Some(#path))
        }
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
    let subsystem = Ident::new(subsystem, Span::call_site());
    let merge = Ident::new(merge, Span::call_site());
    let ty = quote_spanned!(kind_ident.span()=> ::photon_metrics::families::#kind_ident<#labels>);
    let names =
        quote_spanned!(labels.span()=> <#labels as ::photon_metrics::labels::LabelSet>::NAMES);
    let new = quote_spanned!(labels.span()=> <#ty>::__new);
    // The catalog's own names are the ones reserved.
    let no_clash = match place {
        Some(_) => TokenStream::new(),
        None => quote_spanned!(name_token.span()=>
            const _: () = ::core::assert!(
                !::photon_metrics::catalog::is_catalog_name(#name),
                "this name is a catalog family's, or one of its series' names"
            );
        ),
    };
    let place = match place {
        Some(p) => {
            let p = p as u16;
            quote!(::core::option::Option::Some(#p))
        }
        None => quote!(::core::option::Option::None),
    };
    let distinct = quote_spanned!(labels.span()=>
        const _: () = ::core::assert!(
            !::photon_metrics::__private::has_duplicate_label(#names),
            "two labels of this family have the same name"
        );
    );
    quote! {
        #no_clash
        #distinct
        #bounds_check
        ::photon_metrics::__private::inventory::submit! {
            ::photon_metrics::__private::Declared::new(#name, #place, || #ident.spec())
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
            subsystem: ::photon_metrics::catalog::Subsystem::#subsystem,
            merge: ::photon_metrics::catalog::Merge::#merge,
            example_query: #query,
        });
    }
}
