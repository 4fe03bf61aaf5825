//! `cargo proflab ARGS` as `proflab ARGS`: Cargo runs an external subcommand
//! as `cargo-proflab proflab ARGS`, so this drops that first `proflab` and
//! becomes the `proflab` installed beside it (same process, so its exit code
//! and signals are the user's). A thin wrapper rather than a second copy of
//! the command: the CLI is built and linked once.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args = subcommand_args(std::env::args_os().skip(1));
    let proflab = match beside_this_program() {
        Ok(path) => path,
        Err(message) => {
            eprintln!("cargo-proflab: {message}");
            return ExitCode::from(2);
        }
    };
    // `exec` returns only when it could not start the program.
    let error = Command::new(&proflab).args(args).exec();
    eprintln!("cargo-proflab: cannot run {}: {error}", proflab.display());
    ExitCode::from(2)
}

/// The arguments for `proflab`: all but the subcommand name Cargo passes
/// first (absent when `cargo-proflab` is run by its own name).
fn subcommand_args(mut args: impl Iterator<Item = OsString>) -> Vec<OsString> {
    let first = args.next();
    first
        .filter(|arg| arg != "proflab")
        .into_iter()
        .chain(args)
        .collect()
}

/// `proflab` in this executable's folder, where `cargo install` puts both.
fn beside_this_program() -> Result<PathBuf, String> {
    let this = std::env::current_exe()
        .map_err(|error| format!("cannot find where this program is: {error}"))?;
    let proflab = this.with_file_name(format!("proflab{}", std::env::consts::EXE_SUFFIX));
    if proflab.is_file() {
        Ok(proflab)
    } else {
        Err(format!(
            "{} is missing: `cargo install --path crates/cli` installs it beside {}",
            proflab.display(),
            this.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        subcommand_args(list.iter().map(OsString::from))
    }

    #[test]
    fn the_name_cargo_passes_is_dropped_once() {
        assert_eq!(
            args(&["proflab", "track", "history"]),
            args(&["track", "history"])
        );
        assert_eq!(args(&["proflab", "proflab"]), [OsString::from("proflab")]);
        assert_eq!(args(&["proflab"]), Vec::<OsString>::new());
    }

    #[test]
    fn run_by_its_own_name_every_argument_is_kept() {
        assert_eq!(
            args(&["track", "proflab"]),
            [OsString::from("track"), OsString::from("proflab")]
        );
    }
}
