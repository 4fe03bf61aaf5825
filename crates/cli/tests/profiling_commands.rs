//! Runs the real `proflab` binary with `--profile` and `proflab stats`: the
//! tutorial's `python -m cProfile -s ncalls` and `-o` workflows, end to end.

use std::process::Command as Process;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn proflab() -> Command {
    Command::cargo_bin("proflab").expect("the proflab binary is built")
}

/// The table row of `name`, split into its columns.
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    let line = table
        .lines()
        .find(|l| l.ends_with(&format!("({name})")))
        .unwrap_or_else(|| panic!("no row for {name} in\n{table}"));
    line.split_whitespace().collect()
}

#[test]
fn profiled_hillclimb_counts_101_objective_calls() {
    let output = proflab()
        .args(["hillclimb", "--profile", "-s", "ncalls"])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(stdout.contains("Done!"), "{stdout}");
    assert!(stdout.contains("   Ordered by: call count"), "{stdout}");
    assert_eq!(row(&stdout, "objective")[0], "101");
    assert_eq!(row(&stdout, "cross_val_score")[0], "101");
    // One row per fit: the fits are trained interleaved, and each calls
    // finish_fit as it leaves its lane (docs/PROFILING.md).
    assert_eq!(row(&stdout, "finish_fit")[0], "3030");
    assert_eq!(row(&stdout, "hill_climb")[0], "1");
    assert_eq!(row(&stdout, "step")[0], "100");
}

#[test]
fn saved_stats_open_in_python_pstats_and_in_our_browser() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("hillclimb.prof");
    let svg = dir.path().join("hillclimb.svg");
    let dot = dir.path().join("hillclimb.dot");
    proflab()
        .args(["hillclimb", "--n-iter", "10", "-o"])
        .arg(&path)
        .arg("--flamegraph")
        .arg(&svg)
        .arg("--callgraph")
        .arg(&dot)
        .assert()
        .success()
        // With -o the table is saved, not printed, as with cProfile.
        .stdout(contains("function calls").not());

    // Python's own pstats opens the file; the rest of the test needs no python3.
    if let Some(python3) = proflab_testkit::tool_or_skip(
        "saved_stats_open_in_python_pstats (the rest still runs)",
        &["python3"],
        "apt-get install python3",
    ) {
        let python = Process::new(python3)
            .args(["-c", "import pstats, sys; pstats.Stats(sys.argv[1]).strip_dirs().sort_stats('ncalls').print_stats()"])
            .arg(&path)
            .output()
            .expect("python3 runs");
        assert!(
            python.status.success(),
            "{}",
            String::from_utf8_lossy(&python.stderr)
        );
        let table = String::from_utf8(python.stdout).expect("utf-8");
        assert_eq!(row(&table, "objective")[0], "11");
        assert_eq!(row(&table, "finish_fit")[0], "330");
    }

    let browsed = proflab()
        .arg("stats")
        .arg(&path)
        .write_stdin("strip\nsort ncalls\nstats objective\ncallers finish_fit\nquit\n")
        .output()
        .expect("runs");
    assert!(browsed.status.success());
    let browsed = String::from_utf8(browsed.stdout).expect("utf-8");
    assert!(
        browsed.contains(&format!("{}% ", path.display())),
        "{browsed}"
    );
    assert_eq!(row(&browsed, "objective")[0], "11");
    assert!(browsed.contains("was called by..."), "{browsed}");
    assert!(browsed.ends_with("Goodbye.\n"), "{browsed}");

    let svg = std::fs::read_to_string(&svg).expect("flamegraph written");
    assert!(
        svg.contains("<svg") && svg.contains("objective"),
        "flamegraph lacks the objective frame"
    );
    let dot = std::fs::read_to_string(&dot).expect("call graph written");
    assert!(
        dot.starts_with("digraph profile {") && dot.contains("-> f") && dot.contains("11 calls"),
        "{dot}"
    );
}

#[test]
fn stats_json_exports_every_function() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("run.prof");
    proflab()
        .args(["hillclimb", "--n-iter", "3", "-o"])
        .arg(&path)
        .assert()
        .success();
    let output = proflab()
        .args(["stats", "--json"])
        .arg(&path)
        .output()
        .expect("runs");
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let objective = json["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .find(|f| f["name"] == "objective")
        .expect("objective");
    assert_eq!(objective["ncalls"], 4);
}

#[test]
fn memory_columns_count_allocations() {
    let output = proflab()
        .args(["hillclimb", "--n-iter", "2", "--memory"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        stdout.contains("  allocs      bytes filename:lineno(function)"),
        "{stdout}"
    );
    let make = row(&stdout, "make_classification");
    let (allocations, bytes): (u64, u64) = (
        make[5].parse().expect("count"),
        make[6].parse().expect("bytes"),
    );
    // The 1000 x 5 dataset alone is 40 000 bytes.
    assert!(allocations > 0 && bytes >= 40_000, "{make:?}");
}

#[test]
fn bad_sort_keys_and_bad_files_are_usage_errors() {
    proflab()
        .args(["hillclimb", "--n-iter", "1", "-s", "bogus"])
        .assert()
        .code(2)
        .stderr(contains("unknown or ambiguous sort key \"bogus\"").and(contains("cumulative")))
        .stdout(contains("Done!").not());
    let dir = tempfile::tempdir().expect("temp dir");
    let corrupt = dir.path().join("corrupt.prof");
    std::fs::write(&corrupt, b"{)\x03z").expect("write");
    proflab()
        .arg("stats")
        .arg(&corrupt)
        .write_stdin("quit\n")
        .assert()
        .code(2)
        .stderr(contains("not a cProfile stats file"));
    proflab()
        .arg("stats")
        .arg(dir.path().join("missing.prof"))
        .assert()
        .code(2)
        .stderr(contains("missing.prof"));
}

/// Issue 11, case 1: 514 bytes whose back-references name back-references.
/// A reader that copies them fills all memory; ours shares them and says
/// what is wrong at once.
#[test]
fn a_stats_file_of_references_to_references_is_refused_at_once() {
    const ONE_LINER: &str = "import struct;open('l.prof','wb').write(b'{\\xa9\\x02NNN'+b''.join(b'\\xa9\\x02r'+struct.pack('<i',i)+b'r'+struct.pack('<i',i)+b'N' for i in range(39))+b'0')";
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("l.prof");
    let mut bytes = b"{\xa9\x02NNN".to_vec();
    for i in 0..39i32 {
        bytes.extend_from_slice(b"\xa9\x02r");
        bytes.extend_from_slice(&i.to_le_bytes());
        bytes.push(b'r');
        bytes.extend_from_slice(&i.to_le_bytes());
        bytes.push(b'N');
    }
    bytes.push(b'0');
    // The issue's own command, where python3 is here, makes the same file.
    match Process::new("python3")
        .args(["-c", ONE_LINER])
        .current_dir(dir.path())
        .status()
    {
        Ok(status) if status.success() => {
            assert_eq!(std::fs::read(&path).expect("written by python3"), bytes);
        }
        _ if std::env::var_os("CI").is_some() => panic!("python3 is required in CI"),
        _ => {
            eprintln!("note: python3 not found; writing the issue's bytes directly");
            std::fs::write(&path, &bytes).expect("write");
        }
    }
    let started = std::time::Instant::now();
    proflab()
        .args(["stats", "--json"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(contains("l.prof: not a cProfile stats file").and(contains("(file, line, name)")));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// `proflab stats A B` is `python3 -m pstats A B`: B added before the first
/// prompt, then the same output for the same piped commands, byte for byte.
#[test]
fn stats_with_two_files_prints_what_python_pstats_prints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("work.py");
    std::fs::write(
        &script,
        "import json, textwrap\n\
         for i in range(30):\n    json.loads(json.dumps({'k': [i] * 5}))\n\
         textwrap.fill('word ' * 200, 30)\n",
    )
    .expect("write script");
    let profiles = [dir.path().join("a.prof"), dir.path().join("b.prof")];
    for profile in &profiles {
        match Process::new("python3")
            .args(["-m", "cProfile", "-o"])
            .arg(profile)
            .arg(&script)
            .output()
        {
            Ok(output) if output.status.success() => {}
            _ if std::env::var_os("CI").is_some() => panic!("python3 is required in CI"),
            _ => {
                eprintln!("note: python3 not found; skipped");
                return;
            }
        }
    }
    let commands = "sort time\nstats 15\nreverse\nstats 0.1\nstrip\nsort name file\ncallers 0.05\nstats .*json.* 10\n";
    let python = Process::new("python3")
        .args(["-m", "pstats"])
        .args(&profiles)
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(commands.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3 runs");
    assert!(python.status.success());
    let ours = proflab()
        .arg("stats")
        .args(&profiles)
        .write_stdin(commands)
        .output()
        .expect("runs");
    assert!(ours.status.success());
    let (ours, python) = (
        String::from_utf8(ours.stdout).expect("utf-8"),
        String::from_utf8(python.stdout).expect("utf-8"),
    );
    assert!(python.contains("List reduced from"), "{python}");
    assert_eq!(ours, python);
}

/// Issue 35 item 17 and issue 34 items 3 and 4: a profile under a folder
/// whose name is not UTF-8, browsed under `TZ=Asia/Kolkata`, with `read`
/// and `add` of files that fail. Python (in its UTF-8 mode under `LC_ALL=C`,
/// which passes such names through as bytes) and we print the same bytes:
/// the header's date in local time, the prompt with the raw name, and
/// CPython's messages.
#[cfg(unix)]
#[test]
fn stats_prints_local_time_raw_names_and_pythons_messages() {
    use std::os::unix::ffi::OsStrExt as _;
    let Some(python3) = proflab_testkit::tool_or_skip(
        "stats_prints_local_time_raw_names_and_pythons_messages",
        &["python3"],
        "apt-get install python3",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join(std::ffi::OsStr::from_bytes(b"bad\xff"));
    std::fs::create_dir(&folder).expect("a folder named in Latin-1");
    let profile = folder.join("r.prof");
    let script = dir.path().join("work.py");
    std::fs::write(&script, "import json\nfor i in range(9): json.dumps([i])\n").expect("write");
    let status = Process::new(&python3)
        .args(["-m", "cProfile", "-o"])
        .arg(&profile)
        .arg(&script)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    std::fs::write(dir.path().join("empty.prof"), b"").expect("write");
    let commands =
        "sort time\nstats 3\nread missing.prof\nread empty.prof\nadd missing.prof\nstats 2\nquit\n";
    let python = Process::new(&python3)
        .args(["-m", "pstats"])
        .arg(&profile)
        .current_dir(dir.path())
        .env("TZ", "Asia/Kolkata")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(commands.as_bytes())?;
            child.wait_with_output()
        })
        .expect("python3 runs");
    assert!(python.status.success());
    let ours = proflab()
        .arg("stats")
        .arg(&profile)
        .current_dir(dir.path())
        .env("TZ", "Asia/Kolkata")
        .write_stdin(commands)
        .output()
        .expect("runs");
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let text = String::from_utf8_lossy(&python.stdout);
    for expected in [
        "% No such file or directory\n",
        "EOFError: EOF read where object expected\n",
        "Failed to load statistics for missing.prof: [Errno 2] No such file or directory: 'missing.prof'\n",
        "bad\u{fffd}/r.prof% ",
    ] {
        assert!(
            text.contains(expected),
            "python printed no {expected:?}:\n{text}"
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        text,
        "the outputs differ"
    );
    assert_eq!(ours.stdout, python.stdout);
}

/// Issue 34 item 4: at a terminal (made by util-linux's `script`), a file
/// that cannot be opened is reported as CPython does and the browser opens
/// empty, where `read` could load another; piped, it is exit 2 (see
/// `bad_sort_keys_and_bad_files_are_usage_errors`).
#[test]
fn at_a_terminal_a_missing_file_opens_an_empty_browser() {
    let Some(script) = proflab_testkit::tool_or_skip(
        "at_a_terminal_a_missing_file_opens_an_empty_browser",
        &["script"],
        "apt-get install util-linux",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let binary = assert_cmd::cargo::cargo_bin("proflab");
    let command = format!("'{}' stats missing.prof", binary.display());
    let output = Process::new(script)
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(b"stats\nquit\n")?;
            child.wait_with_output()
        })
        .expect("script runs");
    let text = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(
            "No such file or directory\nWelcome to the profile statistics browser.\n% No statistics object is loaded.\n% Goodbye.\n"
        ),
        "{text}"
    );
}
