//! Issue 11, the cases outside `track`: each test feeds the real `proflab`
//! binary the input the issue found harmful and checks for a clear error
//! and exit 2 (or correct behaviour), quickly, with nothing half-written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

/// Every case here must fail (or finish) in seconds; the old binary took
/// minutes or all memory on several of them.
const QUICK: Duration = Duration::from_secs(60);

fn proflab() -> Command {
    let mut command = Command::cargo_bin("proflab").expect("the proflab binary is built");
    command.timeout(QUICK);
    command
}

/// The tutorial's dataset, 200 rows, as CSV in `dir`.
fn dataset(dir: &Path) -> PathBuf {
    let path = dir.join("data.csv");
    proflab()
        .args(["make-classification", "--samples", "200", "-o"])
        .arg(&path)
        .assert()
        .success();
    path
}

fn cv(data: &Path) -> Command {
    let mut command = proflab();
    command
        .args(["cv", "--eta0", "1", "--alpha", "0.0001", "--data"])
        .arg(data);
    command
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("readable")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Case 6: counts that asked for 48 PB, overflowed `splits × repeats`,
/// started 100 000 threads, or read `/dev/zero` into memory.
#[test]
fn case_6_huge_counts_and_endless_input_are_usage_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dataset(dir.path());
    for (extra, option) in [
        (&["--repeats", "99999999999999"][..], "--repeats"),
        (
            &["--splits", "2", "--repeats", "9223372036854775808"],
            "--repeats",
        ),
        (&["--splits", "0"], "--splits"),
        (&["--jobs", "100000"], "--jobs"),
    ] {
        cv(&data)
            .args(extra)
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains("invalid value").and(contains(option)));
    }
    // Each count in range, their product over the memory bound.
    cv(&data)
        .args(["--splits", "10000", "--repeats", "10000"])
        .assert()
        .code(2)
        .stderr(contains("10000 folds x 10000 repeats of 200 rows"));
    if Path::new("/dev/zero").exists() {
        cv(Path::new("/dev/zero"))
            .assert()
            .code(2)
            .stderr(contains("line 1 is longer than 1 MiB: is this a CSV file?"));
    }
}

/// Case 8: outputs checked before the run, each written whole on its own,
/// and no file written that was not named.
#[test]
fn case_8_output_paths_are_checked_before_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("DIR");
    std::fs::create_dir(&folder).expect("mkdir");
    // Ten million iterations would take days: the error must come first.
    let long_run = ["hillclimb", "--n-iter", "10000000"];
    proflab()
        .args(long_run)
        .arg("-o")
        .arg(&folder)
        .assert()
        .code(2)
        .stderr(contains("is a folder"));
    let good = dir.path().join("good.prof");
    proflab()
        .args(long_run)
        .arg("-o")
        .arg(&good)
        .arg("--flamegraph")
        .arg(dir.path().join("missing/f.svg"))
        .assert()
        .code(2)
        .stderr(contains("--flamegraph").and(contains("does not exist")));
    proflab()
        .args(long_run)
        .arg("-o")
        .arg(&good)
        .arg("--flamegraph")
        .arg(&good)
        .assert()
        .code(2)
        .stderr(contains("both name"));
    assert_eq!(names_in(dir.path()), ["DIR"], "something was left behind");
}

/// Whether this process ignores SIGINT, as a command started with `&` from
/// a non-interactive shell does (POSIX shells set it so): its children
/// inherit that, and a Ctrl-C sent to them does nothing.
#[cfg(target_os = "linux")]
fn sigint_ignored_here() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .expect("a SigIgn line");
    mask & (1 << (2 - 1)) != 0
}

/// The checks before the run leave nothing on disk: a run interrupted with
/// Ctrl-C (SIGINT) while outputs are pending leaves the folder as it was.
#[cfg(target_os = "linux")]
#[test]
fn case_8_an_interrupted_run_leaves_no_partial_output() {
    // Where SIGINT reaches no child (the tests were started in the
    // background), SIGTERM interrupts it instead: the point is an
    // interruption, and a hill climb of ten million steps would not end on
    // its own for minutes.
    let signal = if sigint_ignored_here() {
        eprintln!("SIGINT is ignored in this process and its children: interrupting with SIGTERM");
        "-TERM"
    } else {
        "-INT"
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("proflab"))
        .current_dir(dir.path())
        .args(["hillclimb", "--n-iter", "10000000", "-o", "run.prof"])
        .args(["--flamegraph", "run.svg", "--callgraph", "run.dot"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    std::thread::sleep(Duration::from_secs(2));
    let killed = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let interrupted = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if interrupted.elapsed() > QUICK {
            child.kill().expect("kills");
            panic!("still running {QUICK:?} after kill {signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

/// A stand-in for GraphViz's `dot` on PATH: renders the empty graph the
/// pre-run check sends, and the real graph only when `render_real` is true.
#[cfg(unix)]
fn fake_dot(dir: &Path, render_real: bool) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = dir.join("fake-bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let script = bin.join("dot");
    let on_real = if render_real {
        "echo '<svg>rendered</svg>'"
    } else {
        "echo 'fake dot: cannot render this' >&2; exit 1"
    };
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ninput=$(cat)\nif [ \"$input\" = 'digraph {{}}' ]; then echo '<svg/>'; exit 0; fi\n{on_real}\n"
        ),
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    PathBuf::from(std::env::join_paths(paths).expect("joinable"))
}

#[cfg(unix)]
#[test]
fn case_8_callgraph_pictures_leave_a_dot_file_alone_and_fail_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    let dot = work.join("g.dot");
    std::fs::write(&dot, "the user's own graph").expect("seed");

    // Without `dot` at all: refused before the run, g.dot untouched.
    let empty = dir.path().join("empty-bin");
    std::fs::create_dir(&empty).expect("mkdir");
    proflab()
        .env("PATH", &empty)
        .current_dir(&work)
        .args(["hillclimb", "--n-iter", "10000000", "--callgraph", "g.svg"])
        .assert()
        .code(2)
        .stderr(contains("--callgraph g.svg").and(contains("dot")));
    assert_eq!(names_in(&work), ["g.dot"]);

    // With a `dot`: the picture is drawn from its standard input.
    proflab()
        .env("PATH", fake_dot(dir.path(), true))
        .current_dir(&work)
        .args(["hillclimb", "--n-iter", "2", "--callgraph", "g.svg"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&dot).expect("read"),
        "the user's own graph"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("g.svg")).expect("svg"),
        "<svg>rendered</svg>\n"
    );
    assert_eq!(names_in(&work), ["g.dot", "g.svg"]);

    // A render that fails after the run costs neither the -o profile nor
    // the flamegraph.
    std::fs::remove_file(work.join("g.svg")).expect("rm");
    proflab()
        .env("PATH", fake_dot(dir.path(), false))
        .current_dir(&work)
        .args(["hillclimb", "--n-iter", "2", "--callgraph", "g.svg"])
        .args(["-o", "h.prof", "--flamegraph", "h.svg"])
        .assert()
        .code(2)
        .stderr(contains("cannot render g.svg").and(contains("fake dot: cannot render this")));
    assert_eq!(names_in(&work), ["g.dot", "h.prof", "h.svg"]);
    proflab()
        .args(["stats", "--json"])
        .arg(work.join("h.prof"))
        .assert()
        .success()
        .stdout(contains("hill_climb"));
}

/// Case 9: features of 1e308 made margins NaN; `cv` scored the nonsense
/// and exited 0.
#[test]
fn case_9_features_that_could_overflow_are_refused_at_the_door() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("e308.csv");
    let mut text = String::from("x0,x1,y\n");
    for i in 0..100 {
        let sign = if i % 2 == 1 { "" } else { "-" };
        let other = if i % 3 == 0 { "" } else { "-" };
        text.push_str(&format!("{sign}1e308,{other}1e308,{}\n", i % 2));
    }
    std::fs::write(&path, text).expect("write");
    cv(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("line 2, column 1 (x0)").and(contains("rescale the features")));
    // The same limit when generating, so nothing is written that cv refuses.
    let out = dir.path().join("huge.csv");
    proflab()
        .args(["make-classification", "--class-sep", "1e300", "-o"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("lower --class-sep"));
    assert!(!out.exists());
}

/// Case 10: an empty or relative cache setting put the scratch crate and
/// its `target/` in the current folder.
#[test]
fn case_10_empty_or_relative_cache_settings_never_write_to_the_current_folder() {
    let home = tempfile::tempdir().expect("temp dir");
    let work = tempfile::tempdir().expect("temp dir");
    let mut command = proflab();
    command.timeout(Duration::from_secs(600));
    // The toolchain is found through the real home's rustup and cargo.
    if let Some(real_home) = std::env::var_os("HOME") {
        let real_home = PathBuf::from(real_home);
        if std::env::var_os("RUSTUP_HOME").is_none() {
            command.env("RUSTUP_HOME", real_home.join(".rustup"));
        }
        if std::env::var_os("CARGO_HOME").is_none() {
            command.env("CARGO_HOME", real_home.join(".cargo"));
        }
    }
    command
        .env("HOME", home.path())
        .env("PROFLAB_CACHE_DIR", "")
        .env("XDG_CACHE_HOME", "relative")
        .current_dir(work.path())
        .args(["timeit", "-n", "10", "-r", "1", "1 + 1"])
        .assert()
        .success()
        .stdout(contains("10 loops, best of 1"))
        .stderr(contains(
            "XDG_CACHE_HOME=\"relative\" is not an absolute path; ignored",
        ));
    assert_eq!(
        names_in(work.path()),
        Vec::<String>::new(),
        "files landed in the working directory"
    );
    assert!(home.path().join(".cache/proflab/timeit/target").is_dir());
}

/// The lesser cases of issue 11 in these commands.
#[test]
fn lesser_cases_name_the_problem_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.csv");
    let output = cv(&missing).output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(stderr.matches("(os error 2)").count(), 1, "{stderr}");

    cv(dir.path())
        .assert()
        .code(2)
        .stderr(contains("is a folder, not a CSV file").and(contains("line 0").not()));

    for (command, option) in [
        (&["hillclimb", "--step-size", "NaN"][..], "--step-size"),
        (&["hillclimb", "--step-size=-1"], "--step-size"),
        (
            &["cv", "--data", "x.csv", "--eta0", "inf", "--alpha", "0"],
            "--eta0",
        ),
        (
            &["cv", "--data", "x.csv", "--eta0", "1", "--alpha", "NaN"],
            "--alpha",
        ),
        (&["make-classification", "--flip-y", "2"], "--flip-y"),
        (&["make-classification", "--samples", "0"], "--samples"),
        (&["timeit", "-n", "0", "()"], "--number"),
        (&["timeit", "-r", "0", "()"], "--repeat"),
    ] {
        proflab()
            .args(command)
            .assert()
            .code(2)
            .stderr(contains("invalid value").and(contains(option)));
    }
}

/// Issue 35, item 1: `-o` onto a device, FIFO, symlink or hard link made it
/// a regular file (0600 whatever the umask). Now each is written as `cp`
/// would: into the device or FIFO, through the link, keeping modes.
#[test]
fn issue_35_1_outputs_are_written_into_what_the_path_names() {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
    let dir = tempfile::tempdir().expect("temp dir");
    let make = |path: &Path| {
        let mut command = proflab();
        command
            .args(["make-classification", "--samples", "3", "-o"])
            .arg(path);
        command
    };
    let kind = |path: &Path| std::fs::symlink_metadata(path).expect("exists").file_type();

    // A copy of /dev/full needs root to make; elsewhere the real one.
    let full = dir.path().join("full");
    let full = if std::process::Command::new("mknod")
        .arg(&full)
        .args(["c", "1", "7"])
        .status()
        .is_ok_and(|status| status.success())
    {
        full
    } else {
        PathBuf::from("/dev/full")
    };
    make(&full)
        .assert()
        .code(2)
        .stderr(contains("No space left on device"));
    assert!(kind(&full).is_char_device(), "the device was replaced");

    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs")
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read"))
    };
    make(&fifo).assert().success();
    assert_eq!(reader.join().expect("reader").lines().count(), 4);
    assert!(kind(&fifo).is_fifo(), "the FIFO was replaced");

    let target = dir.path().join("target.csv");
    std::fs::write(&target, "old").expect("seed");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let hard = dir.path().join("hard.csv");
    std::fs::hard_link(&target, &hard).expect("hard link");
    make(&link).assert().success();
    assert!(kind(&link).is_symlink(), "the symlink was replaced");
    assert_eq!(
        std::fs::read_to_string(&target)
            .expect("read")
            .lines()
            .count(),
        4
    );
    std::fs::write(&target, "old").expect("seed");
    make(&hard).assert().success();
    assert_eq!(
        std::fs::read_to_string(&target)
            .expect("read")
            .lines()
            .count(),
        4
    );
    assert_eq!(std::fs::metadata(&hard).expect("hard").nlink(), 2);
    assert_eq!(
        std::fs::metadata(&target)
            .expect("target")
            .permissions()
            .mode()
            & 0o777,
        0o644
    );

    // A new file: 0666 minus the umask, as the shell's `>` makes it.
    let new = dir.path().join("new.csv");
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(format!(
        "umask 022 && exec \"$0\" make-classification --samples 3 -o '{}'",
        new.display()
    ));
    command.arg(assert_cmd::cargo::cargo_bin("proflab"));
    assert!(command.status().expect("runs").success());
    assert_eq!(
        std::fs::metadata(&new).expect("new").permissions().mode() & 0o777,
        0o644
    );
}

/// Issue 35, item 3: with no cache setting timeit used a fixed
/// `/tmp/proflab-timeit`, and built and ran a `build.rs` another user had
/// planted there. A cache folder someone else owns or can write to is now
/// refused before anything is built.
#[test]
fn issue_35_3_a_cache_folder_others_control_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let mut cases = vec![(shared, "others can write to it")];
    // Only root can give a folder away; elsewhere the mode case stands alone.
    let strangers = dir.path().join("strangers");
    std::fs::create_dir(&strangers).expect("mkdir");
    if std::os::unix::fs::chown(&strangers, Some(65534), Some(65534)).is_ok() {
        cases.push((strangers, "is owned by uid 65534"));
    }
    for (cache, problem) in cases {
        proflab()
            .env("PROFLAB_CACHE_DIR", &cache)
            .args(["timeit", "-n", "1", "-r", "1", "1 + 1"])
            .assert()
            .code(2)
            .stderr(contains(problem).and(contains("other users could plant code")));
        assert!(
            names_in(&cache).is_empty(),
            "something was written in {}",
            cache.display()
        );
    }
}

/// A git repository with one empty commit at `dir`.
fn git_repo(dir: &Path) {
    for args in [
        &["init", "-q", "-b", "main"][..],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "one",
        ],
    ] {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }
}

/// One Criterion result under `root/<folder>/new` with benchmark id `id`.
fn criterion_result(root: &Path, folder: &str, id: &str, iters: &[f64], times: &[f64]) {
    let new = root.join(folder).join("new");
    std::fs::create_dir_all(&new).expect("mkdir");
    let write = |name: &str, value: serde_json::Value| {
        std::fs::write(new.join(name), value.to_string()).expect("write");
    };
    write("benchmark.json", serde_json::json!({ "full_id": id }));
    write(
        "sample.json",
        serde_json::json!({ "iters": iters, "times": times }),
    );
    write(
        "estimates.json",
        serde_json::json!({ "mean": { "point_estimate": 1.0 } }),
    );
}

/// Issue 35, items 4, 6, 15 and 18: ids with a newline (a fake output
/// line), a NUL (PostgreSQL refused it naming nothing) or 65 536 bytes
/// (every later `compare` panicked), and times of 0 or 1e308 (ratios of 0
/// or infinity, NaN in exports), were all stored. Each is refused on
/// import, naming the benchmark (escaped, shortened) and its folder, and
/// nothing is stored.
#[test]
fn issue_35_ids_and_times_no_analysis_can_show_are_refused_on_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    // `record` reads the checkout's state even under a label.
    git_repo(dir.path());
    let long = format!("g/{}", "x".repeat(70_000));
    let cases: [(&str, &[f64], &str); 5] = [
        (
            "g/a\nrecorded run 999: fake",
            &[100.0, 200.0],
            "control character",
        ),
        ("g/nul\0byte", &[100.0, 200.0], "control character"),
        (&long, &[100.0, 200.0], "70002 bytes long"),
        ("g/zero", &[0.0, 0.0], "not a time per iteration"),
        ("g/huge", &[1e308, 1e308], "not a time per iteration"),
    ];
    for (case, (id, times, problem)) in cases.into_iter().enumerate() {
        let crit = dir.path().join(format!("crit{case}"));
        criterion_result(&crit, "bench", id, &[1.0, 1.0], times);
        let db = dir.path().join(format!("h{case}.sqlite"));
        let output = proflab()
            .current_dir(dir.path())
            .args(["track", "--db"])
            .arg(&db)
            .args(["record", "--label", "v1", "--criterion-dir"])
            .arg(&crit)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{id:.60}: {stderr}");
        assert!(stderr.contains(problem), "{stderr:.300}");
        assert!(
            stderr.contains("bench/new"),
            "the folder is named: {stderr:.300}"
        );
        assert!(
            stderr.len() < 1000,
            "the id is shortened: {} bytes",
            stderr.len()
        );
        assert!(
            !stderr.lines().any(|line| line.starts_with("recorded run")),
            "a fake line got through: {stderr}"
        );
        assert!(!stderr.contains('\0'), "a raw NUL got through");
        assert!(!db.exists(), "something was stored");
    }
}

/// `proflab timeit` with its cache in `cache`; the first build of a snippet
/// takes seconds to minutes.
fn timeit(cache: &Path) -> Command {
    let mut command = proflab();
    command
        .timeout(Duration::from_secs(600))
        .env("PROFLAB_CACHE_DIR", cache)
        .arg("timeit");
    command
}

/// Issue 35, item 13: the snippet's stdout was read as its timings
/// (`println!("1")` reported "1 msec per loop") and its stdin was the
/// request pipe. Now timings travel on a channel of their own, the
/// snippet's output passes through and its stdin is null.
#[test]
fn issue_35_13_a_snippets_output_passes_through_and_its_stdin_is_null() {
    let cache = tempfile::tempdir().expect("temp dir");
    let output = timeit(cache.path())
        .args(["-n", "1000", "-r", "1", r#"println!("1")"#])
        .output()
        .expect("runs");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(output.status.success(), "{stdout}");
    let ones = stdout.lines().filter(|line| *line == "1").count();
    assert!(
        ones >= 1000,
        "the snippet's output was swallowed: {ones} lines"
    );
    let report = stdout.lines().last().expect("a report");
    assert!(report.starts_with("1000 loops, best of 1: "), "{report}");
    assert_ne!(report, "1000 loops, best of 1: 1 msec per loop");

    // A snippet reading stdin, under a parent whose stdin stays open.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("proflab"))
        .env("PROFLAB_CACHE_DIR", cache.path())
        .args(["timeit", "-n", "3", "-r", "1"])
        .arg("let mut line = String::new(); std::io::stdin().read_line(&mut line).unwrap()")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the snippet waits on proflab's stdin"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
}

/// The snippet program proflab `parent` runs, once it runs.
fn snippet_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid …`; comm may hold spaces, not `)`.
        let (comm, rest) = stat.split_once('(')?.1.rsplit_once(')')?;
        let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent && comm.starts_with("snippet_")).then_some(pid)
    })
}

/// Whether `pid` is still running (neither gone nor a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

/// Issue 35, item 10: SIGTERM, SIGINT or SIGHUP to proflab alone (as a
/// supervisor sends) ended proflab and left `loop {}` spinning forever.
#[test]
fn issue_35_10_a_signal_to_proflab_stops_the_snippet_too() {
    let cache = tempfile::tempdir().expect("temp dir");
    for signal in ["TERM", "INT", "HUP"] {
        let mut proflab = std::process::Command::new(assert_cmd::cargo::cargo_bin("proflab"))
            .env("PROFLAB_CACHE_DIR", cache.path())
            .args(["timeit", "-n", "1", "-r", "1", "loop {}"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let started = std::time::Instant::now();
        let snippet = loop {
            if let Some(pid) = snippet_of(proflab.id()) {
                break pid;
            }
            assert!(
                proflab.try_wait().expect("waits").is_none(),
                "proflab ended before its snippet ran"
            );
            assert!(started.elapsed() < Duration::from_secs(600), "no snippet");
            std::thread::sleep(Duration::from_millis(20));
        };
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(proflab.id().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = proflab.wait().expect("proflab ends");
        assert_eq!(status.code(), Some(130), "SIG{signal}: {status}");
        let stopped = std::time::Instant::now();
        while alive(snippet) && stopped.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(snippet), "SIG{signal}: the snippet runs on");
    }
}

/// Issue 35, item 19 (timeit's part): an exiting snippet said "failed
/// while running:" and nothing else, and a Cargo that fails before
/// compiling anything said "the snippet does not compile".
#[test]
fn issue_35_19_timeit_failures_say_what_failed() {
    let cache = tempfile::tempdir().expect("temp dir");
    timeit(cache.path())
        .args(["-n", "1", "-r", "1", "std::process::exit(3)"])
        .assert()
        .code(2)
        .stderr(contains("the snippet exited with code 3 while being timed"));
    timeit(cache.path())
        .env("CARGO", "false")
        .args(["-n", "1", "-r", "1", "1 + 1"])
        .assert()
        .code(2)
        .stderr(
            contains("cargo could not build the snippet").and(contains("does not compile").not()),
        );
}

/// Issue 35, item 8: two symlinks to `.` inside a Criterion folder made
/// `track record` (and `summary`) walk forever, memory growing.
#[test]
fn issue_35_8_symlink_cycles_in_a_criterion_folder_are_not_followed() {
    let dir = tempfile::tempdir().expect("temp dir");
    git_repo(dir.path());
    let crit = dir.path().join("crit");
    criterion_result(&crit, "g/f", "g/f", &[1.0, 2.0], &[100.0, 200.0]);
    for name in ["a", "b"] {
        std::os::unix::fs::symlink(".", crit.join(name)).expect("symlink");
        std::os::unix::fs::symlink(".", crit.join("g").join(name)).expect("symlink");
    }
    proflab()
        .timeout(Duration::from_secs(20))
        .current_dir(dir.path())
        .args([
            "track",
            "--db",
            "h.sqlite",
            "record",
            "--label",
            "v1",
            "--criterion-dir",
        ])
        .arg(&crit)
        .assert()
        .success()
        .stdout(contains("1 benchmarks"));
    proflab()
        .timeout(Duration::from_secs(20))
        .args(["summary", "--criterion-dir"])
        .arg(&crit)
        .assert()
        .code(predicate::in_iter([0, 2]));
}

/// Issue 35, item 19: messages that named the wrong problem.
#[test]
fn issue_35_19_messages_name_the_real_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    git_repo(dir.path());
    let crit = dir.path().join("crit");
    criterion_result(&crit, "g/f", "g/f", &[1.0, 2.0], &[100.0, 200.0]);
    let output = proflab()
        .args(["cv", "--data", "x.csv", "--alpha", "0", "--eta0=1e300"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("1e300 is out of range"), "{stderr}");
    assert!(!stderr.contains("0000000000"), "{stderr}");

    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).expect("mkdir");
    for command in [
        &["history"][..],
        &["record", "--label", "v1", "--criterion-dir", "crit"],
    ] {
        proflab()
            .current_dir(dir.path())
            .args(["track", "--db"])
            .arg(&folder)
            .args(command)
            .assert()
            .code(2)
            .stderr(contains("is a folder").and(contains("record a run first").not()));
    }

    proflab()
        .current_dir(dir.path())
        .args(["track", "--db", "h.sqlite", "bisect", "HEAD", "HEAD"])
        .assert()
        .code(2)
        .stderr(contains("GOOD and BAD are the same commit"));

    proflab()
        .current_dir(dir.path())
        .args([
            "track",
            "--db",
            "h.sqlite",
            "record",
            "--label",
            "v1",
            "--criterion-dir",
        ])
        .arg(&crit)
        .assert()
        .success();
    let file = dir.path().join("file");
    std::fs::write(&file, "mine").expect("write");
    proflab()
        .current_dir(dir.path())
        .args(["track", "--db", "h.sqlite", "report", "-o"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains("cannot write").and(contains("cannot read").not()));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "mine");
}

/// Issue 35, item 11: a supervisor's SIGTERM to `proflab track run` alone
/// during its build must end what the build started too, not only Cargo:
/// a compiler or build script left running writes on into a target folder
/// the next run reuses. The fixture's build script sleeps (after writing its
/// pid), so only killing the build's whole process group stops it in time.
#[test]
fn issue_35_11_a_terminated_build_takes_its_build_scripts_with_it() {
    let repo = tempfile::tempdir().expect("temp dir");
    let files = [
        (
            "Cargo.toml",
            "[package]\nname = \"slow-build\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [[bench]]\nname = \"suite\"\nharness = false\n",
        ),
        ("src/lib.rs", ""),
        ("benches/suite.rs", "fn main() {}\n"),
        (
            "build.rs",
            "fn main() {\n    \
             if let Some(path) = std::env::var_os(\"BUILD_SCRIPT_PID\") {\n        \
             std::fs::write(path, std::process::id().to_string()).unwrap();\n        \
             std::thread::sleep(std::time::Duration::from_secs(300));\n    }\n}\n",
        ),
    ];
    for (name, text) in files {
        let path = repo.path().join(name);
        std::fs::create_dir_all(path.parent().expect("in the repo")).expect("folder");
        std::fs::write(path, text).expect("fixture file");
    }
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "one"],
        &["commit", "-q", "--allow-empty", "-m", "two"],
    ] {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(repo.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }
    let pid_file = repo.path().join("build-script.pid");
    let target = tempfile::tempdir().expect("temp dir");
    let mut proflab = std::process::Command::new(assert_cmd::cargo::cargo_bin("proflab"))
        .current_dir(repo.path())
        .env("BUILD_SCRIPT_PID", &pid_file)
        .args(["track", "run", "HEAD~1", "HEAD", "--target-dir"])
        .arg(target.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let started = std::time::Instant::now();
    let build_script: u32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.parse().ok())
        {
            break pid;
        }
        assert!(
            proflab.try_wait().expect("waits").is_none(),
            "proflab ended before the build script ran"
        );
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no build script"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(alive(build_script));
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &proflab.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = proflab.wait_with_output().expect("proflab ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "128 + SIGTERM: {stderr}");
    assert!(
        stderr.contains("interrupted by SIGTERM; nothing was recorded"),
        "{stderr}"
    );
    // A killed process group is gone at once; the kernel reaps it in moments.
    let stopped = std::time::Instant::now();
    while alive(build_script) && stopped.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(build_script), "the build script runs on");
}
