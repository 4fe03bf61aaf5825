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
    #[error("{path}: not a Criterion file")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    BadSample { path: PathBuf, reason: String },
    #[error("history database {path}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "history database {path} has schema version {found}, newer than this proflab understands ({supported}); upgrade proflab"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("no recorded run matches commit `{reference}` in {path}")]
    UnknownCommit { reference: String, path: PathBuf },
    #[error("git {args}: {message}")]
    Git { args: String, message: String },
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
    #[error("`{command}` failed in the worktree of {commit}")]
    BenchFailed { command: String, commit: String },
    #[error(transparent)]
    Instructions(#[from] proflab_callgrind::CallgrindError),
    #[error("interrupted; worktrees removed")]
    Interrupted,
    #[error("cannot write output")]
    Output(#[source] std::io::Error),
}
