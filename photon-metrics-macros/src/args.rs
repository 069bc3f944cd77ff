//! Attribute arguments parsed into one typed struct per attribute.
//! Unknown or duplicate keys are `syn::Error`s spanned at the offending token.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

/// Which attribute is being parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Compile,
    Inference,
}

impl Flavor {
    pub fn attr(self) -> &'static str {
        match self {
            Flavor::Compile => "instrument_compile",
            Flavor::Inference => "instrument_inference",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Flavor::Compile => &["target", "model", "name", "level", "fields"],
            Flavor::Inference => &["device", "ops", "name", "level", "fields"],
        }
    }
}

/// Everything an instrument attribute says.
pub struct InstrumentArgs {
    pub flavor: Flavor,
    pub target: Option<Expr>,
    pub model: Option<Expr>,
    pub device: Option<Expr>,
    pub ops: Option<Expr>,
    pub name: Option<LitStr>,
    pub level: TokenStream,
    pub fields: Option<TokenStream>,
}

enum Arg {
    KeyValue(Ident, Expr),
    Fields(Ident, TokenStream),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        if key == "fields" && input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            return Ok(Arg::Fields(key, content.parse()?));
        }
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                format!("expected `{key} = <expression>`"),
            ));
        }
        input.parse::<Token![=]>()?;
        Ok(Arg::KeyValue(key, input.parse()?))
    }
}

fn level_tokens(lit: &LitStr) -> syn::Result<TokenStream> {
    let level = match lit.value().to_ascii_lowercase().as_str() {
        "trace" => quote!(TRACE),
        "debug" => quote!(DEBUG),
        "info" => quote!(INFO),
        "warn" => quote!(WARN),
        "error" => quote!(ERROR),
        _ => return Err(syn::Error::new(
            lit.span(),
            "unknown level; expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"",
        )),
    };
    Ok(quote!(::photon_metrics::__private::tracing::Level::#level))
}

fn lit_str(key: &Ident, expr: Expr) -> syn::Result<LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{key}` takes a string literal, e.g. {key} = \"…\""),
        )),
    }
}

impl InstrumentArgs {
    pub fn parse(flavor: Flavor, tokens: TokenStream) -> syn::Result<Self> {
        let parsed = Punctuated::<Arg, Token![,]>::parse_terminated.parse2(tokens)?;
        let mut args = InstrumentArgs {
            flavor,
            target: None,
            model: None,
            device: None,
            ops: None,
            name: None,
            level: quote!(::photon_metrics::__private::tracing::Level::INFO),
            fields: None,
        };
        let mut seen: Vec<String> = Vec::new();
        for arg in parsed {
            let key = match &arg {
                Arg::KeyValue(key, _) | Arg::Fields(key, _) => key.clone(),
            };
            let name = key.to_string();
            if !flavor.keys().contains(&name.as_str()) {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{name}` for #[{}]; expected one of: {}",
                        flavor.attr(),
                        flavor.keys().join(", ")
                    ),
                ));
            }
            if seen.contains(&name) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate argument `{name}`"),
                ));
            }
            seen.push(name.clone());
            match arg {
                Arg::Fields(_, tokens) => args.fields = Some(tokens),
                Arg::KeyValue(key, expr) => match name.as_str() {
                    "target" => args.target = Some(expr),
                    "model" => args.model = Some(expr),
                    "device" => args.device = Some(expr),
                    "ops" => args.ops = Some(expr),
                    "name" => args.name = Some(lit_str(&key, expr)?),
                    "level" => args.level = level_tokens(&lit_str(&key, expr)?)?,
                    _ => {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("`{name}` takes a list: {name}(field = value, …)"),
                        ))
                    }
                },
            }
        }
        args.require()?;
        Ok(args)
    }

    /// Missing required labels are errors at the attribute that say how to
    /// provide them.
    fn require(&self) -> syn::Result<()> {
        let missing = |key: &str, what: &str, example: &str| {
            Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "#[{}] is missing `{key}`: {what}; for example #[{}({example})]",
                    self.flavor.attr(),
                    self.flavor.attr()
                ),
            ))
        };
        match self.flavor {
            Flavor::Compile => {
                if self.target.is_none() {
                    return missing(
                        "target",
                        "the compile target label, an expression of type `photon_metrics::labels::Target`",
                        "target = target, model = model",
                    );
                }
                if self.model.is_none() {
                    return missing(
                        "model",
                        "an expression whose type implements `photon_metrics::ModelInfo` (derive it with #[derive(ModelInfo)])",
                        "target = target, model = model",
                    );
                }
            }
            Flavor::Inference => {
                if self.device.is_none() {
                    return missing(
                        "device",
                        "the device type label, an expression of type `photon_metrics::labels::DeviceType`",
                        "device = DeviceType::Mzi",
                    );
                }
            }
        }
        Ok(())
    }
}
