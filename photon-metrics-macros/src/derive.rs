//! `#[derive(ModelInfo)]` and `#[derive(ErrorClass)]`.
//!
//! Validation (which field plays which role, attribute syntax) runs before
//! any code is generated, so expansion can assume well-formed input.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Member};

const ROLES: [&str; 3] = ["id", "model_type", "parameters"];

/// `#[derive(ModelInfo)]`: one field each marked `#[model(id)]`,
/// `#[model(model_type)]` and `#[model(parameters)]`.
pub fn model_info(input: DeriveInput) -> syn::Result<TokenStream> {
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span(),
                "#[derive(ModelInfo)] needs a struct whose fields are marked #[model(id)], #[model(model_type)] and #[model(parameters)]",
            ))
        }
        Data::Union(u) => {
            return Err(syn::Error::new(u.union_token.span(), "#[derive(ModelInfo)] does not support unions"))
        }
    };
    let mut roles: [Option<(Member, Span)>; 3] = [None, None, None];
    for (index, field) in fields.iter().enumerate() {
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("model")) {
            let role: Ident = attr.parse_args().map_err(|_| {
                syn::Error::new_spanned(
                    attr,
                    "expected #[model(id)], #[model(model_type)] or #[model(parameters)]",
                )
            })?;
            let Some(slot) = ROLES.iter().position(|r| role == r) else {
                return Err(syn::Error::new(
                    role.span(),
                    format!(
                        "unknown model role `{role}`; expected one of: {}",
                        ROLES.join(", ")
                    ),
                ));
            };
            if roles[slot].is_some() {
                return Err(syn::Error::new(
                    role.span(),
                    format!("more than one field is marked #[model({role})]"),
                ));
            }
            let member = match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(index.into()),
            };
            roles[slot] = Some((member, field.ty.span()));
        }
    }
    let mut found = Vec::new();
    for (slot, role) in roles.into_iter().enumerate() {
        match role {
            Some(r) => found.push(r),
            None => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    format!(
                        "#[derive(ModelInfo)] needs a field marked #[model({})]",
                        ROLES[slot]
                    ),
                ))
            }
        }
    }
    let [(id, id_span), (kind, kind_span), (params, params_span)] =
        <[(Member, Span); 3]>::try_from(found)
            .map_err(|_| syn::Error::new(Span::call_site(), "internal"))?;
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let p = quote!(::photon_metrics::__private);
    let id_expr = quote_spanned!(id_span=> &self.#id);
    let kind_expr = quote_spanned!(kind_span=> #p::ToModelType::to_model_type(&self.#kind));
    let params_expr = quote_spanned!(params_span=> #p::ToParameters::to_parameters(&self.#params));
    Ok(quote! {
        impl #impl_generics ::photon_metrics::ModelInfo for #name #ty_generics #where_clause {
            fn model_type(&self) -> ::photon_metrics::labels::ModelType {
                #kind_expr
            }
            fn model_id(&self) -> &dyn ::core::fmt::Display {
                #id_expr
            }
            fn parameters(&self) -> u64 {
                #params_expr
            }
        }
    })
}

/// `#[derive(ErrorClass)]`: an enum's variant names (or `#[error_kind(rename = "…")]`)
/// become `error_kind` values; a struct is one kind, its name.
pub fn error_class(input: DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let mut arms = Vec::new();
    let mut kinds: Vec<LitStr> = Vec::new();
    match &input.data {
        Data::Enum(data) => {
            for variant in &data.variants {
                let kind = kind_name(&variant.attrs, &variant.ident)?;
                let ident = &variant.ident;
                let index = kinds.len();
                arms.push(quote!(Self::#ident { .. } => #index));
                kinds.push(kind);
            }
        }
        Data::Struct(s) => {
            reject_attr_on_fields(&s.fields)?;
            if !input.attrs.iter().any(|a| a.path().is_ident("error_kind")) {
                return Err(syn::Error::new(
                    name.span(),
                    format!(
                        "#[derive(ErrorClass)] on a struct needs the kind it stands for: add #[error_kind(rename = \"…\")] to `{name}` (its type name is not used as a label value)"
                    ),
                ));
            }
            kinds.push(kind_name(&input.attrs, name)?);
            arms.push(quote!(_ => 0usize));
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "#[derive(ErrorClass)] does not support unions",
            ))
        }
    }
    let count = kinds.len();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let p = quote!(::photon_metrics::__private);
    let body = if count == 0 {
        // An empty enum has no values: `match *self {}` proves it.
        quote!(match *self {})
    } else {
        quote! {
            // Interned once per variant; afterwards a load from a static.
            static __PHOTON_KINDS: [#p::OnceLock<::photon_metrics::labels::ErrorKind>; #count] =
                [const { #p::OnceLock::new() }; #count];
            const __PHOTON_NAMES: [&str; #count] = [#(#kinds),*];
            #[allow(unreachable_patterns)]
            let __photon_index: usize = match self { #(#arms,)* };
            *__PHOTON_KINDS[__photon_index].get_or_init(|| #p::error_kind_named(__PHOTON_NAMES[__photon_index]))
        }
    };
    Ok(quote! {
        impl #impl_generics ::photon_metrics::ErrorClass for #name #ty_generics #where_clause {
            fn error_kind(&self) -> ::photon_metrics::labels::ErrorKind {
                #body
            }
        }
    })
}

fn reject_attr_on_fields(fields: &Fields) -> syn::Result<()> {
    for field in fields {
        if let Some(attr) = field.attrs.iter().find(|a| a.path().is_ident("error_kind")) {
            return Err(syn::Error::new_spanned(
                attr,
                "#[error_kind] goes on enum variants or on the struct itself",
            ));
        }
    }
    Ok(())
}

/// The kind for a variant: `#[error_kind(rename = "…")]` or its name.
fn kind_name(attrs: &[syn::Attribute], ident: &Ident) -> syn::Result<LitStr> {
    let mut rename: Option<LitStr> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("error_kind")) {
        attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("rename") {
                return Err(meta.error("unknown error_kind option; expected `rename = \"…\"`"));
            }
            if rename.is_some() {
                return Err(meta.error("duplicate `rename`"));
            }
            let lit: LitStr = meta.value()?.parse()?;
            let value = lit.value();
            if value.is_empty() || value.len() > 128 {
                return Err(syn::Error::new(
                    lit.span(),
                    "an error kind must be 1 to 128 bytes long",
                ));
            }
            rename = Some(lit);
            Ok(())
        })?;
    }
    Ok(rename.unwrap_or_else(|| LitStr::new(&ident.to_string(), ident.span())))
}
