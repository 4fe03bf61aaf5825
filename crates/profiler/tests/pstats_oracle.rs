//! CPython's `python3 -m pstats` is the oracle, on real profiles: three
//! stdlib-only programs (tests/oracle/*.py: importing most of the standard
//! library; unittest and doctest runs; argparse, email, pydoc, csv work) are
//! profiled by `python3 -m cProfile` into a temporary folder, each with over
//! 2000 functions and plenty of ties. The same command sets go to one
//! `python3 -m pstats` process per profile and to our [`Browser`], and the
//! outputs must be equal byte for byte, command by command: every sort key
//! alone and in pairs, `reverse`, `strip`, integer, fraction and regular
//! expression restrictions and their combinations, `callers` and `callees`
//! with restrictions, `read` and `add`. The first profile, saved again by our
//! marshal writer, is a fourth session: Python must list our file as we do.
//!
//! Without python3 the test prints a note and passes, unless `CI` is set:
//! then it fails.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use proflab::{Browser, SortKey, Stats};

const PROGRAMS: [&str; 3] = ["imports", "doctests", "tools"];

/// The nine distinct orders (the other four words are synonyms).
const KEYS: [&str; 9] = [
    "calls",
    "cumulative",
    "filename",
    "line",
    "name",
    "nfl",
    "pcalls",
    "stdname",
    "time",
];

fn python3_or_skip() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required in CI for the pstats oracle"
        );
        eprintln!("note: python3 not found; the pstats oracle corpus is skipped");
    }
    found
}

/// Every command set, as one browser session on `path`; `other` is added.
/// `code_keys`: the file names a function by a code object (the `profile`
/// module's), which CPython cannot compare with a name: sorting by name
/// stops its browser with a TypeError, so those sorts are left out.
fn commands(path: &Path, other: &Path, code_keys: bool) -> String {
    let mut c: Vec<String> = Vec::new();
    let mut push = |line: &str| c.push(line.to_owned());
    // The file's order, and reverse before any sort (a no-op in pstats).
    push("stats");
    push("reverse");
    push("stats 15");
    // Every sort word alone, the whole list, then reversed.
    for word in SortKey::words() {
        push(&format!("sort {word}"));
        push("stats");
        push("reverse");
        push("stats 0.1");
    }
    // Every pair: the head and, reversed, the tail of the list.
    for a in KEYS {
        for b in KEYS {
            push(&format!("sort {a} {b}"));
            push("stats 60");
            push("reverse");
            push("stats 60");
        }
    }
    // Sort words that are prefixes, and bad ones (which list the keys).
    for line in [
        "sort cu",
        "stats 5",
        "sort file li",
        "stats 5",
        "sort",
        "sort bogus",
        // How Python's cmd splits a line into command and argument.
        "stats.*json.* 3",
        "callers__init__ 2",
        "?sort",
        "!ls",
        "help reverse",
        "  stats   4  ",
    ] {
        push(line);
    }
    // Restrictions and their combinations, unsorted and sorted.
    let restrictions = [
        "stats 0.5 20",
        "stats 20 0.5",
        "stats .*json.* 0.5",
        "stats 0.5 .*json.*",
        "stats __init__ 10",
        "stats 10 __init__",
        "stats .*(encode|decode).* 0.3 5",
        "stats 1.0 30",
        "stats 0.0",
        "stats 0",
        "stats 1",
        "stats 1_0",
        "stats -3 5",
        "stats 1.5 5",
        "stats nan 5",
        "stats 1e-3",
        "stats 0.00001",
        "stats 0.0001 7",
        "stats [invalid 5",
        "stats nomatch_xyz",
        r"stats \.py:1\( 0.2",
        "stats <genexpr> 0.25 3",
        // Python's `re`, not Rust's `regex` (issue 34 item 1).
        "stats {built-in 5",
        "stats (?#a comment)json 3",
        r"stats \bjson\b 0.5",
        "stats (?i)JSON 4",
        r"stats (?<=/)json\Z",
        // Letters past `f`: a code object's address, zeroed, is not
        // CPython's (docs/PROFILING.md).
        r"stats (\w)(?P<c>[g-z])(?P=c)\1? 6",
        r"stats py:\d{,2}\( 8",
        r"stats \pL",
        r"stats \z",
        "stats (?<n>x)",
        "stats [[:alpha:]] 4",
        r"stats \< 2",
        "stats json(?i) 2",
        // Python's numbers and whitespace (issue 34 item 5).
        "stats 0.5_0",
        "stats \u{ff11}\u{ff12}",
        "stats \u{ff10}.\u{ff15} 3",
        "stats 3\x1c.*json.*",
        "stats 1_000_0 \x1f __init__",
    ];
    for sort in ["", "sort cumulative", "sort time", "sort name file line"] {
        if !sort.is_empty() {
            push(sort);
        }
        for line in restrictions {
            push(line);
        }
    }
    // Callers and callees with restrictions.
    for line in [
        "sort time",
        "callers 15",
        "callees 15",
        "callers .*json.* 5",
        "callees 0.01",
        "callers __init__ 10",
        r"callees .*re\.py.* 0.5",
        "reverse",
        "callers 10",
        "callees 10",
        "callers 0.0",
        "callees nomatch_xyz",
    ] {
        push(line);
    }
    // Strip: functions merge, the order is forgotten.
    for line in [
        "strip",
        "stats 30",
        "sort name file",
        "stats 60",
        "callers 10",
        "callees .*decoder.* 5",
        "sort stdname",
        "reverse",
        "stats 40",
        "callers __init__ 0.2",
        "callees __init__ 0.2",
    ] {
        push(line);
    }
    // Read again (explicitly and by reloading), then add the other profile.
    let path = path.display();
    let other = other.display();
    for line in [
        format!("read {path}"),
        "stats 20".to_owned(),
        "sort calls".to_owned(),
        "read".to_owned(),
        "stats 20".to_owned(),
        "sort calls".to_owned(),
        format!("add {other}"),
        "stats 30".to_owned(),
        "reverse".to_owned(),
        "stats 10".to_owned(),
        "sort cumulative".to_owned(),
        "stats 40".to_owned(),
        "callers 10".to_owned(),
        "sort file line".to_owned(),
        "reverse".to_owned(),
        "stats 0.01".to_owned(),
        "strip".to_owned(),
        "sort ncalls".to_owned(),
        "stats 40".to_owned(),
        "callees 10".to_owned(),
        "sort pcalls nfl".to_owned(),
        "stats .*json.* 0.5".to_owned(),
        format!("add {path}"),
        "sort tottime".to_owned(),
        "stats 25".to_owned(),
        "quit".to_owned(),
    ] {
        push(&line);
    }
    if code_keys {
        c.retain(|line| {
            !(line.starts_with("sort ")
                && line
                    .split_whitespace()
                    .any(|word| matches!(word, "name" | "nfl" | "na" | "nf")))
        });
    }
    c.join("\n") + "\n"
}

/// Waits for `child`, killing it and failing the test (naming `what`) if it
/// runs past `limit`: a profiled program that hangs must not hang CI.
fn finish_within(mut child: Child, limit: std::time::Duration, what: &str) -> std::process::Output {
    let deadline = std::time::Instant::now() + limit;
    while child
        .try_wait()
        .expect("python3 can be waited for")
        .is_none()
    {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("profiling {what}.py ran past {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().expect("python3 finishes")
}

/// Starts `python3 -m pstats path` reading `input`.
fn python_session(path: &Path, input: String) -> Child {
    let mut child = Command::new("python3")
        .args(["-m", "pstats"])
        .arg(path)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().expect("piped");
    std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    child
}

fn our_session(path: &Path, input: &str) -> String {
    let mut browser = Browser::new();
    browser.read(path).expect("the profile loads");
    let mut out = Vec::new();
    browser
        .run(&mut input.as_bytes(), &mut out)
        .expect("in-memory io");
    String::from_utf8(out).expect("utf-8")
}

/// The first command whose output differs, with the first differing line.
fn first_difference(prompt: &str, input: &str, ours: &str, python: &str) -> Option<String> {
    if ours == python {
        return None;
    }
    let commands: Vec<&str> = std::iter::once("(start)").chain(input.lines()).collect();
    let (a, b): (Vec<&str>, Vec<&str>) =
        (ours.split(prompt).collect(), python.split(prompt).collect());
    for (index, (x, y)) in a.iter().zip(&b).enumerate() {
        if x != y {
            let (line, ours_line, python_line) = x
                .lines()
                .zip(y.lines())
                .enumerate()
                .find(|(_, (p, q))| p != q)
                .map_or(
                    (x.lines().count().min(y.lines().count()), "", ""),
                    |(i, (p, q))| (i, p, q),
                );
            return Some(format!(
                "after command {index} {:?}, line {line}:\n  ours:   {ours_line:?}\n  python: {python_line:?}\n  ({} vs {} lines)",
                commands.get(index).unwrap_or(&"?"),
                x.lines().count(),
                y.lines().count()
            ));
        }
    }
    Some(format!("{} outputs by us, {} by python", a.len(), b.len()))
}

#[test]
fn the_browser_prints_real_cpython_profiles_exactly_as_pstats_does() {
    if !python3_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle");
    let profiles: Vec<PathBuf> = PROGRAMS
        .iter()
        .map(|name| dir.path().join(format!("{name}.prof")))
        .collect();
    let runs: Vec<Child> = PROGRAMS
        .iter()
        .zip(&profiles)
        .map(|(name, profile)| {
            Command::new("python3")
                .args(["-m", "cProfile", "-o"])
                .arg(profile)
                .arg(source.join(format!("{name}.py")))
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python3 runs")
        })
        .collect();
    for (name, run) in PROGRAMS.iter().zip(runs) {
        let output = finish_within(run, std::time::Duration::from_secs(300), name);
        assert!(
            output.status.success(),
            "profiling {name}.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    for (name, profile) in PROGRAMS.iter().zip(&profiles) {
        let functions = Stats::load(profile)
            .expect("CPython's file loads")
            .entries()
            .len();
        assert!(functions > 2000, "{name}.py: only {functions} functions");
    }
    // And our own writer: the first profile as we save it, read by both.
    let ours_written = dir.path().join("written_by_us.prof");
    Stats::load(&profiles[0])
        .expect("loads")
        .dump_stats(&ours_written)
        .expect("dump");
    let mut profiles = profiles;
    profiles.push(ours_written);
    let inputs: Vec<String> = profiles
        .iter()
        .enumerate()
        .map(|(i, profile)| commands(profile, &profiles[(i + 1) % profiles.len()], false))
        .collect();
    compare_sessions(&profiles, &inputs, &[]);
}

/// Runs each profile's commands in `python3 -m pstats` and in our browser
/// and fails on the first differing command of each. Python's output has
/// code objects' addresses zeroed, as we print them. `without` lists what
/// a session is not expected to reach (sorts left out for code objects).
fn compare_sessions(profiles: &[PathBuf], inputs: &[String], without: &[&str]) {
    let address = regex::Regex::new(r"at 0x[0-9a-f]{12},").expect("valid");
    let sessions: Vec<Child> = profiles
        .iter()
        .zip(inputs)
        .map(|(profile, input)| python_session(profile, input.clone()))
        .collect();
    let mut failures = Vec::new();
    for ((profile, input), session) in profiles.iter().zip(inputs).zip(sessions) {
        let ours = our_session(profile, input);
        let output = session.wait_with_output().expect("python3 finishes");
        assert!(
            output.status.success(),
            "python3 -m pstats failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let python = String::from_utf8(output.stdout).expect("utf-8");
        let python = address.replace_all(&python, "at 0x000000000000,");
        // The command sets reach every path they are meant to.
        for expected in [
            "Random listing order was used",
            "<Invalid regular expression '\\\\pL'>",
            "List reduced from",
            "<Invalid regular expression '[invalid'>",
            "Fraction argument must be in [0, 1]",
            "Valid sort keys (unique prefixes are accepted):",
            "was called by...",
            "called...",
            "   Ordered by: name/file/line, standard name",
        ] {
            if !without.contains(&expected) {
                assert!(python.contains(expected), "python printed no {expected:?}");
            }
        }
        assert!(
            !python.contains("Failed to load") && !python.contains("No statistics object"),
            "a command failed in python"
        );
        let prompt = format!("{}% ", profile.display());
        if let Some(difference) = first_difference(&prompt, input, &ours, &python) {
            failures.push(format!("{}: {difference}", profile.display()));
        }
        eprintln!(
            "{}: {} commands, {} bytes compared",
            profile.file_name().expect("a file").to_string_lossy(),
            input.lines().count(),
            python.len()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A small program with recursion, built-ins and the standard library, to
/// profile with `profile` and `cProfile`.
const WORK: &str = "import json, textwrap, difflib
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
for i in range(20):
    json.loads(json.dumps({'k': [i] * 5}))
    fib(i % 12)
textwrap.fill('word ' * 200, 30)
list(difflib.unified_diff(['a\\n', 'b\\n'] * 20, ['a\\n', 'c\\n'] * 20))
";

/// Functions, a class, a file and a folder named outside ASCII.
const NON_ASCII: &str = "import json, textwrap
def größe(n):
    return [json.dumps({'ключ': i}) for i in range(n)]
def 計算(n):
    return sum(len(s) for s in größe(n))
class Café:
    def ñandú(self, k):
        return textwrap.fill('ü ' * k, 20)
for i in range(30):
    計算(i % 7)
    Café().ñandú(i)
";

fn python3(dir: &Path, args: &[&std::ffi::OsStr]) {
    let output = Command::new("python3")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "python3 {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Issue 34: a file of the pure-Python `profile` module (callers as bare
/// counts, the program named by a code object), one with non-ASCII names,
/// and one merged by pstats' `add` and saved, each browsed with the whole
/// command set.
#[test]
fn profile_module_non_ascii_and_merged_files_print_as_pstats_does() {
    if !python3_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("données");
    std::fs::create_dir(&folder).expect("folder");
    let work = dir.path().join("work.py");
    std::fs::write(&work, WORK).expect("write");
    let non_ascii = folder.join("prüfung_測試.py");
    std::fs::write(&non_ascii, NON_ASCII).expect("write");
    let by_profile = dir.path().join("profile_module.prof");
    let by_cprofile = dir.path().join("work.prof");
    let named = folder.join("naïve.prof");
    let merged = dir.path().join("merged.prof");
    for (module, out, program) in [
        ("profile", &by_profile, &work),
        ("cProfile", &by_cprofile, &work),
        ("cProfile", &named, &non_ascii),
    ] {
        python3(
            dir.path(),
            &[
                "-m".as_ref(),
                module.as_ref(),
                "-o".as_ref(),
                out.as_os_str(),
                program.as_os_str(),
            ],
        );
    }
    python3(
        dir.path(),
        &[
            "-c".as_ref(),
            "import pstats, sys; pstats.Stats(sys.argv[1], sys.argv[2]).dump_stats(sys.argv[3])"
                .as_ref(),
            named.as_os_str(),
            by_cprofile.as_os_str(),
            merged.as_os_str(),
        ],
    );
    let profiles = vec![by_profile.clone(), named.clone(), merged.clone()];
    let inputs = vec![
        commands(&by_profile, &by_profile, true),
        commands(&named, &merged, false),
        commands(&merged, &by_cprofile, false),
    ];
    compare_sessions(
        &profiles,
        &inputs,
        &["   Ordered by: name/file/line, standard name"],
    );
}
