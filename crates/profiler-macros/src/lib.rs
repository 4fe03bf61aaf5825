//! The `#[profile]` attribute of proflab's profiler: wraps a function's body
//! in a profiled frame recorded as `file:line(name)`. Use it through the
//! profiler crate (`#[proflab::profile]`), which documents what is recorded;
//! this crate holds nothing else.

use proc_macro::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;

/// Records every call of the function it marks (free functions and methods)
/// while a `proflab::Profile` is enabled.
#[proc_macro_attribute]
pub fn profile(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = proc_macro2::TokenStream::from(attr);
        return syn::Error::new(attr.span(), "#[profile] takes no arguments")
            .to_compile_error()
            .into();
    }
    let mut function = syn::parse_macro_input!(item as syn::ItemFn);
    if let Some(asyncness) = function.sig.asyncness {
        return syn::Error::new(
            asyncness.span(),
            "#[profile] cannot time an async fn: its frames outlive its polls",
        )
        .to_compile_error()
        .into();
    }
    if let Some(constness) = function.sig.constness {
        return syn::Error::new(constness.span(), "#[profile] cannot instrument a const fn")
            .to_compile_error()
            .into();
    }
    let name = function.sig.ident.to_string();
    let body = &function.block;
    // `line!()` spanned at the name gives the function's own line.
    let span = function.sig.ident.span();
    let wrapped = quote_spanned! {span=>
        {
            static __PROFLAB_SITE: ::proflab::Site = ::proflab::Site::new(#name, file!(), line!());
            let __proflab_guard = ::proflab::enter(&__PROFLAB_SITE);
            #body
        }
    };
    *function.block = syn::parse2(wrapped).expect("a block wrapped in a block parses");
    quote::quote!(#function).into()
}
