//! The exact call paths of a recorded profile as "folded stacks"
//! (`a;b;c 1234`) and as a flamegraph SVG drawn by `inferno`.

use std::io::Write;

use crate::{Stats, StatsError};

impl Stats {
    /// The exact call paths and their self time in nanoseconds, in the
    /// "folded stacks" format flamegraph tools read (`a;b;c 1234`).
    #[must_use]
    pub fn folded_stacks(&self) -> Vec<String> {
        self.folded_paths()
            .iter()
            .map(|(path, nanos)| format!("{path} {nanos}"))
            .collect()
    }

    /// Draws a flamegraph SVG of the exact call paths: each box's width is
    /// the time spent in that function through that chain of callers.
    ///
    /// # Errors
    /// [`StatsError::NoCallPaths`] when there are no call paths (statistics
    /// loaded from a file carry none), [`StatsError::Io`] when writing fails.
    pub fn write_flamegraph(&self, out: &mut dyn Write, title: &str) -> Result<(), StatsError> {
        if self.folded_paths().is_empty() {
            return Err(StatsError::NoCallPaths);
        }
        let lines = self.folded_stacks();
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_owned();
        options.count_name = "ns".to_owned();
        inferno::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), out)
            .map_err(|error| StatsError::Io {
                path: "the flamegraph".to_owned(),
                source: std::io::Error::other(error),
            })
    }
}
