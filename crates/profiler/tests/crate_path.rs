//! `#[proflab::profile(crate = path)]`: the expansion reaches the profiler
//! through `path::__private`, so a crate that renames (or re-exports) the
//! dependency can still use the attribute.

use std::sync::atomic::{AtomicU32, Ordering};

/// Stands in for a renamed dependency, and counts what the expansion asks
/// of it, to show the path given is the one used.
mod renamed {
    pub mod __private {
        use std::sync::atomic::Ordering;

        pub use proflab::__private::{Guard, Site, profiled};

        pub fn enter(site: &'static Site) -> Guard {
            super::super::ENTERED.fetch_add(1, Ordering::Relaxed);
            proflab::__private::enter(site)
        }
    }
}

static ENTERED: AtomicU32 = AtomicU32::new(0);

#[proflab::profile(crate = crate::renamed)]
fn through_the_given_path(n: u32) -> u32 {
    n + 1
}

#[proflab::profile(crate = crate::renamed)]
async fn async_through_the_given_path() -> u32 {
    7
}

#[test]
fn the_expansion_uses_the_crate_path_it_is_given() {
    let before = ENTERED.load(Ordering::Relaxed);
    let profile = proflab::Profile::new();
    let total: u32 = profile.run(|| (0..3).map(through_the_given_path).sum());
    assert_eq!(total, 6);
    assert_eq!(ENTERED.load(Ordering::Relaxed) - before, 3);
    let stats = proflab::Stats::new(&profile);
    assert_eq!(
        stats
            .function("through_the_given_path")
            .expect("recorded")
            .1
            .calls,
        3
    );
    // The async form compiles against the same path (it enters through
    // `profiled`, not `enter`) and runs.
    let mut future = std::pin::pin!(async_through_the_given_path());
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    assert_eq!(
        future.as_mut().poll(&mut context),
        std::task::Poll::Ready(7)
    );
}
