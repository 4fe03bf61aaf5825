//! CPython's own `pstats` is the oracle for our file format and our layout:
//! each test writes a stats file, has `python3` print it with pstats, and
//! compares with what we print from the same file, byte for byte. Without
//! python3 each test skips with a note (and fails where `CI` is set); the tests
//! create all else they need.

use std::path::Path;
use std::process::Command;

use proflab::{CallerStats, FunctionKey, FunctionStats, Restriction, Restrictions, Stats};

fn key(file: &str, line: u32, name: &str) -> FunctionKey {
    FunctionKey {
        file: file.into(),
        line,
        name: name.into(),
    }
}

fn edge(calls: u64, primitive_calls: u64, tottime: f64, cumtime: f64) -> CallerStats {
    CallerStats {
        calls,
        primitive_calls,
        tottime,
        cumtime,
        count_only: false,
    }
}

/// A profile shaped like the tutorial's: recursion, several callers, a
/// built-in, directories to strip, and names of different lengths.
fn tutorial_like() -> Stats {
    let main = key("/work/src/main.rs", 10, "main");
    let climb = key("/work/crates/perceptron/src/search.rs", 120, "hill_climb");
    let objective = key("/work/crates/perceptron/src/search.rs", 150, "objective");
    let fit = key("/work/crates/perceptron/src/model.rs", 133, "fit_rows");
    let fib = key("/work/src/fib.rs", 3, "fib");
    let builtin = key("~", 0, "<built-in method builtins.len>");
    let entry = |cc, nc, tt, ct, callers: Vec<(FunctionKey, CallerStats)>| FunctionStats {
        primitive_calls: cc,
        calls: nc,
        tottime: tt,
        cumtime: ct,
        callers: callers.into_iter().collect(),
        ..FunctionStats::default()
    };
    Stats::from_entries([
        (main.clone(), entry(1, 1, 0.0012, 1.2345, vec![])),
        (
            climb.clone(),
            entry(
                1,
                1,
                0.0101,
                1.2001,
                vec![(main.clone(), edge(1, 1, 0.0101, 1.2001))],
            ),
        ),
        (
            objective.clone(),
            entry(
                101,
                101,
                0.0421,
                1.19,
                vec![(climb.clone(), edge(101, 101, 0.0421, 1.19))],
            ),
        ),
        (
            fit.clone(),
            entry(
                3030,
                3030,
                1.1,
                1.1,
                vec![
                    (objective.clone(), edge(3000, 3000, 1.0, 1.0)),
                    (main.clone(), edge(30, 30, 0.1, 0.1)),
                ],
            ),
        ),
        (
            fib.clone(),
            entry(
                1,
                21891,
                0.0203,
                0.0203,
                vec![
                    (fib.clone(), edge(21890, 0, 0.0202, 0.0)),
                    (main.clone(), edge(1, 1, 0.0001, 0.0203)),
                ],
            ),
        ),
        (
            builtin,
            entry(
                7,
                7,
                0.000_004,
                0.000_004,
                vec![(fit, edge(7, 7, 0.000_004, 0.000_004))],
            ),
        ),
    ])
}

/// Whether python3 runs; else the test prints why it skips (or fails under CI).
fn has_python3(test: &str) -> bool {
    proflab_testkit::tool_or_skip(test, &["python3"], "apt-get install python3").is_some()
}

/// What python3's pstats prints for `file` after `script` (Python source
/// using `s`, the loaded Stats).
fn python_pstats(file: &Path, script: &str) -> String {
    let program = format!("import pstats, sys\ns = pstats.Stats(sys.argv[1])\n{script}\n");
    let output = Command::new("python3")
        .arg("-c")
        .arg(program)
        .arg(file)
        .env("TZ", "UTC")
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn ours(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("in-memory write");
    String::from_utf8(out).expect("utf-8")
}

fn dumped(stats: &Stats) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("profile.prof");
    stats.dump_stats(&path).expect("dump");
    (dir, path)
}

#[test]
fn python_prints_our_file_exactly_as_we_do_for_every_sort_key() {
    if !has_python3("python_prints_our_file_exactly_as_we_do_for_every_sort_key") {
        return;
    }
    let (_dir, path) = dumped(&tutorial_like());
    let loaded = Stats::load(&path).expect("our own file loads");
    for keys in [
        vec!["cumulative"],
        vec!["tottime"],
        vec!["calls", "stdname"],
        vec!["pcalls", "name"],
        vec!["nfl"],
        vec!["stdname"],
        vec!["filename", "line"],
        vec!["module", "name"],
    ] {
        let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
        let expected = python_pstats(
            &path,
            &format!("s.sort_stats({}).print_stats()", quoted.join(", ")),
        );
        let sorted = loaded.sort_stats(&keys).expect("valid keys");
        assert_eq!(
            ours(|out| sorted.write_stats(out, ())),
            expected,
            "sort {keys:?}"
        );
    }
}

#[test]
fn restrictions_and_stripped_directories_match_python() {
    if !has_python3("restrictions_and_stripped_directories_match_python") {
        return;
    }
    let (_dir, path) = dumped(&tutorial_like());
    let stripped = Stats::load(&path).expect("loads").strip_dirs();
    let loaded = stripped.sort_stats(&["cumulative"]).expect("valid");
    let cases: Vec<(&str, Restrictions)> = vec![
        ("3", 3.into()),
        ("0.5", 0.5.into()),
        ("'fit|obj'", "fit|obj".into()),
        (
            "'search', 1",
            vec![Restriction::Pattern("search".into()), Restriction::Count(1)].into(),
        ),
        ("'[unclosed'", "[unclosed".into()),
    ];
    for (python_args, restrictions) in cases {
        let expected = python_pstats(
            &path,
            &format!("s.strip_dirs().sort_stats('cumulative').print_stats({python_args})"),
        );
        assert_eq!(
            ours(|out| loaded.write_stats(out, restrictions.clone())),
            expected,
            "print_stats({python_args})"
        );
    }
}

#[test]
fn callers_and_callees_match_python() {
    if !has_python3("callers_and_callees_match_python") {
        return;
    }
    let (_dir, path) = dumped(&tutorial_like());
    let stats = Stats::load(&path).expect("loads");
    let loaded = stats.sort_stats(&["stdname"]).expect("valid");
    let expected = python_pstats(&path, "s.sort_stats('stdname').print_callers()");
    assert_eq!(ours(|out| loaded.write_callers(out, ())), expected);
    let expected = python_pstats(&path, "s.sort_stats('stdname').print_callees()");
    assert_eq!(ours(|out| loaded.write_callees(out, ())), expected);
    let expected = python_pstats(&path, "s.sort_stats('stdname').print_callers('fit')");
    assert_eq!(ours(|out| loaded.write_callers(out, "fit")), expected);
}

#[test]
fn a_file_written_by_cprofile_loads_and_prints_as_python_prints_it() {
    if !has_python3("a_file_written_by_cprofile_loads_and_prints_as_python_prints_it") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("work.py");
    std::fs::write(
        &script,
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\
         def main():\n    total = sum(len(str(i)) for i in range(1000))\n    return fib(15) + total\n\
         main()\n",
    )
    .expect("write script");
    let path = dir.path().join("cpython.prof");
    let status = Command::new("python3")
        .args(["-m", "cProfile", "-o"])
        .arg(&path)
        .arg(&script)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let loaded = Stats::load(&path).expect("CPython's file loads");
    assert_eq!(loaded.function("fib").expect("fib").1.calls, 1973);
    assert_eq!(loaded.function("fib").expect("fib").1.primitive_calls, 1);
    for script in [
        "s.sort_stats('calls', 'stdname').print_stats()",
        "s.strip_dirs().sort_stats('stdname').print_callers()",
    ] {
        let expected = python_pstats(&path, script);
        let stats = if script.contains("strip") {
            loaded.clone().strip_dirs()
        } else {
            loaded.clone()
        };
        let keys: &[&str] = if script.contains("calls'") {
            &["calls", "stdname"]
        } else {
            &["stdname"]
        };
        let sorted = stats.sort_stats(keys).expect("valid keys");
        let printed = if script.contains("callers") {
            ours(|out| sorted.write_callers(out, ()))
        } else {
            ours(|out| sorted.write_stats(out, ()))
        };
        assert_eq!(printed, expected, "{script}");
    }
    // And what we write back from it, Python reads the same.
    let again = dir.path().join("again.prof");
    loaded.dump_stats(&again).expect("dump");
    let original = python_pstats(&path, "s.sort_stats('stdname').print_stats()");
    let rewritten = python_pstats(&again, "s.sort_stats('stdname').print_stats()");
    let without_header = |text: &str| text.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(without_header(&rewritten), without_header(&original));
}

#[test]
fn corrupt_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("corrupt.prof");
    let good = tutorial_like().to_marshal();
    std::fs::write(&path, &good[..good.len() / 2]).expect("write");
    let error = Stats::load(&path).expect_err("truncated file");
    assert!(
        error
            .to_string()
            .contains("corrupt.prof: not a cProfile stats file"),
        "{error}"
    );
    std::fs::write(&path, b"hello, world").expect("write");
    assert!(Stats::load(&path).is_err());
    let missing = Stats::load(&dir.path().join("missing.prof")).expect_err("missing file");
    assert!(missing.to_string().contains("missing.prof"), "{missing}");
}
