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

/// `text` inside a double-quoted DOT label: control characters from the
/// profile shown as escapes (a name read from a `.prof` file may hold any),
/// then the label's own backslashes and quotes escaped.
fn escape(text: &str) -> String {
    proflab_output::printable(text)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use crate::{FunctionKey, FunctionStats, Stats};

    #[test]
    fn names_from_a_profile_cannot_break_out_of_their_label() {
        let hostile = FunctionKey {
            file: "/src/a\"b.rs".into(),
            line: 3,
            name: "work\n\x1b[31m}\"; evil [label=x]".into(),
        };
        let stats = Stats::from_entries([(
            hostile,
            FunctionStats {
                primitive_calls: 1,
                calls: 1,
                tottime: 0.5,
                cumtime: 0.5,
                ..FunctionStats::default()
            },
        )]);
        let mut out = Vec::new();
        stats.write_dot(&mut out).expect("in-memory io");
        let dot = String::from_utf8(out).expect("utf-8");
        assert!(
            !dot.chars().any(|c| c.is_control() && c != '\n'),
            "no control character but the line ends: {dot:?}"
        );
        let node = dot.lines().nth(2).expect("the node line");
        assert!(
            node.starts_with(
                r#"  f0 [label="work\\n\\u{1b}[31m}\"; evil [label=x]\n/src/a\"b.rs:3\n"#
            ),
            "{node}"
        );
        assert_eq!(dot.lines().count(), 4, "one node, no line added: {dot}");
    }
}
