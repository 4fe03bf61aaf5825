//! `track history`'s table for a terminal: the recorded runs, one line each.
//! Loading is [`RunListing::load`]; [`history_table`] prints the listing and
//! nothing else. (`history/` is the store alone, so its table lives here.)

use std::collections::{BTreeMap, btree_map};
use std::fmt::Write as _;
use std::time::Duration;

use crate::environment::short_sha;
use crate::{History, RunSummary, TrackError};

/// What `track history` lists: every recorded run, oldest first, and the
/// two commits (A, B) of each batch a run belongs to.
#[derive(Debug, Clone, Default)]
pub struct RunListing {
    pub runs: Vec<RunSummary>,
    pub batches: BTreeMap<i64, (String, String)>,
}

impl RunListing {
    /// Every run in `history`, with the commits of the batches they name.
    pub fn load(history: &History) -> Result<RunListing, TrackError> {
        let runs = history.runs()?;
        let mut batches = BTreeMap::new();
        for batch in runs.iter().filter_map(|r| r.batch) {
            if let btree_map::Entry::Vacant(entry) = batches.entry(batch) {
                entry.insert(history.batch_commits(batch)?);
            }
        }
        Ok(RunListing { runs, batches })
    }
}

/// Characters of a SHA in `track history`: enough to name a commit to
/// `track compare`, few enough that a run's line fits an 80-column terminal
/// (with run and batch ids below 1000 and a SHA, not a label).
const HISTORY_SHA: usize = 8;

/// One line per run: a SHA shortened (a label or `WORKTREE` whole), `+`
/// after it when the tree was dirty, the branch or, for a `track run`'s
/// rounds, their batch as `#id A..B`, the time to the minute, and the
/// machine as a key (`m1`) explained below the table: a machine's
/// fingerprint alone is wider than a terminal.
#[must_use]
pub fn history_table(listing: &RunListing) -> String {
    const HEADER: [&str; 7] = [
        "run",
        "commit",
        "branch or batch",
        "recorded (UTC)",
        "round",
        "benches",
        "machine",
    ];
    const RIGHT_ALIGNED: [bool; 7] = [true, false, false, false, true, true, false];
    let RunListing { runs, batches } = listing;
    let short = |commit: &str| {
        if commit.chars().all(|c| c.is_ascii_hexdigit()) {
            short_sha(commit, HISTORY_SHA).to_owned()
        } else {
            commit.to_owned()
        }
    };
    let mut machines: Vec<&str> = Vec::new();
    let mut rows = vec![HEADER.map(str::to_owned)];
    for r in runs {
        let place = match (r.batch, r.batch.and_then(|batch| batches.get(&batch))) {
            (Some(batch), Some((a, b))) => format!("#{batch} {}..{}", short(a), short(b)),
            (Some(batch), None) => format!("#{batch}"),
            (None, _) => r.branch.clone(),
        };
        let machine = match machines.iter().position(|m| *m == r.machine) {
            Some(known) => known,
            None => {
                machines.push(&r.machine);
                machines.len() - 1
            }
        };
        rows.push([
            r.id.to_string(),
            format!("{}{}", short(&r.commit), if r.dirty { "+" } else { "" }),
            place,
            to_the_minute(r.time),
            r.round
                .map_or_else(|| "-".to_owned(), |round| round.to_string()),
            r.benchmarks.to_string(),
            format!("m{}", machine + 1),
        ]);
    }
    let mut widths = [0; 7];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut table = String::new();
    for row in &rows {
        let mut line = String::new();
        for ((cell, width), right) in row.iter().zip(widths).zip(RIGHT_ALIGNED) {
            // Writing to a String cannot fail.
            let _ = if right {
                write!(line, "{cell:>width$}  ")
            } else {
                write!(line, "{cell:<width$}  ")
            };
        }
        table.push_str(line.trim_end());
        table.push('\n');
    }
    if !runs.is_empty() {
        table.push('\n');
    }
    if runs.iter().any(|r| r.dirty) {
        table.push_str("+: recorded with uncommitted changes\n");
    }
    for (key, machine) in machines.iter().enumerate() {
        let _ = writeln!(table, "m{}: {machine}", key + 1);
    }
    table
}

/// `2026-11-25 17:57` for a time in seconds since 1970; the number itself
/// where RFC 3339 has no date for it (before 1970, after 9999).
fn to_the_minute(seconds: i64) -> String {
    let mut text = String::new();
    let dated = u64::try_from(seconds)
        .ok()
        .and_then(|seconds| std::time::UNIX_EPOCH.checked_add(Duration::from_secs(seconds)))
        .is_some_and(|time| write!(text, "{}", humantime::format_rfc3339_seconds(time)).is_ok());
    if dated {
        // `2026-11-25T17:57:54Z`, always ASCII.
        text[..16].replace('T', " ")
    } else {
        seconds.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XEON: &str =
        "Intel(R) Xeon(R) Processor x2 | linux-x86_64 | rustc 1.95.0 (59807616e 2026-04-14)";
    const A: &str = "7655672091f3e8a1c0b5d4e3f2a1b0c9d8e7f6a5";
    const B: &str = "67ccb7b27e19a0b1c2d3e4f5a6b7c8d9e0f1a2b3";

    fn run(id: i64, commit: &str, branch: &str, batch: Option<i64>) -> RunSummary {
        RunSummary {
            id,
            commit: commit.to_owned(),
            dirty: false,
            branch: branch.to_owned(),
            time: 1_795_560_541,
            machine: XEON.to_owned(),
            benchmarks: 104,
            batch,
            round: batch.map(|_| 2),
        }
    }

    #[test]
    fn history_lines_fit_a_terminal_and_name_the_batch() {
        let runs = vec![
            run(1, A, "main", None),
            RunSummary {
                dirty: true,
                ..run(2, "tuned-laptop", "main", None)
            },
            run(1003, B, &format!("run {A}..{B}"), Some(12)),
            run(1004, "WORKTREE", &format!("run {A}..WORKTREE"), Some(13)),
        ];
        let batches = BTreeMap::from([
            (12, (A.to_owned(), B.to_owned())),
            (13, (A.to_owned(), "WORKTREE".to_owned())),
        ]);
        let table = history_table(&RunListing { runs, batches });
        assert_eq!(
            table,
            " run  commit         branch or batch         recorded (UTC)    round  benches  machine
   1  76556720       main                    2026-11-24 22:49      -      104  m1
   2  tuned-laptop+  main                    2026-11-24 22:49      -      104  m1
1003  67ccb7b2       #12 76556720..67ccb7b2  2026-11-24 22:49      2      104  m1
1004  WORKTREE       #13 76556720..WORKTREE  2026-11-24 22:49      2      104  m1

+: recorded with uncommitted changes
m1: Intel(R) Xeon(R) Processor x2 | linux-x86_64 | rustc 1.95.0 (59807616e 2026-04-14)
"
        );
    }

    #[test]
    fn a_time_without_a_date_is_shown_as_a_number() {
        assert_eq!(to_the_minute(0), "1970-01-01 00:00");
        assert_eq!(to_the_minute(-1), "-1");
        assert_eq!(to_the_minute(253_402_300_800), "253402300800");
        assert_eq!(to_the_minute(i64::MAX), i64::MAX.to_string());
    }
}
