//! Child processes of a paired run: run to completion, stopped on an interrupt.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::TrackError;

/// The signal that stopped a paired run: SIGINT (Ctrl-C), SIGTERM (a CI job's
/// timeout, a supervisor) or SIGHUP (a closed terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    Interrupt,
    Terminate,
    HangUp,
}

impl Interruption {
    fn from_signal(signal: usize) -> Option<Interruption> {
        match i32::try_from(signal).ok()? {
            SIGINT => Some(Interruption::Interrupt),
            SIGTERM => Some(Interruption::Terminate),
            SIGHUP => Some(Interruption::HangUp),
            _ => None,
        }
    }

    /// 128 + the signal's number, as a shell reports a command the signal
    /// stopped (130, 143, 129), so that a script can tell an interrupt
    /// from a failure and the one signal from the other.
    pub fn exit_code(self) -> u8 {
        let signal = match self {
            Interruption::Interrupt => SIGINT,
            Interruption::Terminate => SIGTERM,
            Interruption::HangUp => SIGHUP,
        };
        128 + signal as u8
    }
}

impl std::fmt::Display for Interruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Interruption::Interrupt => "SIGINT",
            Interruption::Terminate => "SIGTERM",
            Interruption::HangUp => "SIGHUP",
        })
    }
}

/// The number of the last SIGINT, SIGTERM or SIGHUP received, 0 before any;
/// read while a benchmark runs and between runs. Global because a signal
/// handler can reach nothing else; the handlers are installed once per
/// process, and a run starts by setting it back to 0 ([`clear_interruption`]).
fn received_signal() -> &'static Arc<AtomicUsize> {
    static SIGNAL: std::sync::OnceLock<Arc<AtomicUsize>> = std::sync::OnceLock::new();
    SIGNAL.get_or_init(|| {
        let signal = Arc::new(AtomicUsize::new(0));
        for number in [SIGINT, SIGTERM, SIGHUP] {
            // Should registering fail, that signal keeps its default
            // action (the process ends at once); the worktrees' guard still
            // cleans up on every error path.
            let _ = signal_hook::flag::register_usize(
                number,
                Arc::clone(&signal),
                number.unsigned_abs() as usize,
            );
        }
        signal
    })
}

/// Installs the handlers if need be and forgets any earlier signal.
pub(super) fn clear_interruption() {
    received_signal().store(0, Ordering::SeqCst);
}

/// The interruption received since [`clear_interruption`], if any.
fn interruption() -> Option<Interruption> {
    Interruption::from_signal(received_signal().load(Ordering::SeqCst))
}

/// What a child that succeeded printed.
pub(super) struct Finished {
    pub(super) stdout: String,
    /// The last [`STDERR_LINES`] lines of its stderr.
    pub(super) stderr: String,
}

/// Lines of a child's stderr kept: a build's first error, with its
/// `--> file:line`, can be dozens of lines above the end.
const STDERR_LINES: usize = 200;

/// Runs `cmd` to completion and returns what it printed; fails naming the
/// command, the commit and the end of its stderr unless it succeeds. An
/// interrupt (SIGINT, SIGTERM, SIGHUP) kills the child's process group and
/// fails with `Interrupted`.
pub(super) fn run_checked(mut cmd: Command, commit: &str) -> Result<Finished, TrackError> {
    let command = format!("{cmd:?}");
    // A group of its own: an interrupt kills what the child started too (the
    // `rustc`s of a build would otherwise compile on for seconds into a
    // target folder the next run reuses).
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| TrackError::Spawn {
            command: command.clone(),
            source,
        })?;
    let stdout = child.stdout.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        })
    });
    // Keep only the end of stderr: enough to say why a bench failed.
    let stderr = child.stderr.take().map(|pipe| {
        std::thread::spawn(move || {
            let mut tail = std::collections::VecDeque::new();
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tail.len() == STDERR_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            Vec::from(tail).join("\n")
        })
    });
    let status = loop {
        if let Some(signal) = interruption() {
            let _ = kill_process_group(Pid::from_child(&child), Signal::KILL);
            let _ = child.wait();
            // What the run keeps is known only to `run_paired`, which says it.
            return Err(TrackError::Interrupted {
                signal,
                kept: String::new(),
            });
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(source) => {
                return Err(TrackError::Spawn { command, source });
            }
        }
    };
    let stdout = stdout.and_then(|t| t.join().ok()).unwrap_or_default();
    let stderr = stderr.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        return Err(TrackError::BenchFailed {
            command,
            commit: commit.to_owned(),
            stderr,
        });
    }
    Ok(Finished { stdout, stderr })
}
