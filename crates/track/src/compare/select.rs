//! Which runs a comparison judges, loaded from the store: the paired rounds
//! of a named batch, else of the newest complete batch of the two commits,
//! else every run of each commit as independent runs.

use std::collections::BTreeSet;

use super::judge::{CompareOptions, ComparisonReport, compare_paired, compare_runs};
use crate::model::PairedSeries;
use crate::{History, TrackError};

/// Compares commit `b` against commit `a` (SHAs or unique prefixes of
/// recorded ones): the paired rounds of `options.batch`, or of the newest
/// batch that measured both, else every run of each as independent runs.
pub fn compare(
    history: &History,
    a: &str,
    b: &str,
    options: &CompareOptions,
) -> Result<ComparisonReport, TrackError> {
    if let Some(series) = named_batch(history, a, b, options)? {
        check_machines(&series.machines, options)?;
        return Ok(compare_paired(&series, options));
    }
    let (a, b) = (history.resolve(a)?, history.resolve(b)?);
    let batch = match (options.batch, options.unpaired) {
        (_, true) => None,
        (Some(batch), false) => Some(batch),
        (None, false) => history.latest_batch(&a, &b)?,
    };
    // Interrupted batches newer than the one judged: left out, and said so.
    let skipped_incomplete: Vec<i64> = if options.batch.is_none() && !options.unpaired {
        history
            .batches_of(&a, &b)?
            .into_iter()
            .filter(|(id, complete)| !complete && batch.is_none_or(|batch| *id > batch))
            .map(|(id, _)| id)
            .collect()
    } else {
        Vec::new()
    };
    let with_skipped = |report: ComparisonReport| ComparisonReport {
        skipped_incomplete: skipped_incomplete.clone(),
        ..report
    };
    if let Some(batch) = batch {
        let series = history.paired_series(batch)?;
        let series = if (series.a.as_str(), series.b.as_str()) == (a.as_str(), b.as_str()) {
            series
        } else if (series.b.as_str(), series.a.as_str()) == (a.as_str(), b.as_str()) {
            series.swapped()
        } else {
            return Err(TrackError::BatchMismatch {
                batch,
                a: series.a,
                b: series.b,
            });
        };
        check_machines(&series.machines, options)?;
        return Ok(with_skipped(compare_paired(&series, options)));
    }
    let (a, b) = (history.commit_series(&a)?, history.commit_series(&b)?);
    check_machines(&a.machines.union(&b.machines).cloned().collect(), options)?;
    Ok(with_skipped(compare_runs(&a, &b, options)))
}

/// The batch of `options.batch` seen from `a`, when `a` and `b` begin its
/// two commits' SHAs: a batch named by its id speaks for its own commits,
/// even one whose every benchmark was left out as identical code (it has no
/// run to resolve a reference by).
fn named_batch(
    history: &History,
    a: &str,
    b: &str,
    options: &CompareOptions,
) -> Result<Option<PairedSeries>, TrackError> {
    let (Some(batch), false) = (options.batch, options.unpaired) else {
        return Ok(None);
    };
    let (batch_a, batch_b) = history.batch_commits(batch)?;
    let begins = |reference: &str, sha: &str| !reference.is_empty() && sha.starts_with(reference);
    if begins(a, &batch_a) && begins(b, &batch_b) {
        Ok(Some(history.paired_series(batch)?))
    } else if begins(a, &batch_b) && begins(b, &batch_a) {
        Ok(Some(history.paired_series(batch)?.swapped()))
    } else {
        Ok(None)
    }
}

/// Refuses runs from more than one machine unless the options allow it.
pub(crate) fn check_machines(
    machines: &BTreeSet<String>,
    options: &CompareOptions,
) -> Result<(), TrackError> {
    let mut all = machines.iter();
    match (all.next(), all.next()) {
        (Some(first), Some(other)) if !options.allow_different_machines => {
            Err(TrackError::DifferentMachines {
                a: first.clone(),
                b: other.clone(),
            })
        }
        _ => Ok(()),
    }
}
