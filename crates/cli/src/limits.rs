//! What the numeric options accept, checked by clap before any work starts
//! (a bad value is a usage error, exit 2), and the size checks that keep a
//! run's memory bounded whatever the options and the data ask for.

use std::ops::{Bound, RangeBounds};

use anyhow::bail;
use clap::builder::RangedU64ValueParser;

/// More worker threads than this only add start-up time: an evaluation has
/// 30 folds, and starting 100 000 threads took minutes.
pub const MAX_JOBS: u64 = 256;

/// The largest `eta0` taken; with features within
/// ±`Dataset::MAX_ABS_FEATURE` (1e64) it keeps every margin finite (see
/// there for the bound).
pub const MAX_ETA0: f64 = 1e64;

/// Index lists cross-validation may hold at once: every split keeps a
/// train and a test list of the dataset's rows, so
/// `splits · repeats · rows` words, here 1 GiB of them at most.
pub const MAX_CV_INDICES: u64 = 1 << 27;

/// `--jobs`: 0 (one worker per core) to [`MAX_JOBS`].
pub fn jobs() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(0..=MAX_JOBS)
}

/// A whole-number option within `range`.
pub fn count(range: impl RangeBounds<u64>) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(range)
}

/// A float option that must be finite and within `range`; `expected` says
/// the range in words for the error message.
pub fn float(
    range: (Bound<f64>, Bound<f64>),
    expected: &'static str,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |text: &str| {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not a number"))?;
        // Named as typed: `{value}` would write 1e300 out in 301 digits.
        let typed = text.trim();
        if !value.is_finite() {
            return Err(format!("{typed} is not a finite number"));
        }
        if !range.contains(&value) {
            return Err(format!("{typed} is out of range: expected {expected}"));
        }
        Ok(value)
    }
}

/// `--eta0`: above 0, at most [`MAX_ETA0`].
pub fn eta0() -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    float(
        (Bound::Excluded(0.0), Bound::Included(MAX_ETA0)),
        "a number above 0 and at most 1e64",
    )
}

/// `--step-size`: from 0 to 1e100, so that ten million steps of ten
/// standard deviations each keep `alpha` finite.
pub fn step_size() -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    float(
        (Bound::Included(0.0), Bound::Included(1e100)),
        "a number from 0 to 1e100",
    )
}

/// A finite float of at least 0 (`--alpha`).
pub fn non_negative() -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    float(
        (Bound::Included(0.0), Bound::Unbounded),
        "a finite number >= 0",
    )
}

/// Fails when cross-validating `rows` samples `splits × repeats` times
/// would hold more than [`MAX_CV_INDICES`] row indices.
pub fn check_cv_size(rows: usize, splits: usize, repeats: usize) -> anyhow::Result<()> {
    let indices = (rows as u64)
        .checked_mul(splits as u64)
        .and_then(|n| n.checked_mul(repeats as u64));
    match indices {
        Some(n) if n <= MAX_CV_INDICES => Ok(()),
        _ => bail!(
            "{splits} folds x {repeats} repeats of {rows} rows would hold more than {} million row indices ({} GiB) at once; use fewer repeats or folds",
            MAX_CV_INDICES / 1_000_000,
            (MAX_CV_INDICES * 8) >> 30
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_must_be_finite_and_in_range() {
        let parse = eta0();
        assert_eq!(parse("0.5"), Ok(0.5));
        assert_eq!(parse("1e64"), Ok(1e64));
        for bad in ["NaN", "inf", "-inf", "0", "-1", "1e65", "x"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(non_negative()("0").is_ok());
        assert!(non_negative()("-0.1").is_err());
    }

    #[test]
    fn cv_size_counts_every_split_and_never_overflows() {
        assert!(check_cv_size(1000, 10, 3).is_ok());
        assert!(check_cv_size(1000, 10_000, 10_000).is_err());
        assert!(check_cv_size(usize::MAX, usize::MAX, 2).is_err());
    }
}
