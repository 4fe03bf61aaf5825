//! What `#[proflab::profile]` on an `async fn` wraps its body in.
//!
//! A call is one run of the future: counted once, at its first poll while
//! a profile records, with the awaiting function (the frame open around
//! that poll) as its caller. Its `tottime` and `cumtime` add up the time
//! spent inside its polls: time while it is suspended (waiting for I/O, a
//! timer or another task) is excluded, since nothing of the function runs
//! then. This is cProfile's time for a coroutine (only the running frame is
//! timed) with pstats' meaning of a call (an invocation, not a resumption).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::record::Site;
use crate::record::{enter, enter_frame};

/// A future timed as one profiled call of `site`; made by the macro.
#[doc(hidden)]
#[must_use = "futures do nothing unless polled"]
pub struct Profiled<F> {
    site: &'static Site,
    /// Whether a poll already counted the call.
    counted: bool,
    future: F,
}

/// Wraps `future` (an `async fn`'s body) so each poll is a frame of `site`.
/// `T` names the output, so that `?` and `return` in the body infer it.
#[doc(hidden)]
pub fn profiled<T, F: Future<Output = T>>(site: &'static Site, future: F) -> Profiled<F> {
    Profiled {
        site,
        counted: false,
        future,
    }
}

impl<F: Future> Future for Profiled<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // `Profiled`, which has no `Drop` and is `Unpin` only when `F` is.
        // Pinning it in place, rather than boxing it, keeps an allocation
        // per call out of the caller's memory columns.
        let this = unsafe { self.get_unchecked_mut() };
        let guard = if this.counted {
            enter_frame(this.site, false)
        } else {
            enter(this.site)
        };
        this.counted |= guard.is_active();
        // SAFETY: as above; `this.future` stays where it is until dropped.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        let result = future.poll(cx);
        drop(guard);
        result
    }
}
