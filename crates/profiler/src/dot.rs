//! The model as a GraphViz call graph: one node per function, one edge per
//! caller-callee pair. Render with `dot -Tsvg`.

use std::collections::HashMap;
use std::io::Write;

use crate::Stats;

impl Stats {
    /// Writes a GraphViz call graph: one node per function with its calls,
    /// tottime and cumtime, one edge per caller-callee pair with its calls
    /// and cumulative time. Render with `dot -Tsvg`.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_dot(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let ids: HashMap<_, usize> = self
            .entries()
            .keys()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let total = self.total_tt().max(f64::MIN_POSITIVE);
        writeln!(out, "digraph profile {{")?;
        writeln!(
            out,
            "  node [shape=box, style=filled, fontname=\"Helvetica\"];"
        )?;
        for (key, s) in self.entries() {
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
        for (callee, s) in self.entries() {
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
