//! The model as one JSON object, for programs: `proflab stats --json`.

use std::io::Write;

use crate::Stats;

impl Stats {
    /// Writes the statistics as one JSON object (`total_calls`,
    /// `primitive_calls`, `total_tt`, and `functions` with their callers).
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let functions: Vec<serde_json::Value> = self
            .entries()
            .iter()
            .map(|(key, s)| {
                let callers: Vec<serde_json::Value> = s
                    .callers
                    .iter()
                    .map(|(caller, edge)| {
                        serde_json::json!({
                            "file": &*caller.file, "line": caller.line, "name": &*caller.name,
                            "ncalls": edge.calls, "pcalls": edge.primitive_calls,
                            "tottime": edge.tottime, "cumtime": edge.cumtime,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "file": &*key.file, "line": key.line, "name": &*key.name,
                    "ncalls": s.calls, "pcalls": s.primitive_calls,
                    "tottime": s.tottime, "cumtime": s.cumtime,
                    "allocations": s.allocations, "allocated_bytes": s.allocated_bytes,
                    "callers": callers,
                })
            })
            .collect();
        let document = serde_json::json!({
            "total_calls": self.total_calls(),
            "primitive_calls": self.primitive_calls(),
            "total_tt": self.total_tt(),
            "functions": functions,
        });
        serde_json::to_writer_pretty(&mut *out, &document)?;
        writeln!(out)
    }
}
