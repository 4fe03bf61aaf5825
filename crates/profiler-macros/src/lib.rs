//! The `#[profile]` attribute of proflab's profiler: wraps a function's body
//! in a profiled frame recorded as `file:line(name)`. Use it through the
//! profiler crate (`#[proflab::profile]`), which documents what is recorded;
//! this crate holds nothing else.

use proc_macro::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;

/// Records every call of the function it marks (free functions and methods,
/// `async fn` included) while a `proflab::Profile` is enabled. For an
/// `async fn`, a call is one run of its future, timed only while polled.
/// `#[profile(crate = path)]` names the profiler crate when the dependency
/// is renamed.
#[proc_macro_attribute]
pub fn profile(attr: TokenStream, item: TokenStream) -> TokenStream {
    // `crate = path` names the profiler when the dependency is renamed
    // (divan's option); `::proflab` otherwise.
    let mut krate: syn::Path = syn::parse_quote!(::proflab);
    let options = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            krate = meta.value()?.parse()?;
            Ok(())
        } else {
            Err(meta.error("#[profile] takes only `crate = path`"))
        }
    });
    syn::parse_macro_input!(attr with options);
    let mut function = syn::parse_macro_input!(item as syn::ItemFn);
    if let Some(constness) = function.sig.constness {
        return syn::Error::new(constness.span(), "#[profile] cannot instrument a const fn")
            .to_compile_error()
            .into();
    }
    let name = function.sig.ident.to_string();
    let body = &function.block;
    // `line!()` spanned at the name gives the function's own line.
    let span = function.sig.ident.span();
    let wrapped = if function.sig.asyncness.is_some() {
        // A call is the whole future, timed only while polled (see the
        // profiler's `future.rs`). The output type is named so that `?` and
        // `return` in the body infer as they do in the async fn itself;
        // an `impl Trait` output cannot be named there and is left to
        // inference.
        let output = match &function.sig.output {
            syn::ReturnType::Default => quote::quote!(()),
            syn::ReturnType::Type(_, ty) if !mentions_impl(quote::quote!(#ty)) => {
                quote::quote!(#ty)
            }
            syn::ReturnType::Type(..) => quote::quote!(_),
        };
        quote_spanned! {span=>
            {
                static __PROFLAB_SITE: #krate::__private::Site = #krate::__private::Site::new(#name, file!(), line!());
                #krate::__private::profiled::<#output, _>(&__PROFLAB_SITE, async move #body).await
            }
        }
    } else {
        quote_spanned! {span=>
            {
                static __PROFLAB_SITE: #krate::__private::Site = #krate::__private::Site::new(#name, file!(), line!());
                let __proflab_guard = #krate::__private::enter(&__PROFLAB_SITE);
                #body
            }
        }
    };
    *function.block = syn::parse2(wrapped).expect("a block wrapped in a block parses");
    quote::quote!(#function).into()
}

/// Whether a type mentions `impl Trait`, which cannot be written in a
/// turbofish.
fn mentions_impl(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Ident(ident) => ident == "impl",
        proc_macro2::TokenTree::Group(group) => mentions_impl(group.stream()),
        _ => false,
    })
}
