//! Code generation for `#[instrument_compile]` and `#[instrument_inference]`.
//!
//! The shape, for every flavour of function:
//! 1. evaluate the label expressions (type-checked through traits whose
//!    `on_unimplemented` message names the argument) and start the drop
//!    guard from the core crate, so no exit path skips the record;
//! 2. open the span only if its level is enabled;
//! 3. run the body — in a closure for sync fns, in an inner `async move`
//!    block instrumented with the span for async fns (so the timer covers
//!    every `.await`, and dropping the future drops the guard: cancelled);
//!    a "fake return edge" typed with the declared return type (with
//!    `impl Trait` and borrowed parts left to inference) keeps `?` and
//!    `return` inferring exactly as in the user's function;
//! 4. classify the result (`Ok`/`Err`/not a `Result`) by autoref
//!    specialisation at this call site, where the concrete type is known.
//!
//! Generated names carry the `__photon_` prefix and every path goes through
//! `::photon_metrics::__private`, so users depend on `photon-metrics` alone.

use crate::args::{Flavor, InstrumentArgs};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Block, Expr, GenericArgument, Item, ItemFn, PathArguments, ReturnType, Stmt, Type,
    TypeParamBound,
};

/// Parses the item, validates it and expands it.
pub fn instrument(
    flavor: Flavor,
    attr: TokenStream,
    item: TokenStream,
) -> syn::Result<TokenStream> {
    let func = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(func)) => func,
        Ok(other) => return Err(not_a_function(flavor, &other)),
        Err(_) => {
            // A method inside an impl or trait parses as a fn as well; a
            // signature without a body does not.
            return match syn::parse2::<ItemFn>(item.clone()) {
                Ok(func) => expand(InstrumentArgs::parse(flavor, attr)?, func),
                // syn's own error says what it could not parse; ours says
                // what the attribute needs.
                Err(parse_error) => {
                    let mut error = syn::Error::new_spanned(
                        &item,
                        format!(
                            "#[{}] can only be applied to a function with a body",
                            flavor.attr()
                        ),
                    );
                    error.combine(parse_error);
                    Err(error)
                }
            };
        }
    };
    if let Some(constness) = &func.sig.constness {
        return Err(syn::Error::new(
            constness.span(),
            format!(
                "#[{}] cannot instrument a `const fn`: recording metrics and timing are not const",
                flavor.attr()
            ),
        ));
    }
    expand(InstrumentArgs::parse(flavor, attr)?, func)
}

fn not_a_function(flavor: Flavor, item: &Item) -> syn::Error {
    let message = format!(
        "#[{}] can only be applied to functions and methods",
        flavor.attr()
    );
    match item {
        Item::Struct(s) => syn::Error::new(s.struct_token.span(), message),
        Item::Enum(e) => syn::Error::new(e.enum_token.span(), message),
        Item::Const(c) => syn::Error::new(c.const_token.span(), message),
        other => syn::Error::new_spanned(other, message),
    }
}

fn expand(args: InstrumentArgs, func: ItemFn) -> syn::Result<TokenStream> {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let (inner_attrs, outer_attrs): (Vec<_>, Vec<_>) = attrs
        .into_iter()
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
    let span_name = args
        .name
        .clone()
        .unwrap_or_else(|| syn::LitStr::new(&sig.ident.to_string(), sig.ident.span()));
    let (prelude, timer) = prelude(&args, &span_name);
    let classify = classify(args.flavor);
    let declared = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };

    let body = if sig.asyncness.is_some() {
        let inner = fake_return_block(&erase(&declared), &block, true);
        async_body(&prelude, &timer, inner, &classify)
    } else if let Some(boxed_async) = async_trait_body(&block, &declared) {
        // `#[async_trait]` already turned `async fn` into a fn returning
        // `Pin<Box<dyn Future<Output = R>>>`: instrument the future inside.
        let wrapped = async_body(&prelude, &timer, boxed_async.to_token_stream(), &classify);
        let pin_path = pin_call_path(&block);
        quote!({ #pin_path(async move #wrapped) })
    } else if let Some((wrap, output)) = returned_future(&declared) {
        let output = output.map_or_else(|| syn::parse_quote!(_), |o| erase(&o));
        future_body(&prelude, &timer, &output, &block, &classify, wrap)
    } else {
        let ret = erase(&declared);
        // The timer starts inside the entered span and is dropped before the
        // span is left, on return and on unwinding alike (it is declared
        // after the guard), so what it records carries the span's trace.
        quote!({
            #prelude
            let __photon_entered = __photon_span.enter();
            #timer
            #[allow(clippy::redundant_closure_call, clippy::let_unit_value)]
            let __photon_result = (move || -> #ret #block)();
            #classify
            ::core::mem::drop(__photon_timer);
            ::core::mem::drop(__photon_entered);
            __photon_result
        })
    };

    let block: Block = syn::parse2(quote!({ #(#inner_attrs)* #body }))?;
    Ok(quote!(#(#outer_attrs)* #vis #sig #block))
}

/// The timer lives inside the instrumented future, so it is dropped inside
/// the span on completion and on cancellation (tracing's `Instrumented`
/// enters the span to drop its future).
fn async_body(
    prelude: &TokenStream,
    timer: &TokenStream,
    inner: TokenStream,
    classify: &TokenStream,
) -> TokenStream {
    quote!({
        #prelude
        let __photon_body = #inner;
        let __photon_outer_span = ::core::clone::Clone::clone(&__photon_span);
        let __photon_timed = async move {
            #timer
            #[allow(clippy::let_unit_value)]
            let __photon_result = __photon_body.await;
            #classify
            ::core::mem::drop(__photon_timer);
            __photon_result
        };
        ::photon_metrics::__private::tracing::Instrument::instrument(
            __photon_timed,
            __photon_outer_span,
        )
        .await
    })
}

/// A sync fn that returns a future: its body runs at the call and builds
/// the future, which is what the record is about. The timer starts at the
/// call (so a panic while building is recorded, and a future dropped before
/// it completes is `cancelled`) and moves into the returned future, which
/// classifies the output when it completes.
fn future_body(
    prelude: &TokenStream,
    timer: &TokenStream,
    output: &Type,
    block: &Block,
    classify: &TokenStream,
    wrap: Wrap,
) -> TokenStream {
    let instrumented = quote! {
        ::photon_metrics::__private::tracing::Instrument::instrument(
            __photon_timed,
            __photon_outer_span,
        )
    };
    // Spanned at the body: a body that returns no future is an error there.
    let build = quote_spanned!(block.span()=>
        ::photon_metrics::__private::build_future::<_, #output>(
            #[allow(clippy::redundant_closure_call)]
            (move || #block)()
        )
    );
    let await_body = quote_spanned!(block.span()=> __photon_body.await);
    let returned = match wrap {
        Wrap::AsIs => instrumented,
        Wrap::BoxPin => quote!(::std::boxed::Box::pin(#instrumented)),
    };
    quote!({
        #prelude
        let __photon_entered = __photon_span.enter();
        #timer
        // The output type goes in first, so `?` in the user's async blocks
        // infers as it does in their function.
        let __photon_body = #build;
        ::core::mem::drop(__photon_entered);
        let __photon_outer_span = ::core::clone::Clone::clone(&__photon_span);
        let __photon_timed = async move {
            #[allow(clippy::let_unit_value)]
            let __photon_result = #await_body;
            #classify
            ::core::mem::drop(__photon_timer);
            __photon_result
        };
        #returned
    })
}

/// How the instrumented future is returned in place of the user's.
#[derive(Clone, Copy)]
enum Wrap {
    /// `impl Future<…>`: the instrumented future itself.
    AsIs,
    /// `Pin<Box<dyn Future<…>>>`, `BoxFuture<…>` or `impl Future + Unpin`:
    /// boxed and pinned (a boxed future is `Unpin`).
    BoxPin,
}

/// Whether the declared return type says, in its syntax, that the function
/// returns a future, and its output type if it names one. A future type
/// named any other way (a named future struct, `JoinHandle`) cannot be seen
/// here; such a function is timed as a sync one.
fn returned_future(declared: &Type) -> Option<(Wrap, Option<Type>)> {
    if let Type::ImplTrait(imp) = declared {
        let traits = || {
            imp.bounds.iter().filter_map(|b| match b {
                TypeParamBound::Trait(t) => t.path.segments.last(),
                _ => None,
            })
        };
        let future = traits().find(|seg| seg.ident == "Future")?;
        let wrap = if traits().any(|seg| seg.ident == "Unpin") {
            Wrap::BoxPin
        } else {
            Wrap::AsIs
        };
        return Some((wrap, output_of_future(future)));
    }
    if let Some(output) = future_output(declared) {
        return Some((Wrap::BoxPin, Some(output)));
    }
    let Type::Path(path) = declared else {
        return None;
    };
    // `futures::future::BoxFuture<'a, T>` and `LocalBoxFuture<'a, T>`.
    let last = path.path.segments.last()?;
    if last.ident != "BoxFuture" && last.ident != "LocalBoxFuture" {
        return None;
    }
    let output = match &last.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(ty) => Some(ty.clone()),
            _ => None,
        }),
        _ => None,
    };
    Some((Wrap::BoxPin, output))
}

/// `R` from the path segment `Future<Output = R>`.
fn output_of_future(seg: &syn::PathSegment) -> Option<Type> {
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
        _ => None,
    })
}

/// `async move { <fake return edge>; <body> }`.
fn fake_return_block(ret: &Type, block: &Block, is_async: bool) -> TokenStream {
    let stmts = &block.stmts;
    let async_kw = is_async.then(|| quote!(async move));
    quote!(#async_kw {
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::let_unit_value,
            clippy::unreachable,
            clippy::let_with_type_underscore,
            clippy::empty_loop,
            clippy::needless_return
        )]
        if false {
            let __photon_fake_return: #ret = loop {};
            return __photon_fake_return;
        }
        #(#stmts)*
    })
}

/// The span and the label evaluation (run first), and the drop guard's
/// start (run inside the span). The span opens before the label expressions
/// run, with the label fields empty, and is entered while they run: what they
/// log (a label reaching its cardinality cap warns) carries the call's trace.
/// Everything the guard needs is evaluated in the first part into `Copy`
/// values, so the second can move into a future.
fn prelude(args: &InstrumentArgs, span_name: &syn::LitStr) -> (TokenStream, TokenStream) {
    let p = quote!(::photon_metrics::__private);
    let empty = quote!(#p::tracing::field::Empty);
    match args.flavor {
        Flavor::Compile => {
            let target = args.target.as_ref().expect("validated");
            let model = args.model.as_ref().expect("validated");
            let span = span(
                args,
                span_name,
                quote! {
                    model_id = #empty,
                    target = #empty,
                    model_type = #empty,
                },
            );
            let target = quote_spanned!(target.span()=> #p::target_arg(&(#target)));
            let model_ref = quote_spanned!(model.span()=> &(#model));
            let model = quote_spanned!(model.span()=> #p::model_arg(__photon_model_ref));
            let labels = quote! {
                #span
                // A block, so the entered guard is gone before any `.await`;
                // only `Copy` values leave it.
                let (__photon_target, __photon_model_type, __photon_parameters) = {
                    let __photon_entered = __photon_span.enter();
                    let __photon_target: ::photon_metrics::labels::Target = #target;
                    // A `let` of its own, so a temporary in the expression
                    // (`model = &model`) lives as long as the borrow.
                    let __photon_model_ref = #model_ref;
                    let __photon_model = #model;
                    let __photon_model_type = #p::ModelInfo::model_type(__photon_model);
                    let __photon_parameters = #p::ModelInfo::parameters(__photon_model);
                    if !__photon_span.is_disabled() {
                        __photon_span.record(
                            "model_id",
                            #p::tracing::field::display(#p::ModelInfo::model_id(__photon_model)),
                        );
                        __photon_span.record("target", #p::tracing::field::display(&__photon_target));
                        __photon_span.record(
                            "model_type",
                            #p::tracing::field::display(&__photon_model_type),
                        );
                    }
                    ::core::mem::drop(__photon_entered);
                    (__photon_target, __photon_model_type, __photon_parameters)
                };
            };
            let timer = quote! {
                #[allow(unused_mut)]
                let mut __photon_timer = #p::start_compilation(
                    __photon_target,
                    __photon_model_type,
                    __photon_parameters,
                );
                __photon_timer.attach_span(&__photon_span);
            };
            (labels, timer)
        }
        Flavor::Inference => {
            let device = args.device.as_ref().expect("validated");
            let span = span(args, span_name, quote!(device_type = #empty,));
            let device = quote_spanned!(device.span()=> #p::device_arg(&(#device)));
            let ops = match &args.ops {
                Some(ops) => quote_spanned!(ops.span()=> #p::ops_arg(&(#ops))),
                None => quote!(1u64),
            };
            let labels = quote! {
                #span
                let (__photon_device, __photon_ops) = {
                    let __photon_entered = __photon_span.enter();
                    let __photon_device: ::photon_metrics::labels::DeviceType = #device;
                    let __photon_ops: u64 = #ops;
                    if !__photon_span.is_disabled() {
                        __photon_span.record("device_type", #p::tracing::field::display(&__photon_device));
                    }
                    ::core::mem::drop(__photon_entered);
                    (__photon_device, __photon_ops)
                };
            };
            let timer = quote! {
                #[allow(unused_mut)]
                let mut __photon_timer = #p::start_inference(__photon_device, __photon_ops);
                __photon_timer.attach_span(&__photon_span);
            };
            (labels, timer)
        }
    }
}

/// `let __photon_span = …;`: the span with the flavour's label fields (empty
/// until the labels are evaluated), the error fields filled in on failure,
/// and the user's opt-in fields; no span at all when its level is disabled.
fn span(args: &InstrumentArgs, span_name: &syn::LitStr, label_fields: TokenStream) -> TokenStream {
    let level = &args.level;
    let fields = args.fields.as_ref().map(|f| quote!(, #f));
    let p = quote!(::photon_metrics::__private);
    quote! {
        let __photon_span = if #p::tracing::level_enabled!(#level) {
            #p::tracing::span!(
                target: ::core::module_path!(),
                #level,
                #span_name,
                #label_fields
                error_kind = #p::tracing::field::Empty,
                otel.status_code = #p::tracing::field::Empty,
                otel.status_description = #p::tracing::field::Empty
                #fields
            )
        } else {
            #p::tracing::Span::none()
        };
    }
}

/// Sets the guard's outcome from `__photon_result`.
fn classify(flavor: Flavor) -> TokenStream {
    let p = quote!(::photon_metrics::__private);
    let success = match flavor {
        Flavor::Compile => {
            quote!(__photon_timer.set_status(::photon_metrics::labels::Status::Success))
        }
        Flavor::Inference => quote!(__photon_timer.succeed()),
    };
    quote! {
        {
            #[allow(unused_imports)]
            use #p::{DescViaDisplay as _, DescViaKind as _, KindViaClass as _, KindViaType as _, ViaOther as _, ViaResult as _};
            match (&__photon_result).__photon_err() {
                ::core::option::Option::None => #success,
                ::core::option::Option::Some(__photon_error) => {
                    let __photon_kind = __photon_error.__photon_kind();
                    __photon_timer.fail(__photon_kind);
                    if !__photon_span.is_disabled() {
                        #p::mark_span_error(&__photon_span, __photon_kind, &__photon_error.__photon_desc());
                    }
                }
            }
        }
    }
}

/// The declared return type with what a closure or `let` cannot name left to
/// inference: `impl Trait` and borrowed types become `_`.
fn erase(ty: &Type) -> Type {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            let opaque = matches!(ty, Type::ImplTrait(_) | Type::Reference(_)) || has_lifetime(ty);
            if opaque {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: Default::default(),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Eraser.visit_type_mut(&mut ty);
    ty
}

/// Whether a path type names a lifetime directly in its own generic arguments.
fn has_lifetime(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.path.segments.iter().any(|seg| match &seg.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .any(|a| matches!(a, GenericArgument::Lifetime(_))),
        _ => false,
    })
}

/// Recognises the body `#[async_trait]` generates — `Box::pin(async move {…})`
/// as the tail of a fn returning `Pin<Box<dyn Future<Output = R> + …>>` — and
/// returns the async block.
fn async_trait_body<'a>(block: &'a Block, declared: &Type) -> Option<&'a syn::ExprAsync> {
    future_output(declared)?;
    // Only that one statement: a hand-written body that does work before
    // `Box::pin(async move {…})` is a sync fn returning a future.
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    if func.path.segments.last()?.ident != "pin" || call.args.len() != 1 {
        return None;
    }
    match call.args.first()? {
        Expr::Async(inner) if inner.capture.is_some() => Some(inner),
        _ => None,
    }
}

fn pin_call_path(block: &Block) -> TokenStream {
    match block.stmts.last() {
        Some(Stmt::Expr(Expr::Call(call), None)) => call.func.to_token_stream(),
        _ => quote!(::std::boxed::Box::pin),
    }
}

/// `R` from `Pin<Box<dyn Future<Output = R> + …>>`.
fn future_output(ty: &Type) -> Option<Type> {
    let Type::Path(pin) = ty else { return None };
    let pin = pin.path.segments.last()?;
    if pin.ident != "Pin" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &pin.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(Type::Path(boxed))) = args.args.first() else {
        return None;
    };
    let boxed = boxed.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &boxed.arguments else {
        return None;
    };
    let Some(GenericArgument::Type(Type::TraitObject(object))) = args.args.first() else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let seg = t.path.segments.last()?;
        if seg.ident != "Future" {
            return None;
        }
        output_of_future(seg)
    })
}
