//! `proflab timeit --compare` colours the fastest ratio only when asked:
//! `--color always|never`, else `NO_COLOR`, else the terminal.

use assert_cmd::Command;

fn compare(cache: &tempfile::TempDir) -> Command {
    let mut command = Command::cargo_bin("proflab").expect("the proflab binary is built");
    command
        .env("PROFLAB_CACHE_DIR", cache.path())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .args(["timeit", "--compare", "-n", "100", "-r", "1"])
        .args(["-e", "black_box(2u64) * 3", "-e", "black_box(2u64).pow(3)"]);
    command
}

fn stdout_of(command: &mut Command) -> String {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn colour_follows_the_flag_then_no_color_then_the_terminal() {
    let cache = tempfile::tempdir().expect("dir");
    let escape = "\u{1b}[";
    let plain = stdout_of(&mut compare(&cache));
    assert!(plain.contains("x  ") && !plain.contains(escape), "{plain}");
    let forced = stdout_of(compare(&cache).env("CLICOLOR_FORCE", "1"));
    assert!(forced.contains(escape), "{forced}");
    let no_color = stdout_of(
        compare(&cache)
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1"),
    );
    assert!(!no_color.contains(escape), "{no_color}");
    let never = stdout_of(
        compare(&cache)
            .args(["--color", "never"])
            .env("CLICOLOR_FORCE", "1"),
    );
    assert!(!never.contains(escape), "{never}");
    let always = stdout_of(
        compare(&cache)
            .args(["--color", "always"])
            .env("NO_COLOR", "1"),
    );
    assert!(always.contains(escape), "{always}");
    let bad = compare(&cache)
        .args(["--color", "sometimes"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
}
