//! Which benchmarks the next round measures.

use std::time::Duration;

use super::PairedOptions;
use crate::CompareOptions;
use crate::compare::Comparison;

/// Rounds a benchmark gets (at most `max_rounds`) before a change is called
/// ([`CompareOptions::settles`]): three rounds of a benchmark that switches
/// between two levels from process to process agree by chance too often.
/// Settling "unchanged", and giving up on a benchmark that the rounds left
/// could not flag ([`CompareOptions::could_flag`]), may happen from
/// `min_rounds` on: the predicted chance keeps measuring a slowdown whose
/// first rounds read low (a 4.9% one once measured 1.030, 1.047, 1.004).
pub(super) const ROUNDS_TO_FLAG: usize = 5;

/// Rounds of an equal share of `time_left` among `sharing` undecided
/// benchmarks that one whose pair of processes takes `pair_seconds` can
/// still buy. Equal time, not equal rounds: in this repository one pair of
/// `format_copy/100000` costs what 90 pairs of a cheap benchmark do, and
/// rounds of the cheap ones are where a change of a few percent is found.
#[must_use]
pub fn affordable_rounds(time_left: Duration, sharing: usize, pair_seconds: f64) -> usize {
    let share = time_left.as_secs_f64() / sharing.max(1) as f64;
    if pair_seconds > 0.0 {
        // Whole rounds only; a float past usize::MAX saturates.
        (share / pair_seconds).floor() as usize
    } else {
        usize::MAX
    }
}

/// A benchmark still measured, as the plan of the next round sees it.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// Its verdict on the rounds so far.
    pub comparison: &'a Comparison,
    pub rounds_run: usize,
    /// Wall-clock seconds of one of its pairs of processes, on average.
    pub seconds_a_round: f64,
}

/// The ids of `candidates` measured once more ([`wants_another_round`]).
/// Within a budget (`time_left`) the time left is shared equally by the
/// benchmarks that go on, not by all still measured: from those that want a
/// round by `max_rounds` alone, the ones whose share cannot buy the rounds a
/// change would need are given up on, which grows the others' shares, until
/// every one left can use its share. A change seen is confirmed on
/// `ROUNDS_TO_FLAG` rounds whatever they cost: cut short, a benchmark that
/// switches levels from process to process would be flagged.
#[must_use]
pub fn next_round<'a>(
    candidates: &[Candidate<'a>],
    time_left: Option<Duration>,
    options: &PairedOptions,
    compare: &CompareOptions,
) -> Vec<&'a str> {
    let wants = |candidate: &Candidate<'_>, sharing: Option<usize>| {
        let affordable = time_left
            .zip(sharing)
            .filter(|_| !candidate.comparison.verdict.is_change())
            .map(|(left, sharing)| affordable_rounds(left, sharing, candidate.seconds_a_round));
        wants_another_round(
            candidate.comparison,
            rounds_left(candidate.rounds_run, options, affordable),
            options,
            compare,
        )
    };
    let mut going: Vec<&Candidate<'a>> = candidates.iter().filter(|c| wants(c, None)).collect();
    if time_left.is_some() {
        // Each pass only removes benchmarks, so this ends.
        loop {
            let sharing = going.len();
            going.retain(|c| wants(c, Some(sharing)));
            if going.len() == sharing {
                break;
            }
        }
    }
    going.iter().map(|c| c.comparison.id.as_str()).collect()
}

/// Rounds a benchmark with `rounds_run` rounds may still get: up to
/// `max_rounds`, and no more than its share of a budget buys (`affordable`).
#[must_use]
pub fn rounds_left(rounds_run: usize, options: &PairedOptions, affordable: Option<usize>) -> usize {
    let left = options.max_rounds.saturating_sub(rounds_run);
    affordable.map_or(left, |affordable| left.min(affordable))
}

/// Whether a benchmark judged as `comparison`, with `left` rounds it may
/// still get ([`rounds_left`]), is measured once more: some are left, and
/// it has fewer than `min_rounds` usable rounds, or it is neither settled
/// ([`CompareOptions::settles`]) nor given up on
/// ([`CompareOptions::could_flag`] in the rounds left).
#[must_use]
pub fn wants_another_round(
    comparison: &Comparison,
    left: usize,
    options: &PairedOptions,
    compare: &CompareOptions,
) -> bool {
    let rounds_to_flag = ROUNDS_TO_FLAG.min(options.max_rounds);
    left > 0
        && (comparison.rounds < options.min_rounds
            || (!compare.settles(comparison, rounds_to_flag)
                && compare.could_flag(comparison, left)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Candidate, affordable_rounds, next_round, rounds_left, wants_another_round};
    use crate::CompareOptions;
    use crate::Verdict;
    use crate::compare::Comparison;
    use crate::compare::tests::unchanged_paired;
    use crate::run::PairedOptions;
    use crate::stats::{VariancePrior, t_interval, t_interval_df};

    /// A benchmark judged "unchanged" on these per-round ratios, its
    /// variance moderated as this repository's suite does (other
    /// benchmarks' rounds spread about 2%, worth six degrees of freedom).
    fn judged(ratios: &[f64]) -> Comparison {
        let prior = Some(VariancePrior {
            d0: 6.0,
            s0_squared: 0.02f64.powi(2),
            pooled_df: 200.0,
        });
        let logs: Vec<f64> = ratios.iter().map(|r| r.ln()).collect();
        unchanged_paired(
            t_interval(&logs, prior),
            ratios.len(),
            t_interval_df(ratios.len(), prior),
        )
    }

    /// Up to ten rounds, the rules' earlier default, which these tests were written for.
    fn ten_rounds() -> (PairedOptions, CompareOptions) {
        let options = PairedOptions {
            max_rounds: 10,
            ..PairedOptions::default()
        };
        (options, CompareOptions::default())
    }

    #[test]
    fn three_rounds_give_up_on_what_the_rounds_left_could_not_flag() {
        let (options, compare) = ten_rounds();
        let seven_left = rounds_left(3, &options, None);
        assert_eq!(seven_left, 7);
        // A real 4.9% slowdown whose first rounds read low: measured on.
        assert!(wants_another_round(
            &judged(&[1.030, 1.047, 1.004]),
            seven_left,
            &options,
            &compare
        ));
        // Centred on 1 and about ±8% a round: seven more rounds could
        // neither bring the interval within ±2% nor likely find a change.
        assert!(!wants_another_round(
            &judged(&[1.08, 0.93, 1.0]),
            seven_left,
            &options,
            &compare
        ));
        // Already equivalent: settled.
        assert!(!wants_another_round(
            &judged(&[1.001, 0.999, 1.0]),
            seven_left,
            &options,
            &compare
        ));
        // Never past `max_rounds`.
        assert!(!wants_another_round(
            &judged(&[1.030, 1.047, 1.004]),
            rounds_left(10, &options, None),
            &options,
            &compare
        ));
    }

    #[test]
    fn within_a_budget_a_costly_benchmark_is_given_up_before_a_cheap_one() {
        let (options, compare) = ten_rounds();
        // Five minutes left, shared by 100 undecided benchmarks: 3 s each.
        let time_left = Duration::from_secs(300);
        let cheap = affordable_rounds(time_left, 100, 0.25);
        let costly = affordable_rounds(time_left, 100, 22.0);
        assert_eq!((cheap, costly), (12, 0));
        let slowdown = judged(&[1.030, 1.047, 1.004]);
        assert!(wants_another_round(
            &slowdown,
            rounds_left(3, &options, Some(cheap)),
            &options,
            &compare
        ));
        assert!(!wants_another_round(
            &slowdown,
            rounds_left(3, &options, Some(costly)),
            &options,
            &compare
        ));
        // A share can only shorten the rounds `max_rounds` leaves.
        assert_eq!(rounds_left(3, &options, Some(cheap)), 7);
        assert_eq!(affordable_rounds(Duration::ZERO, 0, 0.0), usize::MAX);
    }

    #[test]
    fn the_time_left_is_shared_by_the_benchmarks_that_go_on() {
        let options = PairedOptions {
            max_rounds: 60,
            ..PairedOptions::default()
        };
        let compare = CompareOptions::default();
        let slowdown = judged(&[1.030, 1.047, 1.004]);
        let settled = judged(&[1.001, 0.999, 1.0]);
        let candidate = |comparison, seconds_a_round| Candidate {
            comparison,
            rounds_run: 3,
            seconds_a_round,
        };
        // One slowdown among 99 settled benchmarks: its share is all the time left,
        // not a hundredth of it, so ten seconds buy the 40 rounds of 0.25 s it may need.
        let mut candidates = vec![candidate(&slowdown, 0.25)];
        candidates.extend((0..99).map(|_| candidate(&settled, 0.25)));
        let ten_seconds = Some(Duration::from_secs(10));
        assert_eq!(
            next_round(&candidates, ten_seconds, &options, &compare).len(),
            1
        );
        assert_eq!(affordable_rounds(Duration::from_secs(10), 100, 0.25), 0);
        // Two slowdowns, one dear: it cannot use its half, so the cheap one
        // gets it all and goes on alone.
        let candidates = [candidate(&slowdown, 0.25), candidate(&slowdown, 22.0)];
        let chosen = next_round(&candidates, ten_seconds, &options, &compare);
        assert_eq!(chosen.len(), 1);
        // Without a budget both go on.
        assert_eq!(next_round(&candidates, None, &options, &compare).len(), 2);
        // A change seen goes on whatever it costs, until confirmed.
        let seen = Comparison {
            verdict: Verdict::Regressed,
            ..judged(&[1.06, 1.05, 1.07])
        };
        let dear = [candidate(&seen, 22.0)];
        assert_eq!(next_round(&dear, ten_seconds, &options, &compare).len(), 1);
    }
}
