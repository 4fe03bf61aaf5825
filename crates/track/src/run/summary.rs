//! What `track run` says about a finished run, beside the comparison: the
//! batch, what was measured and left out, the layouts, and what was missing.

use std::fmt::Write as _;

use super::{LayoutMode, PairedRun};
use crate::environment::short_sha;

/// The lines `track run` prints on stderr once the rounds are over.
#[must_use]
pub fn run_summary(run: &PairedRun) -> String {
    let mut text = String::new();
    let identical = match run.identical_code.len() {
        0 => String::new(),
        n => format!(", {n} not (identical code on both sides)"),
    };
    let budget = if run.budget_exhausted {
        " (budget spent: some benchmarks got fewer rounds than they needed)"
    } else {
        ""
    };
    let _ = writeln!(
        text,
        "batch {}: {} benchmarks measured{identical} in {:.0} s{budget}",
        run.batch,
        run.rounds.len(),
        run.elapsed.as_secs_f64(),
    );
    let layouts = &run.layouts;
    let _ = match &layouts.mode {
        // Every executable identical: no round ran, so no layout was drawn.
        LayoutMode::Random if layouts.sampled == [0, 0] => writeln!(
            text,
            "layouts: random, none drawn (nothing was measured; seed {})",
            layouts.seed
        ),
        LayoutMode::Random => writeln!(
            text,
            "layouts: random (seed {}): {} on A, {} on B, {:.2} s a link",
            layouts.seed, layouts.sampled[0], layouts.sampled[1], layouts.seconds_per_link
        ),
        LayoutMode::Fixed(reason) => writeln!(text, "layouts: fixed ({reason})"),
    };
    for missing in &run.missing_submodules {
        let _ = writeln!(
            text,
            "warning: submodule `{}` (commit {}) is not checked out in this clone: left out of the \
             worktrees, and no bench needed it (--require-submodules to refuse)",
            missing.path,
            short_sha(&missing.commit, 12)
        );
    }
    if let Some(reason) = &run.identical_measured_because {
        let _ = writeln!(text, "identical code measured all the same: {reason}");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::run_summary;
    use crate::run::{LayoutMode, LayoutSummary, MissingSubmodule, PairedRun};

    #[test]
    fn a_run_with_nothing_measured_says_no_layout_was_drawn() {
        let mut run = PairedRun {
            a: "a".repeat(40),
            b: "b".repeat(40),
            batch: 2,
            rounds: BTreeMap::new(),
            budget_exhausted: false,
            elapsed: Duration::from_secs(7),
            identical_code: vec!["g/f".to_owned()],
            identical_measured_because: None,
            layouts: LayoutSummary {
                mode: LayoutMode::Random,
                sampled: [0, 0],
                seconds_per_link: 0.0,
                seed: 42,
            },
            missing_submodules: Vec::new(),
        };
        assert!(
            run_summary(&run)
                .contains("layouts: random, none drawn (nothing was measured; seed 42)\n"),
            "{}",
            run_summary(&run)
        );
        run.layouts.sampled = [3, 3];
        run.layouts.seconds_per_link = 0.125;
        assert!(
            run_summary(&run)
                .contains("layouts: random (seed 42): 3 on A, 3 on B, 0.12 s a link\n"),
            "{}",
            run_summary(&run)
        );
    }

    #[test]
    fn the_summary_names_what_was_left_out_and_why() {
        let run = PairedRun {
            a: "a".repeat(40),
            b: "b".repeat(40),
            batch: 7,
            rounds: BTreeMap::from([("g/f".to_owned(), 5)]),
            budget_exhausted: true,
            elapsed: Duration::from_secs_f64(83.4),
            identical_code: vec!["g/h".to_owned(), "g/i".to_owned()],
            identical_measured_because: None,
            layouts: LayoutSummary {
                mode: LayoutMode::Fixed("--layouts fixed".to_owned()),
                sampled: [1, 1],
                seconds_per_link: 0.0,
                seed: 1,
            },
            missing_submodules: vec![MissingSubmodule {
                path: "data".to_owned(),
                commit: "c".repeat(40),
            }],
        };
        assert_eq!(
            run_summary(&run),
            "batch 7: 1 benchmarks measured, 2 not (identical code on both sides) in 83 s \
             (budget spent: some benchmarks got fewer rounds than they needed)\n\
             layouts: fixed (--layouts fixed)\n\
             warning: submodule `data` (commit cccccccccccc) is not checked out in this clone: \
             left out of the worktrees, and no bench needed it (--require-submodules to refuse)\n"
        );
    }
}
