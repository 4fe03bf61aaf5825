//! The statistics behind a verdict. Times on a shared machine are skewed and
//! heavy-tailed, so everything here is rank- or median-based: no normality assumed.

use rand_pcg::Pcg64;
use rand_pcg::rand_core::{Rng as _, SeedableRng as _};

/// The median of `values` (mean of the middle two for an even count). NaN if empty.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Ratio `median(b) / median(a)` with a percentile-bootstrap 95% interval.
/// Deterministic for a given `seed` (PCG64), so a report can be reproduced.
///
/// ```
/// let a = [10.0, 11.0, 10.5, 9.5, 10.2];
/// let b = [20.0, 22.0, 21.0, 19.0, 20.4];
/// let (ratio, low, high) = proflab_track::bootstrap_ratio_of_medians(&a, &b, 1000, 7);
/// assert!((ratio - 2.0).abs() < 1e-9 && low <= ratio && ratio <= high);
/// ```
pub fn bootstrap_ratio_of_medians(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
) -> (f64, f64, f64) {
    let ratio = median(b) / median(a);
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut draw = |values: &[f64], buffer: &mut Vec<f64>| {
        buffer.clear();
        // Modulo bias is below 1e-16 for sample counts this small.
        buffer.extend(
            (0..values.len()).map(|_| values[(rng.next_u64() % values.len() as u64) as usize]),
        );
        median(buffer)
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
    (ratio, at(0.025), at(0.975))
}

/// Two-sided p-value of the Mann-Whitney U test that `a` and `b` come from the
/// same distribution: normal approximation with tie and continuity corrections,
/// accurate for the 10+ samples Criterion always takes.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
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
    libm::erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// Benjamini-Hochberg adjusted p-values (q-values), in the input order: controls
/// the false discovery rate when many benchmarks are compared at once.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
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
mod tests {
    use super::*;

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
        assert!(first.1 <= 1.1 && 1.1 <= first.2 && first.1 > 1.0);
    }
}
