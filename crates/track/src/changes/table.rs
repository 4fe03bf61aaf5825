//! `track changes`' table for a terminal: one line per change found.

use std::fmt::Write as _;

use super::BenchmarkChange;
use crate::environment::short_sha;
use crate::printable;

/// One line per change, in the order given: the benchmark, the last commit
/// at the old level and the first at the new one (SHAs cut to 12
/// characters), the ratio new/old and the confidence; `no change found`
/// under the header when there is none.
#[must_use]
pub fn changes_table(changes: &[BenchmarkChange]) -> String {
    let mut table = format!(
        "{:<40}  {:<12}  {:<12}  {:>7}  {:>10}\n",
        "benchmark", "before", "after", "ratio", "confidence"
    );
    for change in changes {
        // Writing to a String cannot fail.
        let _ = writeln!(
            table,
            "{:<40}  {:<12}  {:<12}  {:>7.3}  {:>10.3}",
            printable(&change.id),
            short_sha(&change.before, 12),
            short_sha(&change.after, 12),
            change.ratio,
            change.confidence
        );
    }
    if changes.is_empty() {
        table.push_str("no change found\n");
    }
    table
}

#[cfg(test)]
mod tests {
    use super::changes_table;
    use crate::{BenchmarkChange, Metric};

    #[test]
    fn each_change_is_a_line_and_none_is_said() {
        let change = BenchmarkChange {
            id: "string_concat/push_str/1000".to_owned(),
            metric: Metric::TimeNs,
            before: "7655672091f3e8a1c0b5d4e3f2a1b0c9d8e7f6a5".to_owned(),
            after: "67ccb7b27e19a0b1c2d3e4f5a6b7c8d9e0f1a2b3".to_owned(),
            ratio: 1.1034,
            confidence: 0.995,
        };
        assert_eq!(
            changes_table(&[change]),
            "benchmark                                 before        after           ratio  confidence
string_concat/push_str/1000               7655672091f3  67ccb7b27e19    1.103       0.995
"
        );
        assert_eq!(
            changes_table(&[]),
            "benchmark                                 before        after           ratio  confidence
no change found
"
        );
    }
}
