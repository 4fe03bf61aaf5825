//! `cargo proflab ARGS` as Rust users run cargo tools: Cargo finds
//! `cargo-proflab` on PATH (where `cargo install --path crates/cli` puts it
//! beside `proflab`) and it must behave exactly as `proflab ARGS`.

use std::path::Path;
use std::process::{Command, Output};

fn cargo() -> Command {
    // Cargo tells the tests it runs which cargo it is.
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

#[test]
fn cargo_proflab_is_proflab() {
    let proflab = Path::new(env!("CARGO_BIN_EXE_proflab"));
    let installed = proflab.parent().expect("a folder");
    assert_eq!(
        Path::new(env!("CARGO_BIN_EXE_cargo-proflab")).parent(),
        Some(installed),
        "built side by side, as installed"
    );
    let path = std::env::join_paths(std::iter::once(installed.to_owned()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let missing = elsewhere.path().join("missing.prof");
    for args in [
        vec!["--version".into()],
        // A usage error: the same message and exit code 2.
        vec!["stats".into(), missing.to_string_lossy().into_owned()],
        // `proflab` twice: only the name Cargo passes is dropped.
        vec!["proflab".into()],
    ] {
        let run = |mut cmd: Command| -> Output {
            cmd.args(&args)
                .current_dir(elsewhere.path())
                .env("NO_COLOR", "1")
                .output()
                .unwrap()
        };
        let direct = run(Command::new(proflab));
        let mut via_cargo = cargo();
        via_cargo.arg("proflab").env("PATH", &path);
        let via_cargo = run(via_cargo);
        assert_eq!(via_cargo.status.code(), direct.status.code(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&via_cargo.stdout),
            String::from_utf8_lossy(&direct.stdout),
            "{args:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&via_cargo.stderr),
            String::from_utf8_lossy(&direct.stderr),
            "{args:?}"
        );
    }
}
