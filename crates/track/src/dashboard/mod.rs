//! `track report`: the static dashboard, in three steps that run one way.
//! This module selects (git's first-parent line of one branch, the store's
//! records of its commits, every batch), [`timeline`] analyses what was
//! selected into a typed [`Dashboard`] without reading anything, and [`html`]
//! renders that model as one page whose CSS and script are files of this
//! folder and whose data is embedded as JSON. The store is read through
//! [`History`] alone, so SQLite and PostgreSQL take the same path.

mod html;
mod timeline;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use timeline::{Dashboard, LineCommit, TimelineInput, analyse};

use crate::changes::ChangeOptions;
use crate::compare::CompareOptions;
use crate::environment::git;
use crate::{History, TrackError};

/// What `track report` is asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// The folder `index.html` is written to.
    pub output: PathBuf,
    /// The repository whose branch is drawn; without one, only batches are shown.
    pub repo: Option<PathBuf>,
    /// The branch whose first-parent line is drawn [default: the branch
    /// `origin/HEAD` names, else the one checked out].
    pub branch: Option<String>,
    /// A commit's page on the forge, `{sha}` standing for the full SHA
    /// [default: from the `origin` remote when it is a known forge].
    pub commit_url: Option<String>,
    /// Criterion's output folder, whose pages benchmarks link to when there.
    pub criterion: Option<PathBuf>,
    pub compare: CompareOptions,
    /// The change points' settings: the same as `track changes` uses.
    pub changes: ChangeOptions,
}

/// Writes `<output>/index.html` and returns its path.
pub fn write_report(history: &History, options: &ReportOptions) -> Result<PathBuf, TrackError> {
    let repo = options.repo.as_deref();
    let branch = match (&options.branch, repo) {
        (Some(branch), _) => branch.clone(),
        (None, Some(repo)) => default_branch(repo),
        (None, None) => String::new(),
    };
    let line = match (repo, &options.branch) {
        (Some(repo), Some(_)) => first_parent_line(repo, &branch)?,
        // The branch found is one git named, so only an unborn one (a
        // repository without a commit yet) fails: it has no line to draw.
        (Some(repo), None) => first_parent_line(repo, &branch).unwrap_or_default(),
        (None, _) => Vec::new(),
    };
    let mut recorded_commits: Vec<String> = history.runs()?.into_iter().map(|r| r.commit).collect();
    recorded_commits.sort_unstable();
    recorded_commits.dedup();
    let mut recorded = Vec::new();
    for commit in line
        .iter()
        .filter(|c| recorded_commits.binary_search(&c.sha).is_ok())
    {
        recorded.extend(history.commit_series_by_machine(&commit.sha)?);
    }
    let mut batches = Vec::new();
    for batch in history.batches()? {
        let series = history.paired_series(batch.id)?;
        batches.push((batch, series));
    }
    let dashboard = analyse(
        &TimelineInput {
            branch: &branch,
            line: &line,
            recorded: &recorded,
            batches: &batches,
        },
        &options.compare,
        &options.changes,
    );

    std::fs::create_dir_all(&options.output).map_err(|source| TrackError::Write {
        path: options.output.clone(),
        source,
    })?;
    let commit_url = options
        .commit_url
        .clone()
        .or_else(|| repo.and_then(origin_commit_url));
    let criterion_pages = options
        .criterion
        .as_deref()
        .map(|criterion| criterion_pages(&dashboard, criterion, &options.output))
        .unwrap_or_default();
    let page = html::render(&dashboard, commit_url.as_deref(), &criterion_pages);
    let path = options.output.join("index.html");
    proflab_output::write(&path, page).map_err(|source| TrackError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The branch drawn when none is named: the one `origin/HEAD` points to
/// (the forge's default branch, as a clone sets it), else the one checked
/// out, else `HEAD` itself (a detached checkout).
fn default_branch(repo: &Path) -> String {
    git(
        repo,
        &[
            "symbolic-ref",
            "--quiet",
            "--short",
            "refs/remotes/origin/HEAD",
        ],
    )
    .or_else(|_| git(repo, &["symbolic-ref", "--quiet", "--short", "HEAD"]))
    .unwrap_or_else(|_| "HEAD".to_owned())
}

/// `branch`'s first-parent commits, oldest first: the commits that landed
/// on it one after another, not those of the branches merged into it.
fn first_parent_line(repo: &Path, branch: &str) -> Result<Vec<LineCommit>, TrackError> {
    let names_a_commit = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{branch}^{{commit}}"),
        ],
    );
    if names_a_commit.is_err() {
        return Err(TrackError::UnknownBranch {
            branch: branch.to_owned(),
            repo: repo.to_owned(),
        });
    }
    // `--end-of-options`: a branch named `--all` is a branch, not a flag.
    let listed = git(
        repo,
        &[
            "log",
            "--first-parent",
            "--reverse",
            "--format=%H%x09%cs%x09%s",
            "--end-of-options",
            branch,
            "--",
        ],
    )?;
    Ok(listed
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            Some(LineCommit {
                sha: fields.next()?.to_owned(),
                date: fields.next()?.to_owned(),
                subject: fields.next().unwrap_or_default().to_owned(),
            })
        })
        .collect())
}

fn origin_commit_url(repo: &Path) -> Option<String> {
    commit_url_of_remote(&git(repo, &["remote", "get-url", "origin"]).ok()?)
}

/// The commit page template of a remote on a forge whose URLs are known:
/// GitHub, GitLab (`/-/commit/`) and the Gitea family (Codeberg, Forgejo).
/// `https://`, `ssh://` and scp-like `git@host:owner/repo.git` remotes alike.
fn commit_url_of_remote(remote: &str) -> Option<String> {
    let remote = remote.trim();
    let (host, path) = if let Some((_, rest)) = remote.split_once("://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        rest.split_once('/')?
    } else {
        let rest = remote.rsplit_once('@').map_or(remote, |(_, r)| r);
        rest.split_once(':')?
    };
    let host = host.split_once(':').map_or(host, |(name, _port)| name);
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if path.split('/').count() < 2 || path.split('/').any(str::is_empty) {
        return None;
    }
    let commit = if host == "github.com" {
        "commit"
    } else if host.contains("gitlab") {
        "-/commit"
    } else if ["codeberg.org", "gitea", "forgejo"]
        .iter()
        .any(|forge| host.contains(forge))
    {
        "commit"
    } else {
        return None;
    };
    Some(format!("https://{host}/{path}/{commit}/{{sha}}"))
}

/// Criterion's own page of every benchmark the dashboard shows that has
/// one, as links relative to the dashboard's folder.
fn criterion_pages(
    dashboard: &Dashboard,
    criterion: &Path,
    from: &Path,
) -> BTreeMap<String, String> {
    let on_line = dashboard
        .machines
        .iter()
        .flat_map(|m| m.benchmarks.iter().map(|b| b.id.as_str()));
    let in_batches = dashboard
        .batches
        .iter()
        .flat_map(|b| b.report.benchmarks.iter().map(|c| c.id.as_str()));
    on_line
        .chain(in_batches)
        .filter_map(|id| Some((id.to_owned(), criterion_page(criterion, from, id)?)))
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forges_are_known_by_their_remotes() {
        let github = Some("https://github.com/owner/repo/commit/{sha}".to_owned());
        assert_eq!(
            commit_url_of_remote("https://github.com/owner/repo.git"),
            github
        );
        assert_eq!(
            commit_url_of_remote("git@github.com:owner/repo.git"),
            github
        );
        assert_eq!(
            commit_url_of_remote("ssh://git@github.com/owner/repo"),
            github
        );
        assert_eq!(
            commit_url_of_remote("https://user:token@gitlab.com/group/sub/repo.git"),
            Some("https://gitlab.com/group/sub/repo/-/commit/{sha}".to_owned())
        );
        assert_eq!(
            commit_url_of_remote("ssh://git@codeberg.org:22/owner/repo.git"),
            Some("https://codeberg.org/owner/repo/commit/{sha}".to_owned())
        );
        assert_eq!(commit_url_of_remote("/srv/git/repo.git"), None);
        assert_eq!(commit_url_of_remote("https://example.com/owner/repo"), None);
        assert_eq!(commit_url_of_remote("https://github.com/owner"), None);
    }

    #[test]
    fn the_line_is_first_parent_and_the_default_branch_is_origins() {
        let repo = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| git(repo.path(), args).unwrap();
        let commit = |message: &str| {
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
            run(&["rev-parse", "HEAD"])
        };
        run(&["init", "-q", "-b", "main"]);
        let one = commit("one");
        run(&["checkout", "-q", "-b", "side"]);
        let side = commit("side");
        run(&["checkout", "-q", "main"]);
        let two = commit("two");
        run(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "merge",
            "side",
        ]);
        let merge = run(&["rev-parse", "HEAD"]);
        let line: Vec<String> = first_parent_line(repo.path(), "main")
            .unwrap()
            .into_iter()
            .map(|c| c.sha)
            .collect();
        assert_eq!(
            line,
            [one, two, merge],
            "the side branch's commit is off the line"
        );
        assert!(!line.contains(&side));
        assert_eq!(
            default_branch(repo.path()),
            "main",
            "no origin: the checked-out branch"
        );
        run(&["update-ref", "refs/remotes/origin/trunk", "HEAD"]);
        run(&[
            "symbolic-ref",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/trunk",
        ]);
        assert_eq!(default_branch(repo.path()), "origin/trunk");
        let unknown = first_parent_line(repo.path(), "no-such-branch").unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("branch `no-such-branch` is not in the repository"),
            "{unknown}"
        );
    }
}
