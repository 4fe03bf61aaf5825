//! Python's `timeit` for Rust snippets: `proflab timeit -s SETUP STMT`
//! compiles the statement into a scratch crate kept in a cache directory
//! (never in the user's project), runs it in release mode, and reports
//! `20000 loops, best of 5: 10.3 usec per loop` exactly as CPython does,
//! choosing the loop count with timeit's `autorange` when none is given.
//!
//! The pieces: [`Snippet`] (what to time) becomes a program ([`Snippet::program`])
//! that answers "run the statement N times" requests on a socket of its own; [`Cache`]
//! builds it, sharing one target directory across snippets so a second run
//! starts quickly, and maps compiler errors back to the user's own lines;
//! [`measure`] drives `autorange` and `repeat` against any [`Timer`]; and
//! [`format_report`] prints CPython's line. It is not a benchmark harness
//! with statistics: use Criterion (`cargo bench`) for that.

mod build;
mod children;
mod measure;

pub use build::{BuildProgress, Cache, CompileError, Dependency, Ending, Snippet, TimeitError};
pub use measure::{
    Measurement, Progress, Timer, fastest_best, format_report, format_time, measure,
    measure_side_by_side, unreliable_warning,
};
