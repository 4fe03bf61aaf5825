//! The processes timeit starts (Cargo, the snippet), each in a process group
//! of its own, and the SIGINT/SIGTERM/SIGHUP handler that kills those groups
//! before proflab exits: a supervisor signals proflab alone, and a snippet
//! (`loop {}`) or a build would otherwise run on without it.

use std::io;
use std::process::{Child, Command};
use std::sync::{Mutex, Once};

use rustix::process::{Pid, Signal, kill_process_group};

/// The process groups running now. Global because the signal handler can
/// reach nothing else; each entry is removed when its [`Running`] drops.
static RUNNING: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

/// The exit status after an interrupt, as a shell reports Ctrl-C.
const INTERRUPTED_EXIT: i32 = 130;

fn install_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // ctrlc runs this on a thread of its own, not in signal context, so
        // it may lock. If another handler was installed first, the default
        // behaviour applies and `Drop` still kills what it can.
        let _ = ctrlc::set_handler(|| {
            let running = RUNNING
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for group in running.iter() {
                let _ = kill_process_group(*group, Signal::KILL);
            }
            eprintln!("proflab: interrupted; stopped the snippet and its build");
            std::process::exit(INTERRUPTED_EXIT);
        });
    });
}

/// A child started in a process group of its own, killed with its group by
/// an interrupt until this is dropped.
pub(crate) struct Running {
    group: Pid,
}

impl Running {
    /// Spawns `command` as the leader of a new process group.
    pub(crate) fn spawn(command: &mut Command) -> io::Result<(Child, Running)> {
        use std::os::unix::process::CommandExt as _;
        install_handler();
        let mut running = RUNNING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Spawned under the lock, so an interrupt cannot fall between the
        // spawn and the registration.
        let child = command.process_group(0).spawn()?;
        let group = Pid::from_child(&child);
        running.push(group);
        Ok((child, Running { group }))
    }

    /// Kills the whole group (what the child started too).
    pub(crate) fn kill(&self) {
        let _ = kill_process_group(self.group, Signal::KILL);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = RUNNING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        running.retain(|group| *group != self.group);
    }
}
