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

/// `family! { … }`: every declaration checked, then expanded.
pub(crate) fn family(input: TokenStream) -> Result<TokenStream> {
    let ast::Families(declarations) = syn::parse2(input)?;
    let mut out = TokenStream::new();
    for d in declarations {
        out.extend(expand::expand(valid::check(d)?));
    }
    Ok(out)
}
