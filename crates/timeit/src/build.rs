//! Turning a snippet into a compiled program in the cache, and running it.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::{CompilerMessage, Message};

use crate::Timer;
use crate::children::Running;

/// A crate the snippet uses, as `--dep 'name=version'` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dependency {
    /// The crate's name on crates.io.
    pub name: String,
    /// A Cargo version requirement, e.g. `0.17`.
    pub version: String,
}

impl std::str::FromStr for Dependency {
    type Err = TimeitError;

    fn from_str(text: &str) -> Result<Self, TimeitError> {
        let (name, version) = text.split_once('=').unwrap_or((text, "*"));
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.*^~<>=, ".contains(c))
        };
        if !valid(name) || !valid(version) || name.contains([' ', '=', '*']) {
            return Err(TimeitError::BadDependency(text.to_owned()));
        }
        Ok(Self {
            name: name.trim().to_owned(),
            version: version.trim().to_owned(),
        })
    }
}

/// What to time: setup lines run once, statement lines timed as one block
/// whose value goes through `black_box`, and the crates they use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Snippet {
    /// `-s` lines, run before timing.
    pub setup: Vec<String>,
    /// The statement's lines.
    pub statement: Vec<String>,
    /// `--dep` crates.
    pub dependencies: Vec<Dependency>,
}

/// Where a line of the generated program came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Setup(usize),
    Statement(usize),
    Generated,
}

/// Why a snippet could not be timed.
#[derive(Debug, thiserror::Error)]
pub enum TimeitError {
    /// A `--dep` argument is not `name=version`.
    #[error("--dep {0:?} is not of the form name=version (e.g. ndarray=0.17)")]
    BadDependency(String),
    /// The snippet did not compile.
    #[error("{0}")]
    Compile(CompileError),
    /// Cargo or the program could not be started, or failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The cache folder is not ours alone: code planted there would run.
    #[error(
        "the timeit cache {path} {problem}; other users could plant code there that timeit would build and run (set PROFLAB_CACHE_DIR to a folder of your own)"
    )]
    UnsafeCache {
        /// The cache folder.
        path: PathBuf,
        /// Who else controls it.
        problem: String,
    },
    /// Cargo failed before compiling the snippet: the toolchain, the
    /// cache, or a `--dep` that cannot be fetched or built.
    #[error("cargo could not build the snippet (no error in the snippet itself):\n{0}")]
    Build(String),
    /// The timed program stopped answering: the snippet panicked, exited
    /// or was killed.
    #[error("the snippet {0} while being timed")]
    Run(Ending),
}

/// How a snippet's program ended, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending(ExitStatus);

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::os::unix::process::ExitStatusExt as _;
        match (self.0.code(), self.0.signal()) {
            // What Rust's runtime exits with after a panic.
            (Some(101), _) => write!(f, "panicked (its message is above)"),
            (Some(code), _) => write!(f, "exited with code {code}"),
            (None, Some(signal)) => write!(f, "was killed by signal {signal}"),
            (None, None) => write!(f, "ended ({})", self.0),
        }
    }
}

/// Compiler errors, shown against the user's own snippet lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// One rendered diagnostic per error.
    pub diagnostics: Vec<String>,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the snippet does not compile:\n{}",
            self.diagnostics.join("\n")
        )
    }
}

impl Snippet {
    /// The generated program and, per line, where it came from. It connects
    /// to the Unix socket its first argument names, reads loop counts there
    /// and answers each with the seconds taken: the snippet's own stdin and
    /// stdout stay its own.
    #[must_use]
    fn program_with_origins(&self) -> (String, Vec<Origin>) {
        let mut lines: Vec<(String, Origin)> = Vec::new();
        let generated = |text: &str, lines: &mut Vec<(String, Origin)>| {
            lines.extend(text.lines().map(|l| (l.to_owned(), Origin::Generated)));
        };
        generated(
            "#![allow(unused)]\nuse std::hint::black_box;\nuse std::io::BufRead as _;\nfn main() {\n    let __channel = std::os::unix::net::UnixStream::connect(std::env::args_os().nth(1).expect(\"the channel\")).expect(\"the channel\");\n    let mut __answers = __channel.try_clone().expect(\"the channel\");",
            &mut lines,
        );
        lines.extend(
            self.setup
                .iter()
                .enumerate()
                .map(|(i, l)| (format!("    {l}"), Origin::Setup(i))),
        );
        generated(
            "    let mut __run = |__number: u64| -> f64 {\n        let __start = std::time::Instant::now();\n        for _ in 0..__number {\n            black_box({",
            &mut lines,
        );
        lines.extend(
            self.statement
                .iter()
                .enumerate()
                .map(|(i, l)| (format!("                {l}"), Origin::Statement(i))),
        );
        generated(
            "            });\n        }\n        __start.elapsed().as_secs_f64()\n    };\n    for __line in std::io::BufReader::new(__channel).lines() {\n        let Ok(__number) = __line.unwrap_or_default().trim().parse::<u64>() else { break };\n        let __answer = format!(\"{}\\n\", __run(__number));\n        if std::io::Write::write_all(&mut __answers, __answer.as_bytes()).is_err() { break }\n    }\n}",
            &mut lines,
        );
        let origins = lines.iter().map(|(_, o)| *o).collect();
        let text = lines
            .into_iter()
            .map(|(l, _)| l)
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        (text, origins)
    }

    /// The generated program's source.
    #[must_use]
    pub fn program(&self) -> String {
        self.program_with_origins().0
    }

    fn user_line(&self, origin: Origin) -> Option<(&'static str, usize, &str)> {
        match origin {
            Origin::Setup(i) => Some(("setup", i + 1, &self.setup[i])),
            Origin::Statement(i) => Some(("stmt", i + 1, &self.statement[i])),
            Origin::Generated => None,
        }
    }
}

/// The scratch crates and their shared target directory, under
/// `PROFLAB_CACHE_DIR`, else `$XDG_CACHE_HOME/proflab/timeit`, else
/// `~/.cache/proflab/timeit`: never the user's project. Empty or relative
/// values are ignored, as the XDG Base Directory specification says of
/// `XDG_CACHE_HOME` ("a relative path ... should be considered invalid"), so
/// no setting makes the cache land in the current folder. With none of them
/// set, `<temp>/proflab-timeit-<uid>`. Whichever it is, the folder is created
/// 0700 and must be owned by the user and writable by no one else, since
/// timeit builds and runs what is in it.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache at `root`.
    #[must_use]
    pub fn at(root: PathBuf) -> Self {
        Self { root }
    }

    /// The cache where the environment says (see [`Cache`]).
    #[must_use]
    pub fn from_environment() -> Self {
        Self {
            root: cache_root(|name| std::env::var_os(name)),
        }
    }

    /// The folder the cache is in.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Compiles `snippet` (once: an unchanged snippet is reused) and returns
    /// a timer running it.
    ///
    /// # Errors
    /// [`TimeitError::Compile`] with the user's lines, or an I/O error.
    pub fn build(&self, snippet: &Snippet) -> Result<ProgramTimer, TimeitError> {
        self.build_with_progress(snippet, &mut |_| {})
    }

    /// [`Cache::build`], calling `progress` as Cargo finishes each crate, so
    /// that a first build (minutes, with dependencies) can show it is alive.
    ///
    /// # Errors
    /// As [`Cache::build`].
    pub fn build_with_progress(
        &self,
        snippet: &Snippet,
        progress: &mut dyn FnMut(&BuildProgress),
    ) -> Result<ProgramTimer, TimeitError> {
        let io = |context: String| move |source| TimeitError::Io { context, source };
        self.make_private()?;
        // One crate per set of dependencies shares their compiled artifacts;
        // one binary per snippet lets several snippets coexist.
        let crate_dir = self
            .root
            .join(format!("deps-{:016x}", hash(&snippet.dependencies)));
        let (source, origins) = snippet.program_with_origins();
        let bin = format!("snippet_{:016x}", hash(&source));
        std::fs::create_dir_all(crate_dir.join("src/bin"))
            .map_err(io(format!("cannot create {}", crate_dir.display())))?;
        let mut manifest = "[package]\nname = \"proflab-timeit-scratch\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[profile.release]\ndebug = \"line-tables-only\"\n\n[dependencies]\n".to_owned();
        for dep in &snippet.dependencies {
            let _ = writeln!(manifest, "{} = \"{}\"", dep.name, dep.version);
        }
        write_if_changed(&crate_dir.join("Cargo.toml"), &manifest)?;
        write_if_changed(&crate_dir.join("src/lib.rs"), "")?;
        let source_path = crate_dir.join("src/bin").join(format!("{bin}.rs"));
        write_if_changed(&source_path, &source)?;
        let target = self.root.join("target");
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .args([
                "build",
                "--release",
                "--quiet",
                "--message-format=json",
                "--bin",
                &bin,
            ])
            .arg("--manifest-path")
            .arg(crate_dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let (mut child, _running) =
            Running::spawn(&mut cargo).map_err(io("cannot run cargo".to_owned()))?;
        // Cargo's stderr is read on its own thread so that neither pipe can
        // fill up and stall the build while the other is read.
        let mut stderr_pipe = child.stderr.take().expect("stderr was piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr_pipe, &mut text);
            text
        });
        let stdout_pipe = child.stdout.take().expect("stdout was piped");
        let mut messages = Vec::new();
        let mut compiled = 0;
        for message in Message::parse_stream(BufReader::new(stdout_pipe)) {
            let message = message.map_err(io("cannot read cargo's output".to_owned()))?;
            if let Some(name) = compiled_crate(&message) {
                compiled += 1;
                progress(&BuildProgress {
                    crate_name: name.to_owned(),
                    compiled,
                });
            }
            messages.push(message);
        }
        let status = child
            .wait()
            .map_err(io("cannot wait for cargo".to_owned()))?;
        let stderr = stderr_reader.join().unwrap_or_default();
        if !status.success() {
            let diagnostics = diagnostics(&messages, &bin, snippet, &origins);
            if diagnostics.is_empty() {
                return Err(TimeitError::Build(stderr.trim_end().to_owned()));
            }
            return Err(TimeitError::Compile(CompileError { diagnostics }));
        }
        ProgramTimer::start(&target.join("release").join(&bin))
    }
}

impl Cache {
    /// Creates the root 0700 (its parents as usual), then refuses it unless
    /// it is ours and no one else can write to it.
    fn make_private(&self) -> Result<(), TimeitError> {
        use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
        let io = |source| TimeitError::Io {
            context: format!("cannot create {}", self.root.display()),
            source,
        };
        if let Some(parent) = self.root.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        match std::fs::DirBuilder::new().mode(0o700).create(&self.root) {
            Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(io(error));
            }
            _ => {}
        }
        // Not followed: a symlink planted in place of the folder is refused
        // by its own owner and type.
        let metadata = std::fs::symlink_metadata(&self.root).map_err(io)?;
        let unsafe_cache = |problem: String| TimeitError::UnsafeCache {
            path: self.root.clone(),
            problem,
        };
        let me = rustix::process::geteuid().as_raw();
        if metadata.uid() != me {
            return Err(unsafe_cache(format!(
                "is owned by uid {}, not by you (uid {me})",
                metadata.uid()
            )));
        }
        if !metadata.is_dir() {
            return Err(unsafe_cache("is not a folder".into()));
        }
        if metadata.mode() & 0o022 != 0 {
            return Err(unsafe_cache(format!(
                "has mode {:o}: others can write to it",
                metadata.mode() & 0o777
            )));
        }
        Ok(())
    }
}

/// The cache folder the variables `var` looks up say, taking only absolute
/// paths (see [`Cache`]).
fn cache_root(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> PathBuf {
    let absolute = |name| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
    absolute("PROFLAB_CACHE_DIR")
        .or_else(|| absolute("XDG_CACHE_HOME").map(|d| d.join("proflab/timeit")))
        .or_else(|| absolute("HOME").map(|h| h.join(".cache/proflab/timeit")))
        .unwrap_or_else(|| {
            let temp = std::env::temp_dir();
            let temp = if temp.is_absolute() {
                temp
            } else {
                PathBuf::from("/tmp")
            };
            temp.join(format!(
                "proflab-timeit-{}",
                rustix::process::geteuid().as_raw()
            ))
        })
}

/// One crate of a snippet's build finished compiling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildProgress {
    /// The crate (or the snippet's binary) Cargo just compiled.
    pub crate_name: String,
    /// How many crates this build has compiled so far.
    pub compiled: usize,
}

/// The crate named by a `compiler-artifact` message that Cargo actually
/// compiled (`fresh` ones were already up to date).
fn compiled_crate(message: &Message) -> Option<&str> {
    match message {
        Message::CompilerArtifact(artifact) if !artifact.fresh => Some(&artifact.target.name),
        _ => None,
    }
}

fn hash(value: &impl Hash) -> u64 {
    // DefaultHasher with no keys is SipHash-1-3 with zero keys: stable for
    // a given Rust release, which is all a cache key needs.
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn write_if_changed(path: &Path, text: &str) -> Result<(), TimeitError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|source| TimeitError::Io {
        context: format!("cannot write {}", path.display()),
        source,
    })
}

/// Cargo's messages turned into errors against the snippet's lines.
fn diagnostics(
    messages: &[Message],
    bin: &str,
    snippet: &Snippet,
    origins: &[Origin],
) -> Vec<String> {
    let source_file = format!("{bin}.rs");
    let mut out = Vec::new();
    for message in messages {
        let Message::CompilerMessage(CompilerMessage {
            message: diagnostic,
            ..
        }) = message
        else {
            continue;
        };
        if diagnostic.level != DiagnosticLevel::Error {
            continue;
        }
        let code = diagnostic
            .code
            .as_ref()
            .map(|c| format!("[{}]", c.code))
            .unwrap_or_default();
        let mut rendered = format!("error{code}: {}", diagnostic.message);
        let primary = diagnostic
            .spans
            .iter()
            .find(|span| span.is_primary && span.file_name.ends_with(&source_file));
        if let Some(span) = primary {
            let origin = origins
                .get(span.line_start.wrapping_sub(1))
                .copied()
                .unwrap_or(Origin::Generated);
            if let Some((part, number, user_text)) = snippet.user_line(origin) {
                // Columns count from the user's text, not the indented copy.
                let indent = if matches!(origin, Origin::Setup(_)) {
                    4
                } else {
                    16
                };
                let column = span.column_start.saturating_sub(indent).max(1);
                let _ = write!(
                    rendered,
                    "\n  --> <{part}>:{number}:{column}\n   |\n   | {user_text}"
                );
                if let Some(label) = &span.label {
                    let _ = write!(rendered, "\n   | {}^ {label}", " ".repeat(column - 1));
                }
            }
        }
        out.push(rendered);
    }
    out
}

/// A running snippet program: each request runs the statement N times.
/// Requests and answers go over a Unix socket of their own, so the
/// snippet's output (passed through to proflab's) is never read as a
/// timing, and its stdin is null, so reading it never waits on anyone.
pub struct ProgramTimer {
    child: Child,
    running: Running,
    requests: UnixStream,
    answers: BufReader<UnixStream>,
    /// Holds the socket's folder until the program has exited.
    _channel_dir: tempfile::TempDir,
}

/// How long an exiting program gets to finish before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

impl ProgramTimer {
    fn start(binary: &Path) -> Result<Self, TimeitError> {
        let io = |context: String| move |source| TimeitError::Io { context, source };
        // A private folder (0700) for the socket: no one else can connect.
        let channel_dir = tempfile::Builder::new()
            .prefix("proflab-timeit-channel")
            .tempdir()
            .map_err(io("cannot create the timing channel's folder".into()))?;
        let socket = channel_dir.path().join("channel");
        let listener = UnixListener::bind(&socket)
            .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
            .map_err(io(format!("cannot listen on {}", socket.display())))?;
        let mut command = Command::new(binary);
        command
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit());
        let (mut child, running) = Running::spawn(&mut command)
            .map_err(io(format!("cannot start {}", binary.display())))?;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(TimeitError::Run(Ending(status)));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(error) => {
                    running.kill();
                    let _ = child.wait();
                    return Err(io("the snippet did not connect".into())(error));
                }
            }
        };
        let answers = stream
            .set_nonblocking(false)
            .and_then(|()| stream.try_clone())
            .map_err(io("cannot read the timing channel".into()))?;
        Ok(Self {
            child,
            running,
            requests: stream,
            answers: BufReader::new(answers),
            _channel_dir: channel_dir,
        })
    }

    /// The program stopped answering: how it ended, waiting a little for a
    /// program on its way out before killing it.
    fn failure(&mut self) -> TimeitError {
        let deadline = Instant::now() + EXIT_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return TimeitError::Run(Ending(status));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.running.kill();
        match self.child.wait() {
            Ok(status) => TimeitError::Run(Ending(status)),
            Err(source) => TimeitError::Io {
                context: "cannot wait for the snippet".into(),
                source,
            },
        }
    }
}

impl Timer for ProgramTimer {
    type Error = TimeitError;

    fn time(&mut self, number: u64) -> Result<f64, TimeitError> {
        if writeln!(self.requests, "{number}")
            .and_then(|()| self.requests.flush())
            .is_err()
        {
            return Err(self.failure());
        }
        let mut answer = String::new();
        match self.answers.read_line(&mut answer) {
            Ok(n) if n > 0 => answer.trim().parse().map_err(|_| self.failure()),
            _ => Err(self.failure()),
        }
    }
}

impl Drop for ProgramTimer {
    fn drop(&mut self) {
        self.running.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line of Cargo's output as `build_with_progress` reads it.
    fn parse(line: &str) -> Message {
        let mut messages = Message::parse_stream(line.as_bytes());
        let message = messages
            .next()
            .expect("one line")
            .expect("read from memory");
        assert!(messages.next().is_none(), "one message per line");
        message
    }

    #[test]
    fn progress_counts_only_crates_cargo_compiled() {
        // Cargo 1.95's own lines for a scratch crate's `libm` dependency, built
        // and then found fresh (only the user's home folder is shortened).
        let built = r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#libm@0.2.16","manifest_path":"/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/libm-0.2.16/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"libm","src_path":"/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/libm-0.2.16/src/lib.rs","edition":"2021","doc":true,"doctest":true,"test":true},"profile":{"opt_level":"3","debuginfo":0,"debug_assertions":false,"overflow_checks":false,"test":false},"features":["arch","default"],"filenames":["/home/u/.cache/proflab/timeit/target/release/deps/liblibm-ee1710e5d90de2fa.rlib","/home/u/.cache/proflab/timeit/target/release/deps/liblibm-ee1710e5d90de2fa.rmeta"],"executable":null,"fresh":false}"#;
        let fresh = built.replace(r#""fresh":false"#, r#""fresh":true"#);
        let other = r#"{"reason":"build-finished","success":true}"#;
        assert_eq!(compiled_crate(&parse(built)), Some("libm"));
        assert_eq!(compiled_crate(&parse(&fresh)), None);
        assert_eq!(compiled_crate(&parse(other)), None);
        assert_eq!(compiled_crate(&parse("not json")), None);
    }

    #[test]
    fn dependencies_parse_and_bad_ones_are_errors() {
        let dep: Dependency = "ndarray=0.17".parse().expect("valid");
        assert_eq!(
            (dep.name.as_str(), dep.version.as_str()),
            ("ndarray", "0.17")
        );
        let any: Dependency = "itoa".parse().expect("valid");
        assert_eq!(any.version, "*");
        assert!("bad name=1".parse::<Dependency>().is_err());
        assert!("x=\"1\"".parse::<Dependency>().is_err());
    }

    #[test]
    fn every_user_line_is_in_the_program_with_its_origin() {
        let snippet = Snippet {
            setup: vec!["let v: Vec<u64> = (0..100).collect();".into()],
            statement: vec!["let s: u64 = v.iter().sum();".into(), "s".into()],
            dependencies: vec![],
        };
        let (program, origins) = snippet.program_with_origins();
        let lines: Vec<&str> = program.lines().collect();
        assert_eq!(lines.len(), origins.len());
        let setup_line = origins
            .iter()
            .position(|o| *o == Origin::Setup(0))
            .expect("setup placed");
        assert_eq!(lines[setup_line].trim(), snippet.setup[0]);
        let second = origins
            .iter()
            .position(|o| *o == Origin::Statement(1))
            .expect("statement placed");
        assert_eq!(lines[second].trim(), "s");
        assert!(setup_line < second);
    }

    #[test]
    fn empty_or_relative_cache_settings_are_ignored() {
        let root = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            cache_root(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.into()))
        };
        let home = [("HOME", "/home/u")];
        assert_eq!(
            root(&[("PROFLAB_CACHE_DIR", "/c"), home[0]]),
            Path::new("/c")
        );
        assert_eq!(
            root(&[("XDG_CACHE_HOME", "/x"), home[0]]),
            Path::new("/x/proflab/timeit")
        );
        for ignored in ["", ".", "cache", "./c"] {
            assert_eq!(
                root(&[
                    ("PROFLAB_CACHE_DIR", ignored),
                    ("XDG_CACHE_HOME", ignored),
                    home[0]
                ]),
                Path::new("/home/u/.cache/proflab/timeit"),
                "{ignored:?}"
            );
        }
        let fallback = root(&[("HOME", ""), ("XDG_CACHE_HOME", "")]);
        assert!(fallback.is_absolute(), "{}", fallback.display());
        assert!(
            fallback.ends_with(format!(
                "proflab-timeit-{}",
                rustix::process::geteuid().as_raw()
            )),
            "one folder per user, not one shared by all: {}",
            fallback.display()
        );
    }
}
