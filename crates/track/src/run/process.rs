//! Child processes of a paired run: run to completion, stopped on an interrupt.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};

use crate::TrackError;

/// Set by the SIGINT/SIGTERM/SIGHUP handler, read while a benchmark runs
/// and between runs. Global because a signal handler can reach nothing
/// else; installed once per process.
pub(super) fn interrupted_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let for_handler = Arc::clone(&flag);
        // If another handler is already installed the flag stays false and
        // the default behaviour applies; the guard still cleans up on errors.
        let _ = ctrlc::set_handler(move || for_handler.store(true, Ordering::SeqCst));
        flag
    })
    .clone()
}

/// Runs `cmd` to completion and returns its stdout; fails naming the command,
/// the commit and the end of its stderr unless it succeeds. An interrupt
/// (SIGINT, SIGTERM, SIGHUP) kills the child's process group and fails with
/// `Interrupted`.
pub(super) fn run_checked(mut cmd: Command, commit: &str) -> Result<String, TrackError> {
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
                if tail.len() == 40 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            Vec::from(tail).join("\n")
        })
    });
    let interrupted = interrupted_flag();
    let status = loop {
        if interrupted.load(Ordering::SeqCst) {
            let _ = kill_process_group(Pid::from_child(&child), Signal::KILL);
            let _ = child.wait();
            return Err(TrackError::Interrupted);
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
    Ok(stdout)
}
