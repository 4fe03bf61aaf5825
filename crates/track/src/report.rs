//! The static HTML dashboard: one self-contained file with inline SVG charts,
//! no script and no network, so it opens from `file://` and in any CI artifact viewer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::Comparison;
use crate::changes::{ChangeOptions, ChangePoint, change_points, commits_in_order};
use crate::compare::{
    ComparisonReport, check_machines, compare_runs, format_value, median_interval,
};
use crate::environment::{git, short_sha};
use crate::model::CommitSeries;
use crate::{CompareOptions, History, Metric, TrackError, Verdict, compare};

/// One benchmark at one commit: median and the 95% interval of the median
/// (nanoseconds, or instructions: an interval of width zero).
struct Point {
    commit: String,
    median: f64,
    low: f64,
    high: f64,
    verdict: Verdict,
    /// B/A against the previous commit with its 95% interval: the numbers
    /// the verdict was reached on.
    change: Option<(f64, f64, f64)>,
}

/// What git says of a commit, for the commits table; empty for labels and
/// commits git does not know.
struct CommitInfo {
    date: String,
    subject: String,
}

fn commit_info(repo: Option<&Path>, commit: &str) -> CommitInfo {
    let shown = repo.and_then(|repo| {
        git(
            repo,
            &[
                "show",
                "-s",
                "--format=%cs%x09%s",
                &format!("{commit}^{{commit}}"),
                "--",
            ],
        )
        .ok()
    });
    let (date, subject) = shown
        .as_deref()
        .and_then(|line| line.split_once('\t'))
        .unwrap_or(("", ""));
    CommitInfo {
        date: date.to_owned(),
        subject: subject.to_owned(),
    }
}

/// Criterion's own page for benchmark `id` under `criterion`, if it is
/// there, as a link relative to the dashboard's folder `from`. The folder
/// name follows Criterion's `make_filename_safe` (each part of the id with
/// `?"/\*<>:|^` replaced and cut to 64 bytes); a page not found is no link.
fn criterion_page(criterion: &Path, from: &Path, id: &str) -> Option<String> {
    let mut page = criterion.to_owned();
    for part in id.split('/') {
        let mut safe: String = part
            .chars()
            .map(|c| if "?\"/\\*<>:|^".contains(c) { '_' } else { c })
            .collect();
        while safe.len() > 64 {
            safe.pop();
        }
        page.push(safe);
    }
    page.push("report/index.html");
    let page = page.canonicalize().ok()?;
    let from = from.canonicalize().ok()?;
    let common = page
        .components()
        .zip(from.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative = PathBuf::new();
    for _ in from.components().skip(common) {
        relative.push("..");
    }
    relative.extend(page.components().skip(common));
    Some(relative.to_string_lossy().into_owned())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes `<dir>/index.html`: a summary table (latest change per benchmark),
/// then per benchmark a chart of median and interval across commits in the
/// order of the git history of `repo` (else the order they were first
/// recorded), regressions against the previous commit in red, and the change
/// points of its history (E-Divisive, [`crate::change_points`]) as dashed lines.
///
/// `criterion` is the Criterion output folder whose pages benchmarks link to,
/// when they are there.
pub fn write_report(
    history: &History,
    repo: Option<&Path>,
    criterion: Option<&Path>,
    dir: &Path,
    options: &CompareOptions,
) -> Result<PathBuf, TrackError> {
    std::fs::create_dir_all(dir).map_err(|source| TrackError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let loaded = commits_in_order(history, repo)?;
    let commits: Vec<String> = loaded.iter().map(|c| c.commit.clone()).collect();
    let mut metrics: BTreeMap<String, Metric> = BTreeMap::new();
    let mut series: BTreeMap<String, Vec<Point>> = BTreeMap::new();
    for (index, commit) in loaded.iter().enumerate() {
        let changes: BTreeMap<String, Comparison> = match index.checked_sub(1) {
            Some(previous) => against_previous(history, &loaded[previous], commit, options)?
                .benchmarks
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect(),
            None => BTreeMap::new(),
        };
        for (id, runs) in &commit.benchmarks {
            if options.filter.as_ref().is_some_and(|f| !f.is_match(id)) {
                continue;
            }
            metrics.insert(id.clone(), runs.metric);
            let median = median_interval(&runs.pooled(), options);
            let (median, low, high) = (median.point, median.interval.low, median.interval.high);
            series.entry(id.clone()).or_default().push(Point {
                commit: commit.commit.clone(),
                median,
                low,
                high,
                verdict: changes.get(id).map_or(Verdict::Unchanged, |c| c.verdict),
                change: changes.get(id).map(|c| (c.ratio, c.ci_low, c.ci_high)),
            });
        }
    }
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>proflab benchmark history</title>\n<style>\
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse}\
td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}\
.regressed{color:#c00;font-weight:bold}.improved{color:#070}section{margin-top:2em}svg{background:#fafafa}\
</style></head><body>\n<h1>Benchmark history</h1>\n",
    );
    let _ = writeln!(
        html,
        "<p>{} commits, {} benchmarks. Median per commit with its 95% bootstrap interval. The change against the previous commit is the comparison's B/A with its 95% interval (paired rounds when one <code>track run</code> measured both); red marks a regression: the whole interval above {:+.1}% and the Benjamini-Hochberg q of a change beyond it below {}.</p>",
        commits.len(),
        series.len(),
        options.threshold * 100.0,
        options.alpha
    );
    html.push_str("<h2>Commits</h2>\n<table id=\"commits\"><tr><th>commit</th><th>date</th><th>subject</th></tr>\n");
    for commit in &commits {
        let info = commit_info(repo, commit);
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(short_sha(commit, 12)),
            escape(&info.date),
            escape(&info.subject)
        );
    }
    html.push_str("</table>\n<h2>Latest change</h2>\n");
    html.push_str("<table id=\"summary\"><tr><th>benchmark</th><th>latest median</th><th>vs previous (95% CI)</th><th>verdict</th><th>Criterion</th></tr>\n");
    for (id, points) in &series {
        let last = &points[points.len() - 1];
        let change = last.change.map_or_else(
            || "–".to_owned(),
            |(ratio, low, high)| {
                let percent = |r: f64| (r - 1.0) * 100.0;
                format!(
                    "{:+.1}% [{:+.1}%, {:+.1}%]",
                    percent(ratio),
                    percent(low),
                    percent(high)
                )
            },
        );
        let verdict = format!("{:?}", last.verdict).to_lowercase();
        let page = criterion
            .and_then(|criterion| criterion_page(criterion, dir, id))
            .map_or_else(String::new, |href| {
                format!("<a href=\"{}\">report</a>", escape(&href))
            });
        let _ = writeln!(
            html,
            "<tr><td><a href=\"#{0}\">{0}</a></td><td>{1}</td><td>{change}</td><td class=\"{verdict}\">{verdict}</td><td>{page}</td></tr>",
            escape(id),
            format_value(metrics.get(id).copied().unwrap_or_default(), last.median)
        );
    }
    html.push_str("</table>\n");
    for (id, points) in &series {
        let _ = writeln!(html, "<section id=\"{0}\"><h2>{0}</h2>", escape(id));
        let levels: Vec<f64> = points.iter().map(|p| p.median).collect();
        let changes = change_points(&levels, &ChangeOptions::default());
        html.push_str(&chart(
            points,
            &changes,
            metrics.get(id).copied().unwrap_or_default(),
        ));
        html.push_str("</section>\n");
    }
    html.push_str("</body></html>\n");

    let path = dir.join("index.html");
    proflab_output::write(&path, html).map_err(|source| TrackError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// One commit against the one before it: the paired rounds of the newest
/// batch that measured both, else their runs as independent ones.
fn against_previous(
    history: &History,
    previous: &CommitSeries,
    commit: &CommitSeries,
    options: &CompareOptions,
) -> Result<ComparisonReport, TrackError> {
    check_machines(
        &previous.machines.union(&commit.machines).cloned().collect(),
        options,
    )?;
    match history.latest_batch(&previous.commit, &commit.commit)? {
        Some(_) => compare(history, &previous.commit, &commit.commit, options),
        None => Ok(compare_runs(previous, commit, options)),
    }
}

/// An SVG line chart of medians with interval whiskers, commits on the x axis.
/// Change points are dashed lines between the last point of the old level and
/// the first of the new, labelled with the size of the shift.
fn chart(points: &[Point], changes: &[ChangePoint], metric: Metric) -> String {
    let (width, height, pad) = (640.0, 220.0, 50.0);
    let low = points.iter().map(|p| p.low).fold(f64::INFINITY, f64::min);
    let high = points
        .iter()
        .map(|p| p.high)
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if high > low {
        high - low
    } else {
        low.abs().max(1.0) * 0.1
    };
    let y = |v: f64| height - pad - (v - low) / span * (height - 2.0 * pad);
    let step = (width - 2.0 * pad) / (points.len().max(2) - 1) as f64;
    let x = |i: usize| pad + i as f64 * step;
    let mut svg = format!(
        "<svg class=\"chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">"
    );
    let _ = write!(
        svg,
        "<text x=\"4\" y=\"{}\" font-size=\"11\">{}</text><text x=\"4\" y=\"{}\" font-size=\"11\">{}</text>",
        pad - 8.0,
        format_value(metric, high),
        height - pad + 16.0,
        format_value(metric, low)
    );
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.median)))
        .collect();
    let _ = write!(
        svg,
        "<polyline fill=\"none\" stroke=\"#36c\" stroke-width=\"2\" points=\"{}\"/>",
        line.join(" ")
    );
    for (i, p) in points.iter().enumerate() {
        let color = if p.verdict == Verdict::Regressed {
            "#c00"
        } else {
            "#36c"
        };
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"{color}\"/><circle class=\"{3}\" cx=\"{0:.1}\" cy=\"{4:.1}\" r=\"4\" fill=\"{color}\"><title>{5}: {6} [{7}, {8}]</title></circle>\
<text x=\"{0:.1}\" y=\"{9}\" font-size=\"10\" text-anchor=\"middle\">{10}</text>",
            x(i),
            y(p.low),
            y(p.high),
            format!("{:?}", p.verdict).to_lowercase(),
            y(p.median),
            escape(short_sha(&p.commit, 12)),
            format_value(metric, p.median),
            format_value(metric, p.low),
            format_value(metric, p.high),
            height - 8.0,
            escape(short_sha(&p.commit, 7))
        );
    }
    for change in changes {
        let between = (x(change.index - 1) + x(change.index)) / 2.0;
        let _ = write!(
            svg,
            "<line class=\"change\" x1=\"{between:.1}\" x2=\"{between:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\" stroke-dasharray=\"4 3\"><title>level shift {:+.1}% (confidence {:.3})</title></line>\
<text x=\"{between:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{:+.1}%</text>",
            pad - 20.0,
            height - pad,
            (change.ratio - 1.0) * 100.0,
            1.0 - change.p,
            pad - 24.0,
            (change.ratio - 1.0) * 100.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::in_git_order;

    #[test]
    fn commits_follow_the_git_history_and_unknown_ones_come_last() {
        let repo = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| git(repo.path(), args).unwrap();
        run(&["init", "-q", "-b", "main"]);
        let mut shas = Vec::new();
        for message in ["one", "two", "three"] {
            run(&[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                message,
            ]);
            shas.push(run(&["rev-parse", "HEAD"]));
        }
        let recorded = vec![
            shas[2].clone(),
            shas[0].clone(),
            "feedface".to_owned(),
            shas[1].clone(),
        ];
        let expected = [&shas[0], &shas[1], &shas[2], "feedface"];
        assert_eq!(in_git_order(recorded.clone(), Some(repo.path())), expected);
        assert_eq!(in_git_order(recorded.clone(), None), recorded);
    }
}
