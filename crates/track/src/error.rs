use std::path::PathBuf;

/// Everything that can go wrong; each variant names the file, ref or database at fault.
#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error("no Criterion results: {path} does not exist (run `cargo bench` first)")]
    NoCriterionDir { path: PathBuf },
    #[error(
        "no benchmark found under {path} (expected <group>/<function>[/<value>]/new/benchmark.json)"
    )]
    NoBenchmarks { path: PathBuf },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a Criterion file")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    BadSample { path: PathBuf, reason: String },
    /// `db` is a file path or a PostgreSQL URL with its password redacted
    /// ([`crate::Database`]'s `Display`), here and in every variant below that names one.
    #[error("history database {db}")]
    Db {
        db: String,
        #[source]
        source: crate::StoreError,
    },
    #[error(
        "`{scheme}://…` is not a history database this proflab can open: --db and PROFLAB_DB take a file path or a postgres:// (postgresql://) URL"
    )]
    UnsupportedDatabase { scheme: String },
    #[error(
        "history database {db} has schema version {found}, newer than this proflab understands ({supported}); upgrade proflab"
    )]
    NewerSchema {
        db: String,
        found: i64,
        supported: i64,
    },
    #[error("no recorded run matches commit `{reference}` in {db}")]
    UnknownCommit { reference: String, db: String },
    #[error("commit `{reference}` is ambiguous: it begins {}", candidates.join(", "))]
    AmbiguousCommit {
        reference: String,
        candidates: Vec<String>,
    },
    #[error("no batch {batch} in {db} (`proflab track history` lists them)")]
    UnknownBatch { batch: i64, db: String },
    #[error("batch {batch} measured {a} against {b}, not the commits asked for")]
    BatchMismatch { batch: i64, a: String, b: String },
    #[error(
        "{db} is not a proflab history ({reason}); nothing in it was changed: give --db a new file or a history proflab made"
    )]
    ForeignDatabase { db: String, reason: String },
    #[error("history database {db} is a folder; give a file name (e.g. {db}/history.sqlite)")]
    DatabaseIsFolder { db: String },
    #[error("no history database at {db} (record a run first)")]
    NoDatabase { db: String },
    #[error(
        "history database {db} has schema version {found}, older than this proflab's; run any writing command (`proflab track record`) once to upgrade it"
    )]
    OlderSchema { db: String, found: i64 },
    #[error("history database {db} has schema version {found}, which no proflab writes")]
    CorruptSchema { db: String, found: i64 },
    #[error(
        "benchmark `{}` appears twice in one run",
        crate::criterion::shown_id(id)
    )]
    DuplicateBenchmark { id: String },
    #[error("benchmark `{}`: {reason}", crate::criterion::shown_id(id))]
    InvalidBenchmark { id: String, reason: String },
    #[error("git {args}: {message}")]
    Git { args: String, message: String },
    #[error("branch `{branch}` is not in the repository at {}", repo.display())]
    UnknownBranch { branch: String, repo: PathBuf },
    #[error(
        "runs were recorded on different machines ({a} vs {b}); pass --allow-different-machines to compare anyway"
    )]
    DifferentMachines { a: String, b: String },
    #[error("invalid filter regex: {0}")]
    Filter(#[from] regex::Error),
    #[error("cannot run {command}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed in the worktree of {commit}{}", last_lines(stderr))]
    BenchFailed {
        command: String,
        commit: String,
        stderr: String,
    },
    /// `rebuild` is a shell command that builds the commit again as `track
    /// run` did, in a checkout that outlives the run.
    #[error(
        "building {commit} failed{}\nto build it again: {rebuild}",
        compiler_errors(stderr)
    )]
    BuildFailed {
        commit: String,
        rebuild: String,
        stderr: String,
    },
    #[error(transparent)]
    Instructions(#[from] proflab_callgrind::CallgrindError),
    #[error(
        "submodule `{path}` (commit {commit}) is not checked out in this clone, and `track run` uses no network: run `git submodule update --init --recursive` first"
    )]
    MissingSubmodule { path: String, commit: String },
    #[error(
        "{failure}\nit names a path inside submodule `{path}` (commit {commit}), which is not checked out in this clone, and `track run` uses no network: run `git submodule update --init --recursive` first"
    )]
    BenchNeedsSubmodule {
        path: String,
        commit: String,
        failure: Box<TrackError>,
    },
    #[error("GOOD and BAD are the same commit ({commit}): bisection needs BAD after GOOD")]
    SameCommit { commit: String },
    #[error("{good} is not an ancestor of {bad}: bisection needs GOOD before BAD in one history")]
    NotAnAncestor { good: String, bad: String },
    #[error(
        "{bad} shows no regression against {good} for the benchmarks chosen: nothing to bisect"
    )]
    NoRegression { good: String, bad: String },
    /// `kept` says what the run leaves behind (the rounds recorded, the worktrees).
    #[error("interrupted by {signal}; {kept}")]
    Interrupted {
        signal: crate::run::Interruption,
        kept: String,
    },
    #[error("random code layouts: {reason}")]
    Layout { reason: String },
    #[error("cannot compare the code of {path}: {reason}")]
    Executable { path: PathBuf, reason: String },
    #[error("cannot write output")]
    Output(#[source] std::io::Error),
}

/// How many lines of a failed command's stderr are shown.
const SHOWN_LINES: usize = 15;

/// The end of a failed command's stderr, indented under the error line; a
/// Rust panic's location and message instead, where a backtrace
/// (`RUST_BACKTRACE` set) would fill the end with frames and push out what
/// the bench said.
fn last_lines(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    let tail = lines.len().saturating_sub(SHOWN_LINES);
    let panic = lines
        .iter()
        .rposition(|line| line.starts_with("thread '") && line.contains(" panicked at "));
    match panic {
        Some(at) if at < tail => {
            let message_end = lines[at + 1..]
                .iter()
                .position(|line| line.starts_with("stack backtrace:") || line.starts_with("note: "))
                .map_or(lines.len(), |end| at + 1 + end)
                .min(at + SHOWN_LINES);
            let left_out = format!("({} more lines: the backtrace)", lines.len() - message_end);
            let mut shown = lines[at..message_end].to_vec();
            shown.push(&left_out);
            indented("; it panicked:", &shown)
        }
        _ => indented("; its stderr ended:", &lines[tail..]),
    }
}

/// A failed build's first compiler error in full, with its `--> file:line`
/// (what a user opens first), then Cargo's last line; the end of stderr
/// when no compiler error is in it (a build script's panic, a missing
/// dependency). The end alone can hold only the last of many errors, or
/// notes whose locations are lines further up.
fn compiler_errors(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    let is_compiler_error = |line: &&str| {
        (line.starts_with("error:") || line.starts_with("error["))
            && !line.starts_with("error: could not compile")
    };
    let Some(first) = lines.iter().position(is_compiler_error) else {
        return last_lines(stderr);
    };
    let block: Vec<&str> = lines[first..]
        .iter()
        .take_while(|line| !line.is_empty())
        .take(30)
        .copied()
        .collect();
    let mut shown = block.clone();
    if let Some(last) = lines.last()
        && !block.contains(last)
    {
        shown.push("...");
        shown.push(last);
    }
    indented("; the compiler said:", &shown)
}

fn indented(heading: &str, lines: &[&str]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut text = String::from(heading);
    for line in lines {
        text.push_str("\n    ");
        text.push_str(line);
    }
    text
}

impl From<proflab_criterion_read::ReadError> for TrackError {
    fn from(error: proflab_criterion_read::ReadError) -> Self {
        match error {
            proflab_criterion_read::ReadError::Io { path, source } => {
                TrackError::Io { path, source }
            }
            proflab_criterion_read::ReadError::Json { path, source } => {
                TrackError::Json { path, source }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::last_lines;

    #[test]
    fn a_panic_is_shown_before_its_backtrace() {
        let mut stderr = String::from(
            "Benchmarking spoiled/00\n\
             thread 'main' (4242) panicked at benches/spoiled.rs:9:60:\n\
             data/input.bin is missing\n\
             stack backtrace:\n",
        );
        for frame in 0..40 {
            stderr.push_str(&format!("  {frame}: criterion::routine\n"));
        }
        stderr.push_str("note: Some details are omitted\n");
        let shown = last_lines(&stderr);
        assert_eq!(
            shown,
            "; it panicked:\n    thread 'main' (4242) panicked at benches/spoiled.rs:9:60:\n    \
             data/input.bin is missing\n    (42 more lines: the backtrace)"
        );
    }

    #[test]
    fn without_a_panic_or_a_backtrace_the_end_is_shown() {
        let stderr: String = (1..=20).map(|line| format!("line {line}\n")).collect();
        assert!(last_lines(&stderr).starts_with("; its stderr ended:\n    line 6\n"));
        let short = "thread 'main' panicked at src/main.rs:1:1:\nboom\n";
        assert_eq!(
            last_lines(short),
            "; its stderr ended:\n    thread 'main' panicked at src/main.rs:1:1:\n    boom"
        );
    }
}
