//! `family!`: an application's own families. Everything a token can get
//! wrong is checked at compile time with the error at that token, in three
//! passes as in thiserror: [`ast`] parses the declaration, [`valid`] checks
//! it, [`expand`] writes its code. What needs the label types' names (two
//! labels of one name, a clash with a catalog name) is a `const` check in
//! the core crate, spanned at the user's type.

mod ast;
mod expand;
mod valid;

use proc_macro2::TokenStream;
use syn::Result;

/// `family! { … }`: every declaration checked, then expanded. Photon's
/// catalog is the one invocation marked `#![catalog]`: its families
/// register first, in the order written, and its names (listed in the
/// `NAMES` constant the invocation adds, beside its labels in `LABELS`) are refused to every other
/// declaration at compile time.
pub(crate) fn family(input: TokenStream) -> Result<TokenStream> {
    let ast::Families {
        catalog,
        declarations,
    } = syn::parse2(input)?;
    let mut out = TokenStream::new();
    let mut names = Vec::new();
    let mut label_sets = Vec::new();
    for (position, d) in declarations.into_iter().enumerate() {
        let checked = valid::check(d)?;
        names.push(checked.name.clone());
        label_sets.push(checked.declaration.labels.clone());
        let place = catalog.then_some(position);
        out.extend(expand::expand(checked, place));
    }
    if catalog {
        out.extend(quote::quote! {
            /// The catalog's family names, in catalog order, for `const` checks.
            pub(crate) const NAMES: &[&str] = &[#(#names),*];
            /// The catalog's families' labels, in catalog order, for `const` checks.
            pub(crate) const LABELS: &[&[::photon_metrics::labels::LabelName]] =
                &[#(<#label_sets as ::photon_metrics::labels::LabelSet>::NAMES),*];
        });
    }
    Ok(out)
}
