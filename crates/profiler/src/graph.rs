//! Pictures of a profile: a flamegraph of the exact call paths (drawn by
//! `inferno`) and a GraphViz call graph of the caller-callee edges.

use std::collections::BTreeMap;
use std::io::Write;

use crate::record::{self, NO_CALLER, Recorded};
use crate::{Stats, StatsError};

/// Self time per call path, `root;child;leaf` → nanoseconds, merged over
/// threads. Each frame reads `name (file:line)` with the file's directories
/// dropped.
pub(crate) fn folded_paths(recorded: &Recorded) -> BTreeMap<String, u64> {
    let mut folded = BTreeMap::new();
    for tree in &recorded.paths {
        let labels: Vec<String> = tree
            .iter()
            .map(|node| {
                let site = record::site(node.site);
                let file = site
                    .file()
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(site.file());
                // `;` separates frames in the folded format.
                format!("{} ({file}:{})", site.name(), site.line()).replace(';', ":")
            })
            .collect();
        for (index, node) in tree.iter().enumerate() {
            let nanos = (record::seconds(node.inline_ticks) * 1e9).round() as u64;
            if nanos == 0 {
                continue;
            }
            let mut frames = vec![labels[index].as_str()];
            let mut parent = node.parent;
            while parent != NO_CALLER {
                frames.push(&labels[parent as usize]);
                parent = tree[parent as usize].parent;
            }
            frames.reverse();
            *folded.entry(frames.join(";")).or_insert(0) += nanos;
        }
    }
    folded
}

impl Stats {
    /// The exact call paths and their self time in nanoseconds, in the
    /// "folded stacks" format flamegraph tools read (`a;b;c 1234`).
    #[must_use]
    pub fn folded_stacks(&self) -> Vec<String> {
        self.paths
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
        if self.paths.is_empty() {
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

    /// Writes a GraphViz call graph: one node per function with its calls,
    /// tottime and cumtime, one edge per caller-callee pair with its calls
    /// and cumulative time. Render with `dot -Tsvg`.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_dot(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let ids: BTreeMap<_, usize> = self.stats.keys().enumerate().map(|(i, k)| (k, i)).collect();
        let total = self.total_tt().max(f64::MIN_POSITIVE);
        writeln!(out, "digraph profile {{")?;
        writeln!(
            out,
            "  node [shape=box, style=filled, fontname=\"Helvetica\"];"
        )?;
        for (key, s) in &self.stats {
            let calls = if s.calls == s.primitive_calls {
                s.calls.to_string()
            } else {
                format!("{}/{}", s.calls, s.primitive_calls)
            };
            // Redder the larger the function's share of the total self time.
            let heat = (s.tottime / total).clamp(0.0, 1.0);
            writeln!(
                out,
                "  f{} [label=\"{}\\n{}:{}\\n{} calls\\ntottime {:.6}s\\ncumtime {:.6}s\", fillcolor=\"0.0 {:.3} 1.0\"];",
                ids[key],
                escape(&key.name),
                escape(&key.file),
                key.line,
                calls,
                s.tottime,
                s.cumtime,
                heat
            )?;
        }
        for (callee, s) in &self.stats {
            for (caller, edge) in &s.callers {
                let Some(from) = ids.get(caller) else {
                    continue;
                };
                writeln!(
                    out,
                    "  f{from} -> f{} [label=\"{} calls\\n{:.6}s\"];",
                    ids[callee], edge.calls, edge.cumtime
                )?;
            }
        }
        writeln!(out, "}}")
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}
