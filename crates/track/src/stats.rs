//! The statistics behind a verdict. Times on a shared machine are skewed and
//! heavy-tailed, so the tests on samples are rank- or median-based; the tests
//! on rounds work on logs of per-round ratios of fastest samples, which are
//! close enough to normal for Student's t.

use rand_pcg::Pcg64;
use rand_pcg::rand_core::{Rng as _, SeedableRng as _};
use statrs::distribution::{ChiSquared, ContinuousCDF as _, FisherSnedecor, StudentsT};
use statrs::function::gamma::digamma;

/// The bounds of a 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// The interval of an exact value: both bounds on it.
    #[must_use]
    pub fn exact(value: f64) -> Interval {
        Interval {
            low: value,
            high: value,
        }
    }
}

/// A point estimate (a median, or a ratio B/A) with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub point: f64,
    pub interval: Interval,
}

impl Estimate {
    /// An exact value: its interval has width zero.
    #[must_use]
    pub fn exact(value: f64) -> Estimate {
        Estimate {
            point: value,
            interval: Interval::exact(value),
        }
    }
}

/// The estimate of a ratio B/A with the two-sided p-value of "no change at all".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioTest {
    pub ratio: Estimate,
    pub p: f64,
}

/// The median of `values` (mean of the middle two for an even count). NaN if empty.
pub fn median(values: &[f64]) -> f64 {
    median_in_place(&mut values.to_vec())
}

/// [`median`] of `values`, reordering them: a selection, linear in their
/// number, not a sort. The bootstrap takes thousands of medians of
/// hundreds of samples for each point of the dashboard; the values picked
/// are those a sort would put in the middle, bit for bit.
fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lower, &mut middle, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        return middle;
    }
    let below = lower
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(middle);
    (below + middle) / 2.0
}

/// Ratio `median(b) / median(a)` with a percentile-bootstrap 95% interval.
/// Deterministic for a given `seed` (PCG64), so a report can be reproduced.
pub(crate) fn bootstrap_ratio_of_medians(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
) -> Estimate {
    let ratio = median(b) / median(a);
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut draw = |values: &[f64], buffer: &mut Vec<f64>| {
        buffer.clear();
        // Modulo bias is below 1e-16 for sample counts this small.
        buffer.extend(
            (0..values.len()).map(|_| values[(rng.next_u64() % values.len() as u64) as usize]),
        );
        median_in_place(buffer)
    };
    let (mut buf_a, mut buf_b) = (Vec::with_capacity(a.len()), Vec::with_capacity(b.len()));
    let mut ratios: Vec<f64> = (0..resamples)
        .map(|_| {
            let ma = draw(a, &mut buf_a);
            draw(b, &mut buf_b) / ma
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Estimate {
        point: ratio,
        interval: Interval {
            low: at(0.025),
            high: at(0.975),
        },
    }
}

/// The median absolute deviation times this estimates the standard
/// deviation of normal data.
const MAD_TO_SD: f64 = 1.4826;

/// How far, in robust standard deviations, a round's log ratio may lie from
/// the median of its benchmark's rounds before it counts as a bad
/// round. A process that ran slow for its whole measurement (another tenant,
/// an unlucky memory layout) is off by 15-60% on this machine, against a
/// round-to-round spread near 1%; four deviations keep a normal round's
/// chance of rejection near 1e-4.
pub const OUTLIER_DEVIATIONS: f64 = 4.0;

/// Which rounds of each benchmark to set aside as bad: `logs[b][i]` is the
/// log ratio of benchmark `b` in round `i`. A round is bad when its distance
/// to the median of the benchmark's rounds exceeds [`OUTLIER_DEVIATIONS`]
/// robust scales, the scale being the larger of the benchmark's own (its
/// median absolute deviation, x 1.4826) and the one all benchmarks share
/// (the same over every benchmark's distances): the shared one
/// keeps a benchmark with four quiet rounds from rejecting a fifth normal
/// one, the own one keeps a noisy benchmark from losing its ordinary rounds.
/// At most `(n - 1) / 2` rounds of a benchmark are set aside, the farthest
/// first, so the rest are always a majority; none with fewer than three.
pub(crate) fn outlying_rounds(logs: &[&[f64]]) -> Vec<Vec<bool>> {
    let distances: Vec<Vec<f64>> = logs
        .iter()
        .map(|rounds| {
            if rounds.len() < 3 {
                return Vec::new();
            }
            let centre = median(rounds);
            rounds.iter().map(|r| (r - centre).abs()).collect()
        })
        .collect();
    let shared = MAD_TO_SD * median(&distances.concat());
    distances
        .iter()
        .zip(logs)
        .map(|(distance, rounds)| {
            let mut bad = vec![false; rounds.len()];
            if distance.is_empty() {
                return bad;
            }
            let own = MAD_TO_SD * median(distance);
            let limit = OUTLIER_DEVIATIONS * own.max(shared);
            let mut order: Vec<usize> = (0..distance.len()).collect();
            order.sort_by(|&i, &j| distance[j].total_cmp(&distance[i]));
            for &i in order.iter().take((rounds.len() - 1) / 2) {
                if distance[i] > limit {
                    bad[i] = true;
                }
            }
            bad
        })
        .collect()
}

/// How much slower than its side's fastest process a process must run to
/// count as slow in [`spoiled_rounds`]' balance check: the other tenant's
/// busy stretches put processes at 1.4 to 1.9 times their usual level on
/// this repository's benchmarks, against 1 to 3% between ordinary rounds.
pub const SLOW_PROCESS_FACTOR: f64 = 1.15;

/// How far, as a fraction of the log slowdown of one side's spoiled
/// processes, the other side's slow process must be for the two to count as
/// the same busy stretch in [`spoiled_rounds`]: 1.4 to 1.9 times slow on
/// both sides there.
pub const COMPARABLE_SLOWNESS: f64 = 0.5;

/// Which rounds of each benchmark one bad process spoiled: `rounds[b][i]`
/// holds the logs of benchmark `b`'s fastest samples in round `i`, A's then
/// B's. A round is spoiled when its ratio is an outlier among the
/// benchmark's rounds ([`outlying_rounds`]) and exactly one of its two sides
/// is off: one process ran off while its partner ran as usual. A process is
/// off when it is an outlier among its side's rounds or runs
/// [`SLOW_PROCESS_FACTOR`] or more above its side's fastest process. The
/// second covers a side that ran slow in most of its rounds, whose slow
/// processes are then no outliers of it: on the Zen 5 VM, `push_str/1000`
/// ran at 12.3 or 21.9 µs a process, and in one A/A B was slow beside a
/// fast A in 6 of 15 rounds (A alone never), which read 1.23 [1.06, 1.43].
/// When both sides are off, the benchmark itself switches between levels
/// from process to process (a bimodal layout or allocator state: this
/// repository's `pieces/join/1000` runs at 1.90 or 2.17 µs a process), and
/// that round is evidence of its noise, not an accident: setting it aside
/// would leave the rounds that happened to agree and an interval far too
/// narrow.
///
/// The rule is kept balanced between the sides. In a busy stretch the other
/// tenant slows a third to a half of a benchmark's processes, on both
/// sides alike; the side with fewer slow processes then has them stand out
/// as outliers while the other side's, too many to be outliers of their
/// side, stay. Setting aside one side's slow rounds only would bias the
/// ratio toward the other side (an A/A read 0.869 [0.792, 0.955],
/// "improved", against 0.940 [0.833, 1.062] on all its rounds). So one
/// side's spoiled rounds are kept when none of the other side's are spoiled
/// yet the other side ran slow ([`SLOW_PROCESS_FACTOR`]) beside a partner
/// that did not in some other round, by at least [`COMPARABLE_SLOWNESS`] of
/// the least slowdown among the spoiled ones: a process three times slow is
/// an accident even where the other side wavered by 15% once (that kept the
/// spoiled round of `a_spoiled_round_is_set_aside_and_measured_again` in 5
/// of 12 runs on an idle machine).
pub(crate) fn spoiled_rounds(rounds: &[Vec<(f64, f64)>]) -> Vec<Vec<bool>> {
    let column = |pick: fn(&(f64, f64)) -> f64| -> Vec<Vec<f64>> {
        rounds
            .iter()
            .map(|r| r.iter().map(pick).collect())
            .collect()
    };
    let outliers =
        |logs: &[Vec<f64>]| outlying_rounds(&logs.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let ratio = outliers(&column(|(a, b)| b - a));
    let a_side = outliers(&column(|(a, _)| *a));
    let b_side = outliers(&column(|(_, b)| *b));
    rounds
        .iter()
        .zip(ratio.iter().zip(a_side.iter().zip(&b_side)))
        .map(|(sides, (ratio, (a_outlier, b_outlier)))| {
            let above_a = above_fastest(sides.iter().map(|(a, _)| *a));
            let above_b = above_fastest(sides.iter().map(|(_, b)| *b));
            let slow = |above: &[f64]| -> Vec<bool> {
                above
                    .iter()
                    .map(|x| *x >= SLOW_PROCESS_FACTOR.ln())
                    .collect()
            };
            let (slow_a, slow_b) = (slow(&above_a), slow(&above_b));
            // Off: an outlier of its side, or at its side's slow level even
            // where that level is the side's usual one.
            let off = |outlier: &[bool], slow: &[bool]| -> Vec<bool> {
                outlier.iter().zip(slow).map(|(o, s)| *o || *s).collect()
            };
            let (a_off, b_off) = (off(a_outlier, &slow_a), off(b_outlier, &slow_b));
            let spoiled_by = |own: &[bool], other: &[bool]| -> Vec<bool> {
                (0..sides.len())
                    .map(|i| ratio[i] && own[i] && !other[i])
                    .collect()
            };
            let mut by_a = spoiled_by(&a_off, &b_off);
            let mut by_b = spoiled_by(&b_off, &a_off);
            // The most a side ran slow beside a fast partner, in a round not
            // already spoiled.
            let slow_alone = |above: &[f64], own: &[bool], other: &[bool], spoiled: &[bool]| {
                (0..sides.len())
                    .filter(|&i| own[i] && !other[i] && !spoiled[i])
                    .map(|i| above[i])
                    .fold(0.0, f64::max)
            };
            // The least a side's spoiled processes ran slow.
            let least_spoiled = |above: &[f64], spoiled: &[bool]| {
                (0..sides.len())
                    .filter(|&i| spoiled[i])
                    .map(|i| above[i])
                    .fold(f64::INFINITY, f64::min)
            };
            let a_slow_elsewhere = slow_alone(&above_a, &slow_a, &slow_b, &by_a);
            let b_slow_elsewhere = slow_alone(&above_b, &slow_b, &slow_a, &by_b);
            let any = |flags: &[bool]| flags.iter().any(|f| *f);
            if any(&by_a)
                && !any(&by_b)
                && b_slow_elsewhere > 0.0
                && b_slow_elsewhere >= COMPARABLE_SLOWNESS * least_spoiled(&above_a, &by_a)
            {
                by_a.fill(false);
            }
            if any(&by_b)
                && !any(&by_a)
                && a_slow_elsewhere > 0.0
                && a_slow_elsewhere >= COMPARABLE_SLOWNESS * least_spoiled(&above_b, &by_b)
            {
                by_b.fill(false);
            }
            by_a.iter().zip(&by_b).map(|(a, b)| *a || *b).collect()
        })
        .collect()
}

/// How far above that side's fastest each of one side's processes ran, as
/// logs (of their fastest samples).
fn above_fastest(logs: impl Iterator<Item = f64> + Clone) -> Vec<f64> {
    let fastest = logs.clone().fold(f64::INFINITY, f64::min);
    logs.map(|log| log - fastest).collect()
}

/// The spread of round-to-round noise that the benchmarks of one comparison
/// share: a scaled inverse chi-square prior for their variances, `s0²` with
/// `d0` degrees of freedom (`d0` infinite when the variances agree more
/// closely than chance alone would make them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VariancePrior {
    pub d0: f64,
    pub s0_squared: f64,
    /// All benchmarks' degrees of freedom together: a moderated variance
    /// never claims more than the data hold.
    pub pooled_df: f64,
}

/// Whether a sample variance, with its degrees of freedom, says anything
/// about the spread: zero, infinite and NaN ones do not.
fn informative((variance, df): (f64, f64)) -> bool {
    variance > 0.0 && variance.is_finite() && df > 0.0
}

/// The [`informative`] variances, if three or more (fewer fit no prior).
fn usable_variances(variances: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    let usable: Vec<(f64, f64)> = variances
        .iter()
        .copied()
        .filter(|v| informative(*v))
        .collect();
    (usable.len() >= 3).then_some(usable)
}

/// Fits [`VariancePrior`] to sample variances, each with its degrees of
/// freedom, by the method of moments on their logs (Smyth, "Linear models
/// and empirical Bayes methods for assessing differential expression in
/// microarray experiments", 2004, section 6.2; limma's `fitFDist`). Zero
/// variances carry no information on the spread and are left out. `None`
/// with fewer than three usable variances.
pub(crate) fn fit_variance_prior(variances: &[(f64, f64)]) -> Option<VariancePrior> {
    let usable = usable_variances(variances)?;
    let count = usable.len() as f64;
    // e = ln s² - E[ln χ²_d / d] centres each log variance on ln σ².
    let centred: Vec<f64> = usable
        .iter()
        .map(|&(variance, df)| variance.ln() - digamma(df / 2.0) + (df / 2.0).ln())
        .collect();
    let mean = centred.iter().sum::<f64>() / count;
    let spread = sample_variance(&centred)
        - usable
            .iter()
            .map(|&(_, df)| trigamma(df / 2.0))
            .sum::<f64>()
            / count;
    let pooled_df = usable.iter().map(|&(_, df)| df).sum();
    if spread <= 0.0 {
        return Some(VariancePrior {
            d0: f64::INFINITY,
            s0_squared: mean.exp(),
            pooled_df,
        });
    }
    let d0 = 2.0 * trigamma_inverse(spread);
    Some(VariancePrior {
        d0,
        s0_squared: (mean + digamma(d0 / 2.0) - (d0 / 2.0).ln()).exp(),
        pooled_df,
    })
}

/// The level below which a benchmark's own variance counts as too large for
/// the prior the others share ([`moderation_priors`]): the chance that a
/// variance drawn from the prior lies that far above it.
pub const HYPERVARIABLE_P: f64 = 0.05;

/// The prior each benchmark's variance is moderated by, from the sample
/// variances of all benchmarks compared together (each with its degrees of
/// freedom): `None` for a hypervariable benchmark, which keeps its own
/// variance. Moderation assumes every benchmark's round-to-round spread is
/// drawn from one distribution; a memory-bound benchmark whose whole
/// processes wander by 5 to 10% (`vector_math/copy/10000000` on the Zen 5
/// VM, against 1 to 3% for the rest) is not, and a shared variance
/// several times too small made it the commonest false flag. Its own
/// rounds show it: each variance is tested against a prior (upper tail of
/// `F(d, d0)`, of `χ²_d / d` when `d0` is infinite, below
/// [`HYPERVARIABLE_P`]), the ones found are set apart, and the prior is
/// fitted to the rest ([`fit_variance_prior`]) and the test repeated until
/// it finds no more. The first test is against a prior fitted by median
/// and median absolute deviation ([`screening_prior`]), so that two or
/// three hypervariable benchmarks cannot hide each other by widening it.
/// This follows limma's robust estimation (Phipson, Lee, Majewski,
/// Alexander and Smyth, "Robust hyperparameter estimation protects against
/// hypervariable genes and improves power to detect differential
/// expression", 2016) in spirit, more bluntly: their hypervariable genes
/// get a smaller prior weight, these get none.
#[must_use]
pub(crate) fn moderation_priors(variances: &[(f64, f64)]) -> Vec<Option<VariancePrior>> {
    let mut hypervariable = vec![false; variances.len()];
    let outliers = |prior: VariancePrior, apart: &[bool]| -> Vec<usize> {
        variances
            .iter()
            .enumerate()
            .filter(|&(i, v)| !apart[i] && informative(*v))
            .filter(|&(_, &(variance, df))| above_prior_p(variance, df, prior) < HYPERVARIABLE_P)
            .map(|(i, _)| i)
            .collect()
    };
    let Some(screen) = screening_prior(variances) else {
        return vec![None; variances.len()];
    };
    let mut found = outliers(screen, &hypervariable);
    loop {
        for &i in &found {
            hypervariable[i] = true;
        }
        let shared: Vec<(f64, f64)> = variances
            .iter()
            .zip(&hypervariable)
            .filter(|(_, apart)| !**apart)
            .map(|(v, _)| *v)
            .collect();
        let Some(prior) = fit_variance_prior(&shared) else {
            return vec![None; variances.len()];
        };
        found = outliers(prior, &hypervariable);
        if found.is_empty() {
            return hypervariable
                .iter()
                .map(|apart| (!apart).then_some(prior))
                .collect();
        }
    }
}

/// A [`VariancePrior`] fitted like [`fit_variance_prior`] but by median and
/// scaled median absolute deviation of the log variances, each centred by
/// the median of `ln(χ²_d / d)`: a few variances far above the rest move
/// it little. Only for screening: it leaves out the moments' corrections,
/// and the prior used is the one fitted afterwards.
fn screening_prior(variances: &[(f64, f64)]) -> Option<VariancePrior> {
    let usable = usable_variances(variances)?;
    let centred: Vec<f64> = usable
        .iter()
        .map(|&(variance, df)| {
            let median_chi = ChiSquared::new(df).map_or(f64::NAN, |chi| chi.inverse_cdf(0.5));
            variance.ln() - (median_chi / df).ln()
        })
        .collect();
    let centre = median(&centred);
    let deviations: Vec<f64> = centred.iter().map(|e| (e - centre).abs()).collect();
    let spread = (MAD_TO_SD * median(&deviations)).powi(2)
        - usable
            .iter()
            .map(|&(_, df)| trigamma(df / 2.0))
            .sum::<f64>()
            / usable.len() as f64;
    Some(VariancePrior {
        d0: if spread > 0.0 {
            2.0 * trigamma_inverse(spread)
        } else {
            f64::INFINITY
        },
        s0_squared: centre.exp(),
        pooled_df: usable.iter().map(|&(_, df)| df).sum(),
    })
}

/// The chance that a variance on `df` degrees of freedom drawn from `prior`
/// is `variance` or more.
fn above_prior_p(variance: f64, df: f64, prior: VariancePrior) -> f64 {
    let scaled = variance / prior.s0_squared;
    if prior.d0.is_infinite() {
        ChiSquared::new(df).map_or(f64::NAN, |chi| chi.sf(scaled * df))
    } else {
        FisherSnedecor::new(df, prior.d0).map_or(f64::NAN, |f| f.sf(scaled))
    }
}

/// A Student-t interval and two-sided test on the mean of `logs` (log
/// ratios, one per round), the ratio being their geometric mean. Each round is one observation, so drift
/// between rounds widens the interval instead of being mistaken for a
/// change, which pooling every sample would do. With a `prior`, the
/// variance is the moderated one, `(d0 s0² + d s²) / (d0 + d)` with
/// `d0 + d` degrees of freedom (at most the prior's pooled ones): a benchmark
/// then borrows the other benchmarks' evidence on how noisy rounds are,
/// instead of trusting its own two to four degrees of freedom.
pub(crate) fn t_interval(logs: &[f64], prior: Option<VariancePrior>) -> RatioTest {
    let n = logs.len() as f64;
    let mean = logs.iter().sum::<f64>() / n;
    let own_df = n - 1.0;
    let own_variance = sample_variance(logs);
    let df = t_interval_df(logs.len(), prior);
    let variance = match prior {
        Some(prior) if prior.d0.is_infinite() => prior.s0_squared,
        Some(prior) => (prior.d0 * prior.s0_squared + own_df * own_variance) / (prior.d0 + own_df),
        None => own_variance,
    };
    let standard_error = (variance / n).sqrt();
    log_t_test(mean, standard_error, df)
}

/// The ratio `exp(mean)` of a mean of logs with its `standard_error`, its
/// 95% t interval on `df` degrees of freedom and the two-sided p-value of
/// no change; an error of zero makes the ratio exact.
fn log_t_test(mean: f64, standard_error: f64, df: f64) -> RatioTest {
    if standard_error == 0.0 {
        return RatioTest {
            ratio: Estimate::exact(mean.exp()),
            p: if mean == 0.0 { 1.0 } else { 0.0 },
        };
    }
    let half_width = student_t_quantile_975(df) * standard_error;
    RatioTest {
        ratio: Estimate {
            point: mean.exp(),
            interval: Interval {
                low: (mean - half_width).exp(),
                high: (mean + half_width).exp(),
            },
        },
        p: student_t_two_sided_p(mean / standard_error, df),
    }
}

/// The degrees of freedom of [`t_interval`] over `rounds` log ratios.
#[must_use]
pub(crate) fn t_interval_df(rounds: usize, prior: Option<VariancePrior>) -> f64 {
    let own_df = rounds as f64 - 1.0;
    match prior {
        Some(prior) if prior.d0.is_infinite() => prior.pooled_df,
        Some(prior) => (prior.d0 + own_df).min(prior.pooled_df),
        None => own_df,
    }
}

/// The chance that the 95% interval of [`t_interval`] flags a change (lies
/// wholly beyond `threshold` either way) after `more_rounds` more rounds,
/// predicted from the `rounds` so far (a conditional, "predictive" power):
/// `interval` came from them on `df` degrees of freedom.
///
/// The final mean of the log ratios is the mean so far averaged with that of
/// the rounds to come, which is uncertain twice over: the true mean is known
/// only to the current standard error, and the new rounds scatter around it.
/// Together the final mean is spread as Student's t on `df` with scale
/// `σ √(m / (n (n + m)))`, σ being one round's spread, `n` the rounds so far
/// and `m` the rounds to come; the final interval keeps today's σ, its t
/// quantile taking the added degrees of freedom. Unlike projecting today's
/// interval with its centre held fixed, this keeps measuring a benchmark
/// whose few rounds happen to sit just short of the threshold.
#[must_use]
pub(crate) fn chance_to_flag(
    interval: Interval,
    rounds: usize,
    df: f64,
    more_rounds: usize,
    threshold: f64,
) -> f64 {
    let Some(t) = standard_t(df) else {
        return 1.0;
    };
    let (low, high) = (interval.low.ln(), interval.high.ln());
    let centre = (low + high) / 2.0;
    let standard_error = (high - low) / 2.0 / student_t_quantile_975(df);
    if more_rounds == 0 || standard_error <= 0.0 || !standard_error.is_finite() {
        return 0.0;
    }
    let (n, m) = (rounds as f64, more_rounds as f64);
    let round_spread = standard_error * n.sqrt();
    let final_half_width = student_t_quantile_975(df + m) * round_spread / (n + m).sqrt();
    let final_mean_scale = round_spread * (m / (n * (n + m))).sqrt();
    let below = |x: f64| t.cdf((x - centre) / final_mean_scale);
    let up = threshold.ln_1p();
    let regressed = 1.0 - below(up + final_half_width);
    let improved = below(-up - final_half_width);
    (regressed + improved).min(1.0)
}

/// Welch's unequal-variance t interval and test for the difference of the
/// means of two independent sets of logs (one log fastest sample per run),
/// the ratio being `exp(mean b - mean a)`: runs recorded at different moments have no partner, so each run is
/// one observation and the drift between runs is what the interval measures.
pub(crate) fn welch_log_interval(a: &[f64], b: &[f64]) -> RatioTest {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let difference = mean(b) - mean(a);
    let (va, vb) = (sample_variance(a) / na, sample_variance(b) / nb);
    let standard_error = match (va + vb).sqrt() {
        // No spread to measure (a side of one run): the ratio reads as exact.
        error if !error.is_finite() => 0.0,
        error => error,
    };
    // Welch-Satterthwaite degrees of freedom.
    let df = (va + vb).powi(2) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    log_t_test(difference, standard_error, df)
}

/// The unbiased sample variance (divisor n - 1).
pub(crate) fn sample_variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// ψ'(x), written out because statrs has ψ but not ψ' (nor its inverse,
/// which fitting the prior needs): the recurrence ψ'(x) = ψ'(x + 1) + 1/x² up to x >= 10, then the
/// asymptotic series.
fn trigamma(mut x: f64) -> f64 {
    let mut result = 0.0;
    while x < 10.0 {
        result += 1.0 / (x * x);
        x += 1.0;
    }
    let inverse_square = 1.0 / (x * x);
    result
        + 1.0 / x
        + inverse_square / 2.0
        + inverse_square / x
            * (1.0 / 6.0
                - inverse_square
                    * (1.0 / 30.0 - inverse_square * (1.0 / 42.0 - inverse_square / 30.0)))
}

/// The x > 0 with ψ'(x) = `y`, by bisection on log x (ψ' falls monotonically).
fn trigamma_inverse(y: f64) -> f64 {
    let (mut low, mut high) = (-30.0_f64, 30.0_f64);
    for _ in 0..200 {
        let middle = (low + high) / 2.0;
        if trigamma(middle.exp()) > y {
            low = middle;
        } else {
            high = middle;
        }
    }
    ((low + high) / 2.0).exp()
}

/// The smallest value: a run's least disturbed sample.
pub(crate) fn fastest(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Two-sided p-value of Student's t with `df` degrees of freedom.
fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    standard_t(df).map_or(f64::NAN, |dist| (2.0 * dist.sf(t.abs())).min(1.0))
}

/// The 97.5% quantile of Student's t.
fn student_t_quantile_975(df: f64) -> f64 {
    standard_t(df).map_or(f64::NAN, |dist| dist.inverse_cdf(0.975))
}

/// Narrows a 95% t interval on `df` degrees of freedom, symmetric in logs,
/// to the 90% one around the same centre: the interval of the two one-sided
/// tests (TOST) at 5% each that show equivalence within a band (Schuirmann,
/// "A comparison of the two one-sided tests procedure and the power approach
/// for assessing the equivalence of average bioavailability", 1987).
#[must_use]
pub(crate) fn equivalence_interval(interval: Interval, df: f64) -> Interval {
    let Some(t) = standard_t(df) else {
        return interval;
    };
    let (low, high) = (interval.low.ln(), interval.high.ln());
    let centre = (low + high) / 2.0;
    let half_width = (high - low) / 2.0 * t.inverse_cdf(0.95) / t.inverse_cdf(0.975);
    Interval {
        low: (centre - half_width).exp(),
        high: (centre + half_width).exp(),
    }
}

fn standard_t(df: f64) -> Option<StudentsT> {
    StudentsT::new(0.0, 1.0, df).ok()
}

/// Two-sided p-value of the Mann-Whitney U test that `a` and `b` come from the
/// same distribution: normal approximation with tie and continuity corrections,
/// accurate for the 10+ samples Criterion always takes.
pub(crate) fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        let count = (j - i + 1) as f64;
        tie_term += count * count * count - count;
        rank_sum_a += all[i..=j].iter().filter(|x| x.1).count() as f64 * average_rank;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - n1 * n2 / 2.0).abs() - 0.5).max(0.0) / variance.sqrt();
    statrs::function::erf::erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// One-sided p-value of "B/A lies no further from 1 than `threshold`"
/// against a change beyond it in the direction of `ratio` (a minimum-effect
/// test): the standard error is read from the side of the 95% interval
/// nearer to 1, through Student's t on `df` degrees of
/// freedom, or the normal distribution when `df` is `None`: a bootstrap's
/// interval is read as a normal one, and Welch's t interval, whose quantile
/// is above the normal's, has its error read too large, never too small.
///
/// What a verdict flags is a change beyond the threshold; testing that, and
/// not "no change at all", is what lets [`benjamini_hochberg`] bound the
/// flags of a whole suite: an A/A batch's point-null p-values are uniform, so
/// their correction lets some benchmark through in one batch of twenty, and
/// then its interval's own test decides alone, uncorrected; p-values of a
/// change beyond the threshold sit far above uniform when nothing changed.
#[must_use]
pub(crate) fn beyond_threshold_p(ratio: Estimate, df: Option<f64>, threshold: f64) -> f64 {
    let Estimate {
        point: ratio,
        interval,
    } = ratio;
    let distance = ratio.ln().abs() - threshold.ln_1p();
    let near_bound = if ratio >= 1.0 {
        interval.low
    } else {
        interval.high
    };
    let half_width = (ratio.ln() - near_bound.ln()).abs();
    if half_width == 0.0 || !half_width.is_finite() {
        return if distance > 0.0 { 0.0 } else { 1.0 };
    }
    let quantile_975 = df.map_or(NORMAL_QUANTILE_975, student_t_quantile_975);
    let standard_error = half_width / quantile_975;
    let statistic = distance / standard_error;
    match df {
        Some(df) => standard_t(df).map_or(f64::NAN, |dist| dist.sf(statistic)),
        None => statrs::function::erf::erfc(statistic / std::f64::consts::SQRT_2) / 2.0,
    }
}

/// The normal distribution's 97.5% quantile.
const NORMAL_QUANTILE_975: f64 = 1.959_963_984_540_054;

/// Benjamini-Hochberg adjusted p-values (q-values), in the input order: controls
/// the false discovery rate when many benchmarks are compared at once.
pub(crate) fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[j].total_cmp(&p[i]));
    let mut q = vec![0.0; m];
    let mut running_min: f64 = 1.0;
    for (k, &i) in order.iter().enumerate() {
        let rank = (m - k) as f64;
        running_min = running_min.min(p[i] * m as f64 / rank);
        q[i] = running_min;
    }
    q
}

#[cfg(test)]
mod paired_tests {
    use super::*;

    /// The logs of the per-round ratios of B to A, as `track run` records rounds
    /// (A, B, A, B, ...): per round the ratio of B's fastest sample to A's. The
    /// fastest sample, not the median, because noise on a shared machine only
    /// ever adds time: a burst from another tenant during part of a round moves
    /// the median but rarely every sample (the minimum as the robust timing
    /// estimator: Chen and Revels, "Robust benchmarking in noisy environments",
    /// 2016). `None` with fewer than three rounds on either side.
    fn round_log_ratios(a: &[Vec<f64>], b: &[Vec<f64>]) -> Option<Vec<f64>> {
        (a.len().min(b.len()) >= 3).then(|| {
            a.iter()
                .zip(b)
                .map(|(a, b)| log_ratio_of_fastest(a, b))
                .collect()
        })
    }

    /// One round's log ratio: of B's fastest sample to A's.
    fn log_ratio_of_fastest(a: &[f64], b: &[f64]) -> f64 {
        (fastest(b) / fastest(a)).ln()
    }

    /// One benchmark's comparison over paired rounds, on its own: [`t_interval`]
    /// of its [`round_log_ratios`] without a prior. `None` with fewer than three
    /// rounds on either side.
    fn paired_rounds(a: &[Vec<f64>], b: &[Vec<f64>]) -> Option<RatioTest> {
        round_log_ratios(a, b).map(|logs| t_interval(&logs, None))
    }

    #[test]
    fn three_rounds_five_percent_slower_are_told_apart() {
        let a = vec![vec![100.0, 101.0], vec![103.0, 104.0], vec![99.0, 100.0]];
        let b = vec![vec![105.0, 106.0], vec![108.5, 109.0], vec![104.0, 105.5]];
        let RatioTest { ratio, p } = paired_rounds(&a, &b).expect("three rounds");
        let Interval { low, high } = ratio.interval;
        assert!(low > 1.03 && high < 1.07 && (ratio.point - 1.05).abs() < 0.01 && p < 0.01);
    }

    #[test]
    fn polygammas_match_known_values() {
        let euler = 0.577_215_664_901_532_9;
        let pi2 = std::f64::consts::PI.powi(2);
        for (x, digamma_x, trigamma_x) in [
            (1.0, -euler, pi2 / 6.0),
            (0.5, -euler - 2.0 * 2f64.ln(), pi2 / 2.0),
            (10.0, 2.251_752_589_066_721, 0.105_166_335_681_685_6),
        ] {
            assert!((digamma(x) - digamma_x).abs() < 1e-10, "ψ({x})");
            assert!((trigamma(x) - trigamma_x).abs() < 1e-10, "ψ'({x})");
            assert!((trigamma_inverse(trigamma_x) - x).abs() < 1e-8 * x);
        }
    }

    #[test]
    fn variance_prior_recovers_a_common_spread() {
        // Variances of 4 degrees of freedom around σ² = 1e-4, spread as the
        // χ²₄/4 quantiles at 5%, 15%, ..., 95% spread them: one common noise.
        let quantiles = [
            0.178, 0.331, 0.478, 0.592, 0.706, 0.839, 0.986, 1.155, 1.388, 1.854,
        ];
        let variances: Vec<(f64, f64)> = quantiles.iter().map(|q| (1e-4 * q, 4.0)).collect();
        let prior = fit_variance_prior(&variances).expect("ten variances");
        assert!(
            prior.d0 > 20.0,
            "chance alone explains the spread: d0 {}",
            prior.d0
        );
        assert!((prior.s0_squared / 1e-4 - 1.0).abs() < 0.15, "{prior:?}");
        assert_eq!(prior.pooled_df, 40.0);
        // Variances a hundredfold apart are no common noise: a small d0.
        let mixed: Vec<(f64, f64)> = (0..10).map(|i| (1e-6 * 10f64.powi(i % 3), 4.0)).collect();
        assert!(fit_variance_prior(&mixed).expect("ten").d0 < 5.0);
        assert!(fit_variance_prior(&variances[..2]).is_none());
    }

    #[test]
    fn a_hypervariable_benchmark_keeps_its_own_variance() {
        // Nine benchmarks sharing σ² = 1e-4 (the χ²₄/4 quantiles again) and
        // one whose rounds spread 8%, as vector_math/copy/10000000's did.
        let quantiles = [
            0.178, 0.331, 0.478, 0.592, 0.706, 0.839, 0.986, 1.155, 1.388,
        ];
        let mut variances: Vec<(f64, f64)> = quantiles.iter().map(|q| (1e-4 * q, 4.0)).collect();
        variances.push((0.08f64.powi(2), 4.0));
        let priors = moderation_priors(&variances);
        assert_eq!(priors[9], None, "the 8% benchmark is moderated");
        let shared = priors[0].expect("the others are moderated");
        assert!(priors[..9].iter().all(|p| *p == Some(shared)));
        // Fitted without it: its variance does not inflate the others'.
        assert!((shared.s0_squared / 1e-4 - 1.0).abs() < 0.2, "{shared:?}");
        assert!(shared.d0 > 20.0, "{shared:?}");
        // Without it, nothing is set apart: the largest of nine draws of
        // one common noise is no outlier.
        assert!(
            moderation_priors(&variances[..9])
                .iter()
                .all(Option::is_some)
        );
        // Unusable variances are neither tested nor fitted.
        let mut with_gaps = variances.clone();
        with_gaps.push((f64::NAN, 0.0));
        with_gaps.push((0.0, 3.0));
        let priors = moderation_priors(&with_gaps);
        assert_eq!(priors[9], None);
        assert_eq!(priors[10], Some(shared));
        assert_eq!(priors[11], Some(shared));
    }

    #[test]
    fn hypervariable_benchmarks_do_not_hide_each_other() {
        // Seven benchmarks sharing σ² = 1e-4 on 4 degrees of freedom and
        // three with six times its variance. Fitted to all ten, the prior is
        // wide enough that none of the three is an outlier of it; screened by
        // median and MAD, all three are.
        let quantiles = [0.178, 0.331, 0.478, 0.592, 0.706, 0.839, 0.986];
        let mut variances: Vec<(f64, f64)> = quantiles.iter().map(|q| (1e-4 * q, 4.0)).collect();
        variances.extend([(6e-4, 4.0), (5.5e-4, 4.0), (5e-4, 4.0)]);
        let all = fit_variance_prior(&variances).expect("ten");
        assert!(
            variances[7..]
                .iter()
                .all(|&(v, df)| above_prior_p(v, df, all) > HYPERVARIABLE_P),
            "{all:?}"
        );
        let priors = moderation_priors(&variances);
        assert_eq!(priors[7..], [None, None, None]);
        assert!(priors[..7].iter().all(Option::is_some));
        // Too few to fit a prior: nothing is moderated.
        assert_eq!(moderation_priors(&variances[..2]), vec![None, None]);
    }

    #[test]
    fn a_noisy_round_is_moderated_by_the_other_benchmarks() {
        // 5% slower, but one round of five 11% further off: alone, the interval
        // reaches below 1.02; with a prior of 1% noise on 40 degrees of
        // freedom it does not.
        let logs: Vec<f64> = [0.05, 0.05, 0.05, 0.05, 0.16]
            .iter()
            .map(|r: &f64| r.ln_1p())
            .collect();
        let alone_low = t_interval(&logs, None).ratio.interval.low;
        assert!(alone_low < 1.02, "{alone_low}");
        let prior = VariancePrior {
            d0: 40.0,
            s0_squared: 1e-4,
            pooled_df: 44.0,
        };
        let RatioTest { ratio, p } = t_interval(&logs, Some(prior));
        let (ratio, low) = (ratio.point, ratio.interval.low);
        assert!(
            low > 1.02 && p < 1e-4 && (ratio - 1.071).abs() < 0.001,
            "{low} {p} {ratio}"
        );
    }

    #[test]
    fn one_slow_process_is_set_aside_and_ordinary_rounds_are_not() {
        // Ten benchmarks with a 1% round-to-round spread; benchmark 3's
        // round 2 ran 30% slow on one side, as 12 of 140 processes did in
        // the trial on this repository's string_concat benchmarks.
        let spread = [0.004, -0.011, 0.007, -0.002, 0.009];
        let mut logs: Vec<Vec<f64>> = (0..10)
            .map(|b| {
                spread
                    .iter()
                    .map(|d| d * (1.0 + 0.1 * f64::from(b)))
                    .collect()
            })
            .collect();
        logs[3][2] = 1.3_f64.ln();
        let refs: Vec<&[f64]> = logs.iter().map(Vec::as_slice).collect();
        let bad = outlying_rounds(&refs);
        for (b, flags) in bad.iter().enumerate() {
            let expected: Vec<bool> = (0..5).map(|i| b == 3 && i == 2).collect();
            assert_eq!(flags, &expected, "benchmark {b}");
        }
        // A steady 5% regression moves every round: nothing is an outlier.
        for round in &mut logs[3] {
            *round = 1.05_f64.ln();
        }
        logs[3][2] += 0.004;
        let refs: Vec<&[f64]> = logs.iter().map(Vec::as_slice).collect();
        assert!(outlying_rounds(&refs).iter().flatten().all(|bad| !bad));
    }

    #[test]
    fn a_round_is_spoiled_by_one_side_not_by_a_benchmark_that_switches_levels() {
        // Ten benchmarks whose rounds drift together by 0 to 1% on both sides.
        let drift = [0.0, 0.004, 0.01, 0.002, 0.006];
        let mut rounds: Vec<Vec<(f64, f64)>> = (0..10)
            .map(|b| {
                drift
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let base = 7.0 + f64::from(b);
                        (
                            base + d,
                            base + d + 0.001 * f64::from(u32::try_from(i % 2).unwrap()),
                        )
                    })
                    .collect()
            })
            .collect();
        // Benchmark 3, round 2: B's process ran 30% slow, A's as usual.
        rounds[3][2].1 += 1.3_f64.ln();
        // Benchmark 5 switches between two levels 14% apart, process by
        // process (A slow in round 2, B slow in the others), as
        // `pieces/join/1000` did in an A/A trial.
        let slow = 1.14_f64.ln();
        for (i, round) in rounds[5].iter_mut().enumerate() {
            if i == 2 {
                round.0 += slow;
            } else {
                round.1 += slow;
            }
        }
        let spoiled = spoiled_rounds(&rounds);
        for (b, flags) in spoiled.iter().enumerate() {
            let expected: Vec<bool> = (0..5).map(|i| b == 3 && i == 2).collect();
            assert_eq!(flags, &expected, "benchmark {b}");
        }
        // Judged by the ratio alone, benchmark 5's odd round would go.
        let ratios: Vec<f64> = rounds[5].iter().map(|(a, b)| b - a).collect();
        assert!(outlying_rounds(&[&ratios])[0][2]);
    }

    #[test]
    fn in_a_busy_stretch_one_sides_slow_rounds_are_not_set_aside_alone() {
        // Benchmark 4 is `format/write/1000` in an A/A of a busy stretch on
        // this VM (fastest samples in µs, A then B, 29 rounds): A ran about
        // 1.8 times slow in 12 rounds, too many to be outliers of A's side,
        // B in 8, three of them beside a fast A.
        let write = [
            (35.28, 33.53),
            (18.06, 18.22),
            (35.93, 18.67),
            (18.63, 18.44),
            (18.54, 20.13),
            (18.35, 18.94),
            (30.07, 18.63),
            (33.99, 31.74),
            (28.58, 19.66),
            (31.86, 18.84),
            (21.14, 35.64),
            (19.78, 20.22),
            (20.54, 18.85),
            (35.29, 31.40),
            (19.35, 36.95),
            (19.39, 19.57),
            (19.14, 19.75),
            (19.31, 19.25),
            (18.17, 19.16),
            (20.72, 20.07),
            (35.99, 38.30),
            (37.13, 19.34),
            (27.71, 19.72),
            (34.13, 35.79),
            (18.39, 36.54),
            (19.20, 18.06),
            (18.60, 18.35),
            (18.61, 19.28),
            (34.71, 19.92),
        ];
        // Nine quiet benchmarks with a 1% spread; benchmark 6's round 8 had
        // B's process 1.8 times slow, nothing else.
        let spread = [
            0.004, -0.008, 0.006, -0.002, 0.009, -0.005, 0.001, 0.007, -0.003, 0.0,
        ];
        let mut rounds: Vec<Vec<(f64, f64)>> = (0..10)
            .map(|b| {
                (0..write.len())
                    .map(|i| {
                        let base = 7.0 + f64::from(b);
                        (base + spread[i % 10], base - spread[(i + 3) % 10])
                    })
                    .collect()
            })
            .collect();
        rounds[4] = write
            .iter()
            .map(|(a, b): &(f64, f64)| (a.ln(), b.ln()))
            .collect();
        rounds[6][8].1 += 1.8_f64.ln();
        let spoiled = spoiled_rounds(&rounds);
        // Both sides' lone slow processes go where the ratio stands out: five
        // of A's seven (rounds 8 and 22, 1.5 times slow, are not outliers of
        // the ratio) and B's two. The rest read 0.989, against 0.940 on all
        // rounds.
        let lone_slow = [2, 6, 9, 14, 21, 24, 28];
        for (b, flags) in spoiled.iter().enumerate() {
            let expected: Vec<bool> = (0..write.len())
                .map(|i| (b == 6 && i == 8) || (b == 4 && lone_slow.contains(&i)))
                .collect();
            assert_eq!(flags, &expected, "benchmark {b}");
        }
        let kept: Vec<f64> = rounds[4]
            .iter()
            .zip(&spoiled[4])
            .filter(|(_, spoiled)| !**spoiled)
            .map(|((a, b), _)| b - a)
            .collect();
        let ratio = t_interval(&kept, None).ratio.point;
        assert!((ratio - 1.0).abs() < 0.02, "{ratio}");
        // Judged as outliers of their own side only, B's three would go and
        // A's seven beside a fast B stay.
        let column =
            |pick: fn(&(f64, f64)) -> f64| -> Vec<f64> { rounds[4].iter().map(pick).collect() };
        let off = |logs: Vec<f64>| outlying_rounds(&[&logs]).remove(0);
        let (ratio, a_off, b_off) = (
            off(column(|(a, b)| b - a)),
            off(column(|(a, _)| *a)),
            off(column(|(_, b)| *b)),
        );
        let one_sided = |own: &[bool], other: &[bool]| -> Vec<usize> {
            (0..write.len())
                .filter(|&i| ratio[i] && own[i] && !other[i])
                .collect()
        };
        assert_eq!(one_sided(&b_off, &a_off), vec![10, 14, 24]);
        assert!(one_sided(&a_off, &b_off).is_empty());
    }

    #[test]
    fn a_majority_of_rounds_is_always_kept() {
        // Two of five rounds far off, on a benchmark alone: at most two go.
        let logs = [0.0, 0.001, -0.001, 0.4, 0.5];
        let bad = outlying_rounds(&[&logs]);
        assert_eq!(bad[0].iter().filter(|b| **b).count(), 2, "{bad:?}");
        // Two rounds give no majority to judge by.
        assert_eq!(outlying_rounds(&[&[0.0, 0.4]]), vec![vec![false, false]]);
    }

    #[test]
    fn welch_matches_a_hand_computation() {
        // a: mean 0, s² = 4/3 (n 4); b: mean 1, s² = 1 (n 3). se² = 1/3 + 1/3,
        // df = (2/3)² / ((1/3)²/3 + (1/3)²/2) = 4.8, so the 97.5% quantile lies
        // between the tables' 2.571 (df 5) and 2.776 (df 4); t = 1.2247, p ≈ 0.28.
        let RatioTest { ratio, p } = welch_log_interval(&[-1.0, 1.0, -1.0, 1.0], &[0.0, 1.0, 2.0]);
        let Estimate {
            point: ratio,
            interval: Interval { low, high },
        } = ratio;
        let se = (2.0_f64 / 3.0).sqrt();
        assert!((ratio.ln() - 1.0).abs() < 1e-12);
        for critical in [(1.0 - low.ln()) / se, (high.ln() - 1.0) / se] {
            assert!(critical > 2.571 && critical < 2.776, "{critical}");
        }
        assert!(p > 0.25 && p < 0.30, "{p}");
    }

    #[test]
    fn student_t_matches_published_tables() {
        // Two-sided 5% critical values: df 1 -> 12.706, 4 -> 2.776, 30 -> 2.042.
        for (df, critical) in [(1.0, 12.706), (4.0, 2.776), (30.0, 2.042)] {
            assert!(
                (student_t_quantile_975(df) - critical).abs() < 1e-3,
                "df {df}"
            );
        }
        assert!((student_t_two_sided_p(2.776, 4.0) - 0.05).abs() < 1e-4);
        assert!((student_t_two_sided_p(0.0, 4.0) - 1.0).abs() < 1e-12);
    }

    /// Rounds whose every sample drifts by `drift[r]`, with B slower by `slowdown`.
    fn rounds(drift: &[f64], slowdown: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let samples = |scale: f64| {
            (0..30)
                .map(|i| 100.0 * scale * (1.0 + 0.001 * f64::from(i % 7)))
                .collect::<Vec<f64>>()
        };
        let a = drift.iter().map(|d| samples(1.0 + d)).collect();
        let b = drift
            .iter()
            .map(|d| samples((1.0 + d) * (1.0 + slowdown)))
            .collect();
        (a, b)
    }

    #[test]
    fn drift_between_rounds_is_not_a_change_but_a_steady_slowdown_is() {
        // A/A: each round shifts both sides alike, but A and B rounds are
        // measured at different moments: model that with opposite drifts.
        let a: Vec<Vec<f64>> = [0.0, 0.03, -0.02, 0.01, 0.0]
            .iter()
            .map(|d| vec![100.0 * (1.0 + d); 30])
            .collect();
        let b: Vec<Vec<f64>> = [0.02, 0.0, 0.0, -0.01, 0.025]
            .iter()
            .map(|d| vec![100.0 * (1.0 + d); 30])
            .collect();
        let RatioTest { ratio, p } = paired_rounds(&a, &b).expect("five rounds");
        let Interval { low, high } = ratio.interval;
        assert!(
            low < 1.02 && high > 1.0 && p > 0.05,
            "A/A: [{low}, {high}], p {p}"
        );
        let (a, b) = rounds(&[0.0, 0.02, -0.01, 0.015, 0.005], 0.05);
        let RatioTest { ratio, p } = paired_rounds(&a, &b).expect("five rounds");
        let (ratio, low) = (ratio.point, ratio.interval.low);
        assert!(
            (ratio - 1.05).abs() < 1e-9 && low > 1.02 && p < 0.001,
            "5%: {ratio}, low {low}, p {p}"
        );
        assert!(paired_rounds(&a[..2], &b[..2]).is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The selection picks what sorting picks, bit for bit: odd and even
    /// counts, ties, both zeros, values spread over many magnitudes.
    #[test]
    fn the_median_by_selection_is_the_median_by_sorting() {
        let sorted_median = |values: &[f64]| {
            let mut sorted = values.to_vec();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            if n % 2 == 1 {
                sorted[n / 2]
            } else {
                (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
            }
        };
        let mut rng = Pcg64::seed_from_u64(7);
        for n in 1..=64 {
            for _ in 0..20 {
                let values: Vec<f64> = (0..n)
                    .map(|_| match rng.next_u64() % 5 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => 3.0,
                        _ => f64::from_bits(rng.next_u64() >> 2) * 1e-300,
                    })
                    .collect();
                assert_eq!(
                    median(&values).to_bits(),
                    sorted_median(&values).to_bits(),
                    "{values:?}"
                );
            }
        }
        assert!(median(&[]).is_nan());
    }

    fn estimate(point: f64, low: f64, high: f64) -> Estimate {
        Estimate {
            point,
            interval: Interval { low, high },
        }
    }

    #[test]
    fn the_chance_to_flag_follows_the_estimate_and_the_rounds_left() {
        // Five rounds, unmoderated (4 degrees of freedom); threshold 2%.
        let chance = |centre: f64, spread: f64, more| {
            let interval = Interval {
                low: centre / spread,
                high: centre * spread,
            };
            chance_to_flag(interval, 5, 4.0, more, 0.02)
        };
        // Centred at +5%, ±4%: likely flagged, the likelier the more rounds left.
        assert_eq!(chance(1.05, 1.04, 0), 0.0);
        let (two, five) = (chance(1.05, 1.04, 2), chance(1.05, 1.04, 5));
        assert!(two > 0.3 && two < five && five > 0.6, "{two} {five}");
        // Centred past the threshold, +2.5% ±2.75%: the rounds so far may
        // be low by chance, so a flag is in reach; at +1.7% hardly.
        let on_it = chance(1.025, 1.0275, 7);
        assert!(on_it > 0.1 && on_it < 0.3, "{on_it}");
        let short = chance(1.017, 1.0275, 7);
        assert!(short > 0.01 && short < 0.1, "{short}");
        // Centred on 1, ±30% or ±2.5%: no change in reach.
        let noisy = chance(1.0, 1.3, 5);
        assert!(noisy < 0.1, "{noisy}");
        let quiet = chance(1.0, 1.025, 5);
        assert!(quiet < 0.01, "{quiet}");
        // An improvement counts as much as a regression.
        let improved = chance(1.0 / 1.05, 1.04, 5);
        assert!((improved - five).abs() < 1e-12, "{improved} {five}");
    }

    #[test]
    fn the_equivalence_interval_is_the_ninety_percent_one() {
        // t quantiles on 4 degrees of freedom: 2.131847 (95%), 2.776445 (97.5%).
        let interval = Interval {
            low: (-0.1f64).exp(),
            high: 0.1f64.exp(),
        };
        let Interval { low, high } = equivalence_interval(interval, 4.0);
        let half_width = 0.1 * 2.131_847 / 2.776_445;
        assert!((low.ln() + half_width).abs() < 1e-6, "{low}");
        assert!((high.ln() - half_width).abs() < 1e-6, "{high}");
        // The centre stays where it was.
        let interval = Interval {
            low: 1.01,
            high: 1.03,
        };
        let Interval { low, high } = equivalence_interval(interval, 9.0);
        assert!(((low * high).sqrt() - (1.01f64 * 1.03).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn beyond_the_threshold_is_the_one_sided_t_test_of_the_shifted_logs() {
        // B about 5% slower over five rounds, threshold 2%: the p-value of
        // "no more than 2% slower" is the one-sided t test of the log ratios
        // less ln 1.02, half its two-sided p-value.
        let logs = [0.05, 0.045, 0.062, 0.052, 0.041];
        let ratio = t_interval(&logs, None).ratio;
        let p = beyond_threshold_p(ratio, Some(4.0), 0.02);
        let shifted: Vec<f64> = logs.iter().map(|l| l - 0.02f64.ln_1p()).collect();
        let two_sided = t_interval(&shifted, None).p;
        assert!((p - two_sided / 2.0).abs() < 1e-12, "{p} {two_sided}");
        // An improvement of the same size is as far beyond the threshold.
        let inverse = estimate(
            1.0 / ratio.point,
            1.0 / ratio.interval.high,
            1.0 / ratio.interval.low,
        );
        let improved = beyond_threshold_p(inverse, Some(4.0), 0.02);
        assert!((improved - p).abs() < 1e-12, "{improved} {p}");
        // On the threshold, one half; at no change, far above any alpha.
        let on_it = beyond_threshold_p(estimate(1.02, 1.0, 1.04), Some(9.0), 0.02);
        assert!((on_it - 0.5).abs() < 1e-12);
        assert!(beyond_threshold_p(estimate(1.0, 0.99, 1.01), Some(9.0), 0.02) > 0.99);
    }

    #[test]
    fn beyond_the_threshold_reads_other_intervals_as_normal_ones() {
        // exp(0.05 ± 1.96 × 0.01): z = (0.05 - ln 1.02) / 0.01 = 3.0197,
        // whose upper tail is 0.001265 (normal tables).
        let half_width = NORMAL_QUANTILE_975 * 0.01;
        let ratio = estimate(
            0.05f64.exp(),
            (0.05 - half_width).exp(),
            (0.05 + half_width).exp(),
        );
        let p = beyond_threshold_p(ratio, None, 0.02);
        assert!((p - 0.001_265).abs() < 2e-6, "{p}");
        // An exact ratio (an interval of width zero) is beyond or is not.
        assert_eq!(beyond_threshold_p(Estimate::exact(1.03), None, 0.02), 0.0);
        assert_eq!(beyond_threshold_p(Estimate::exact(1.01), None, 0.02), 1.0);
    }

    #[test]
    fn bh_matches_hand_computation() {
        // p sorted: 0.01, 0.02, 0.03, 0.5 with m=4 → 0.04, 0.04, 0.04, 0.5
        let q = benjamini_hochberg(&[0.5, 0.01, 0.03, 0.02]);
        let expected = [0.5, 0.04, 0.04, 0.04];
        for (got, want) in q.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{q:?}");
        }
    }

    #[test]
    fn mann_whitney_separates_shifted_samples_and_not_equal_ones() {
        let a: Vec<f64> = (0..50).map(|i| 100.0 + (i * 37 % 50) as f64).collect();
        let shifted: Vec<f64> = a.iter().map(|x| x + 30.0).collect();
        assert!(mann_whitney_p(&a, &shifted) < 1e-6);
        assert!(mann_whitney_p(&a, &a) > 0.9);
    }

    #[test]
    fn mann_whitney_handles_ties_like_the_textbook_formula() {
        // U = 4.5, three tied pairs; tie-corrected variance and continuity
        // correction (scipy's `method="asymptotic"`) worked by hand give p = 0.06602.
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert!((p - 0.066015).abs() < 1e-5, "p = {p}");
    }

    #[test]
    fn bootstrap_is_reproducible_and_brackets_the_ratio() {
        let a: Vec<f64> = (0..100).map(|i| 100.0 + (i % 7) as f64).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.1).collect();
        let first = bootstrap_ratio_of_medians(&a, &b, 2000, 1);
        assert_eq!(first, bootstrap_ratio_of_medians(&a, &b, 2000, 1));
        let Interval { low, high } = first.interval;
        assert!(low <= 1.1 && 1.1 <= high && low > 1.0);
        let a = [10.0, 11.0, 10.5, 9.5, 10.2];
        let b = [20.0, 22.0, 21.0, 19.0, 20.4];
        let ratio = bootstrap_ratio_of_medians(&a, &b, 1000, 7);
        assert!((ratio.point - 2.0).abs() < 1e-9);
        assert!(ratio.interval.low <= ratio.point && ratio.point <= ratio.interval.high);
    }
}
