//! The git worktrees a paired run builds each side in.

use std::path::{Path, PathBuf};

use crate::TrackError;
use crate::environment::git;

/// Removes the worktrees it holds, and the temporary folder around them,
/// when dropped, whatever happened.
pub(crate) struct Worktrees {
    pub(crate) repo: PathBuf,
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) _dir: tempfile::TempDir,
}

impl Drop for Worktrees {
    fn drop(&mut self) {
        // Deleted first, then pruned: `git worktree remove` refuses a
        // worktree that holds the submodule clones `populate_submodules` made.
        for path in &self.paths {
            let _ = std::fs::remove_dir_all(path);
        }
        let _ = git(&self.repo, &["worktree", "prune"]);
    }
}

/// The name `track run` takes, on either side, for the working tree as it
/// is, uncommitted changes included: it is built and run in place.
pub const WORKING_TREE: &str = "WORKTREE";

pub(super) fn add_worktree(repo: &Path, path: &Path, commit: &str) -> Result<(), TrackError> {
    git(
        repo,
        &[
            "worktree",
            "add",
            "--detach",
            &path.to_string_lossy(),
            commit,
        ],
    )
    .map(drop)
}

/// A submodule a commit records that the local clone does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSubmodule {
    /// Its path in the repository (inside a parent submodule, that one's path first).
    pub path: String,
    pub commit: String,
}

/// Gives the worktree at `worktree` (checked out at `commit` of `repo`) the
/// submodules that commit records, cloned from the ones checked out in
/// `repo` (`--shared`: their objects are borrowed, nothing is copied or
/// fetched), recursively. A submodule whose commit the local clone lacks is
/// left out and returned (`track run` uses no network): many benches never
/// read theirs, and the smoke test finds those that do. With `required`,
/// the first one is an error instead.
pub(super) fn populate_submodules(
    repo: &Path,
    worktree: &Path,
    commit: &str,
    required: bool,
) -> Result<Vec<MissingSubmodule>, TrackError> {
    let mut missing = Vec::new();
    let tree = git(repo, &["ls-tree", "-r", commit])?;
    for line in tree.lines() {
        let Some((meta, path)) = line.split_once('\t') else {
            continue;
        };
        let mut fields = meta.split_whitespace();
        let (Some("160000"), Some("commit"), Some(sha)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let source = repo.join(path);
        let present = git(&source, &["rev-parse", "--show-toplevel"])
            .is_ok_and(|top| Path::new(&top) == source.canonicalize().unwrap_or_default())
            && git(&source, &["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_ok();
        if !present {
            if required {
                return Err(TrackError::MissingSubmodule {
                    path: path.to_owned(),
                    commit: sha.to_owned(),
                });
            }
            missing.push(MissingSubmodule {
                path: path.to_owned(),
                commit: sha.to_owned(),
            });
            continue;
        }
        let target = worktree.join(path);
        git(
            worktree,
            &[
                "clone",
                "--quiet",
                "--shared",
                "--no-checkout",
                &source.to_string_lossy(),
                &target.to_string_lossy(),
            ],
        )?;
        git(&target, &["checkout", "--quiet", "--detach", sha])?;
        missing.extend(
            populate_submodules(&source, &target, sha, required)?
                .into_iter()
                .map(|inner| MissingSubmodule {
                    path: format!("{path}/{}", inner.path),
                    ..inner
                }),
        );
    }
    Ok(missing)
}
