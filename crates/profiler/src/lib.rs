//! A deterministic, instrumenting profiler with cProfile's data model and
//! pstats' output, for Rust: exact call counts, self time (`tottime`),
//! cumulative time (`cumtime`) and per caller-callee edge statistics, for the
//! functions you mark with `#[proflab::profile]` or `profile_scope!`.
//!
//! Start from [`Profile`] (enable, run, disable, as `cProfile.Profile()`),
//! then [`Stats`] (the data: add, strip, save) seen through a [`View`] (sort,
//! reverse, restrict, print), exactly as in Python:
//!
//! ```
//! use proflab::{Profile, Stats};
//!
//! #[proflab::profile]
//! fn fib(n: u32) -> u64 { if n < 2 { n.into() } else { fib(n - 1) + fib(n - 2) } }
//!
//! let profile = Profile::new();
//! profile.enable();
//! assert_eq!(fib(20), 6765);
//! profile.disable();
//! let stats = Stats::new(&profile).strip_dirs();
//! let (_, fib_stats) = stats.function("fib").expect("fib was profiled");
//! assert_eq!((fib_stats.calls, fib_stats.primitive_calls), (21891, 1));
//! stats.sort_stats(&["cumulative"])?.print_stats(5)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Files written by [`Stats::dump_stats`] are the marshal format of
//! `python -m cProfile -o`, so `python3 -m pstats`, snakeviz and gprof2dot
//! open them, and [`Stats::load`] reads CPython's own. Recording works across
//! threads (each has its own call stack; statistics are merged).
//!
//! It is not a sampling profiler: unmarked code is invisible to it, and each
//! marked call costs a few tens of nanoseconds while profiling (one relaxed
//! atomic load when not; nothing at all without the default `enabled`
//! feature). For what it cannot see, use the sampling flamegraphs of
//! `cargo bench -- --profile-time`.

// Record → model → view and formats: `record` gathers raw counts while
// profiling; `model` holds them as pstats' data; `view` orders and
// restricts a listing; `pstats` prints it; `marshal`, `json`, `folded`
// and `dot` each write (or read) the model in one format.
mod alloc;
mod browser;
mod dot;
mod folded;
mod future;
mod json;
mod marshal;
mod model;
mod pstats;
mod python_re;
mod record;
mod spin;
mod view;

pub use alloc::CountingAllocator;
pub use browser::Browser;
pub use marshal::MarshalError;
pub use model::{CallerStats, Callers, FunctionKey, FunctionStats, Stats};
pub use proflab_profiler_macros::profile;
pub use pstats::Report;
pub use record::is_enabled;
pub use view::{Restriction, Restrictions, SortKey, View};

use std::sync::Mutex;

/// What `#[proflab::profile]` and `profile_scope!` expand to; not an API.
/// A crate that renames its dependency names it with
/// `#[profile(crate = path)]`.
#[doc(hidden)]
pub mod __private {
    pub use crate::future::{Profiled, profiled};
    pub use crate::record::{Guard, Site, enter};
}

/// Why statistics could not be sorted, saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A sort key that is neither a pstats key nor an unambiguous prefix of one.
    #[error("unknown or ambiguous sort key {key:?}; valid keys: {valid}")]
    UnknownSortKey {
        /// The key given.
        key: String,
        /// Every valid key.
        valid: String,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a profile in cProfile's marshal format.
    #[error("{path}: not a cProfile stats file: {source}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong, with the byte offset.
        source: MarshalError,
    },
    /// A flamegraph was asked of statistics without call paths: only a
    /// recorded profile has them, a file in cProfile's format does not.
    #[error("no call paths were recorded (statistics loaded from a file have none)")]
    NoCallPaths,
}

/// A profiling session, as Python's `cProfile.Profile()`: [`enable`]
/// starts recording every marked function on every thread, [`disable`]
/// stops and keeps the merged data for [`Stats::new`].
///
/// One profile records at a time: enabling another stops this one's
/// recording (its data so far is dropped).
///
/// [`enable`]: Profile::enable
/// [`disable`]: Profile::disable
#[derive(Debug, Default)]
pub struct Profile {
    state: Mutex<ProfileState>,
}

#[derive(Debug, Default)]
struct ProfileState {
    generation: Option<u64>,
    recorded: record::Recorded,
}

impl Profile {
    /// A profile that has recorded nothing yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts recording (and forgets what an earlier run of this profile
    /// recorded).
    pub fn enable(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.recorded = record::Recorded::default();
        state.generation = Some(record::start_recording());
    }

    /// Stops recording. Frames still open on this thread are closed now,
    /// as cProfile does; frames open on other threads are not counted.
    pub fn disable(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(generation) = state.generation.take() {
            state.recorded = record::stop_recording(generation);
        }
    }

    /// Runs `work` with the profile enabled, disabling it afterwards even
    /// if `work` panics.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        struct DisableOnDrop<'a>(&'a Profile);
        impl Drop for DisableOnDrop<'_> {
            fn drop(&mut self) {
                self.0.disable();
            }
        }
        self.enable();
        let _disable = DisableOnDrop(self);
        work()
    }

    fn raw(&self) -> record::Recorded {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recorded
            .clone()
    }
}

/// Marks a block as a profiled scope named `$name` (a string literal),
/// recorded as `file:line(name)` until the end of the enclosing block.
///
/// ```
/// let profile = proflab::Profile::new();
/// profile.run(|| {
///     proflab::profile_scope!("setup");
///     std::hint::black_box(vec![0u8; 64]);
/// });
/// let stats = proflab::Stats::new(&profile);
/// assert_eq!(stats.function("setup").expect("recorded").1.calls, 1);
/// ```
#[macro_export]
macro_rules! profile_scope {
    ($name:expr) => {
        static __PROFLAB_SCOPE: $crate::__private::Site =
            $crate::__private::Site::new($name, file!(), line!());
        let _proflab_scope = $crate::__private::enter(&__PROFLAB_SCOPE);
    };
}
