//! `proflab track report` opened in real headless Chromium and used as a
//! reader would: typing in the search box, ticking a benchmark, switching
//! the scale and the metric, opening a batch. The history has two branches:
//! `main` and a pull request's branch `side` forked from main's first
//! commit, whose every benchmark is 50% slower; the page must never put the
//! side's commit on main's line nor compare it with main's commits, except
//! in the batch that measured it.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt as _;
use proflab_track::{
    BatchSlot, Benchmark, History, Machine, Metric, RunContext, Side, rev_parse_or_keep,
};

mod common;
use common::{commit_empty, git};

/// Time benchmarks on the line, in the list's (sorted) order.
const TIMED: [&str; 6] = [
    "concat/format/100",
    "concat/join/100",
    "concat/push_str/100",
    "sqrt/libm/1000",
    "sqrt/newton/1000",
    "vec/sum/4096",
];
const COUNTED: &str = "counts/concat/push_str";
/// The benchmark that gets 10% slower at main's third commit.
const SLOWER: &str = "concat/push_str/100";

/// 30 samples around `level` ns, with a little deterministic noise.
fn samples(level: f64, seed: u32) -> Vec<f64> {
    (0..30u32)
        .map(|i| level * (1.0 + 0.002 * f64::from((i * 7 + seed * 3) % 11)))
        .collect()
}

fn timed(id: &str, level: f64, seed: u32) -> Benchmark {
    Benchmark {
        id: id.to_owned(),
        metric: Metric::TimeNs,
        values: samples(level, seed),
        summary: level,
    }
}

fn counted(id: &str, count: f64) -> Benchmark {
    Benchmark {
        id: id.to_owned(),
        metric: Metric::Instructions,
        values: vec![count],
        summary: count,
    }
}

/// Every benchmark at `commit`: `SLOWER` scaled by `slower`, all by `all`.
fn benchmarks(ids: &[&str], slower: f64, all: f64, seed: u32) -> Vec<Benchmark> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let factor = if *id == SLOWER { slower * all } else { all };
            timed(id, 100.0 * (i as f64 + 1.0) * factor, seed)
        })
        .collect()
}

struct Fixture {
    repo: tempfile::TempDir,
    db: PathBuf,
    main: [String; 3],
    side: String,
}

/// main: c1 -> c2 -> c3 (SLOWER +10% at c3); side: c1 -> s (all +50%).
/// Each commit recorded once; batch 1 measured c1 against c2 (main's step,
/// paired), batch 2 c2 against s (the pull request: SLOWER +50%, one
/// benchmark removed and one added).
fn two_branch_history() -> Fixture {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "-q", "-b", "main"]);
    commit_empty(dir, "one");
    git(dir, &["checkout", "-q", "-b", "side"]);
    commit_empty(dir, "side: everything slower");
    let side = rev_parse_or_keep(dir, "HEAD");
    git(dir, &["checkout", "-q", "main"]);
    commit_empty(dir, "two");
    commit_empty(dir, "three: push_str slower");
    let main = ["HEAD~2", "HEAD~1", "HEAD"].map(|r| rev_parse_or_keep(dir, r));

    let db = dir.join(".proflab/history.sqlite");
    let mut history = History::open(&db).unwrap();
    let machine = Machine::current();
    let context = |commit: &str, branch: &str| RunContext {
        commit: commit.to_owned(),
        dirty: false,
        branch: branch.to_owned(),
        time: 1_796_000_000,
    };
    for (i, (commit, slower)) in main.iter().zip([1.0, 1.0, 1.1]).enumerate() {
        let mut benches = benchmarks(&TIMED, slower, 1.0, i as u32);
        benches.push(counted(COUNTED, if i == 2 { 52_000.0 } else { 50_000.0 }));
        history
            .record(&context(commit, "main"), &machine, &benches)
            .unwrap();
    }
    let mut benches = benchmarks(&TIMED, 1.0, 1.5, 7);
    benches.push(counted(COUNTED, 75_000.0));
    history
        .record(&context(&side, "side"), &machine, &benches)
        .unwrap();

    let mut batch = |a: &str, b: &str, a_ids: &[&str], b_ids: &[&str], slower: f64| {
        let settings = r#"{"layouts":"random","min_rounds":6,"identical_code":[]}"#;
        let id = history.begin_batch(a, b, settings).unwrap();
        for round in 1..=6u32 {
            for (side, commit, ids, factor) in
                [(Side::A, a, a_ids, 1.0), (Side::B, b, b_ids, slower)]
            {
                let slot = BatchSlot {
                    batch: id,
                    round: i64::from(round),
                    side,
                };
                // Each round's noise differs from side to side, as on a real machine.
                let seed = round * 2 + u32::from(side == Side::B);
                let noise = 1.0 + 0.004 * f64::from(seed % 5);
                history
                    .record_round(
                        slot,
                        &context(commit, &format!("run {a}..{b}")),
                        &machine,
                        &benchmarks(ids, factor, noise, seed),
                    )
                    .unwrap();
            }
        }
        history.finish_batch(id).unwrap();
    };
    batch(&main[0], &main[1], &TIMED, &TIMED, 1.0);
    let mut pull_request: Vec<&str> = TIMED[..5].to_vec();
    pull_request.push("concat/new/100");
    batch(&main[1], &side, &TIMED, &pull_request, 1.5);
    Fixture {
        repo,
        db,
        main,
        side,
    }
}

/// Runs in the page before its own script: collects script errors, then,
/// once the page has loaded, takes `STEPS` in order (a click, typing, or an
/// expression whose JSON value is kept under a name) and writes what it saw
/// into the page as hex-encoded JSON, for `--dump-dom` to carry out.
const RUNNER: &str = r#"
(() => {
  const errors = [];
  window.addEventListener("error", (event) => errors.push(String(event.message)));
  window.addEventListener("unhandledrejection", (event) => errors.push(String(event.reason)));
  const find = (selector) => {
    const found = document.querySelector(selector);
    if (!found) throw new Error(`nothing matches ${selector}`);
    return found;
  };
  window.addEventListener("load", async () => {
    const results = {};
    let failed = null;
    for (const [index, step] of STEPS.entries()) {
      try {
        if (step.click) {
          find(step.click).click();
        } else if (step.type) {
          const input = find(step.type);
          input.focus();
          input.value += step.text;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        } else {
          results[step.name] = (0, eval)(step.eval);
        }
      } catch (error) {
        failed = `step ${index} ${JSON.stringify(step)}: ${error}`;
        break;
      }
      // Whatever a handler put off to a later task runs before the next step.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const bytes = new TextEncoder().encode(JSON.stringify({ results, errors, failed }));
    const out = document.createElement("pre");
    out.id = "proflab-test-results";
    out.hidden = true;
    out.textContent = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    document.body.append(out);
  });
})();
"#;

/// What the test does in the page, in order: real Chromium runs it, with no
/// driver between (the page's own events, fired as a reader's would be).
#[derive(Default)]
struct Script {
    steps: Vec<serde_json::Value>,
}

impl Script {
    /// Keeps the JSON value of `expression`, evaluated in the page's global
    /// scope, under `name`.
    fn eval(&mut self, name: &str, expression: &str) {
        self.steps
            .push(serde_json::json!({ "name": name, "eval": expression }));
    }

    /// Keeps under `name` the list of `of_each` (an expression of `e`) for
    /// every element `selector` matches, in document order.
    fn eval_each(&mut self, name: &str, selector: &str, of_each: &str) {
        let selector = serde_json::Value::from(selector);
        self.eval(
            name,
            &format!("[...document.querySelectorAll({selector})].map(e => {of_each})"),
        );
    }

    fn click(&mut self, selector: &str) {
        self.steps.push(serde_json::json!({ "click": selector }));
    }

    fn type_into(&mut self, selector: &str, text: &str) {
        self.steps
            .push(serde_json::json!({ "type": selector, "text": text }));
    }

    /// The page `index` with this script injected first in its head, written
    /// beside it (so its relative links resolve as the page's own).
    fn inject(&self, index: &Path) -> PathBuf {
        let html = std::fs::read_to_string(index).unwrap();
        let runner = format!(
            "<script>\nconst STEPS = {};\n{RUNNER}</script>\n",
            serde_json::Value::Array(self.steps.clone())
        );
        let scripted = index.with_file_name("scripted.html");
        std::fs::write(
            &scripted,
            html.replacen("<head>\n", &format!("<head>\n{runner}"), 1),
        )
        .unwrap();
        scripted
    }
}

/// What one run of a [`Script`] saw.
struct Seen {
    results: serde_json::Map<String, serde_json::Value>,
    errors: Vec<String>,
    chromium: String,
    page: PathBuf,
}

impl Seen {
    /// Opens `index` in headless Chromium with `script` and reads back what
    /// the script kept.
    fn run(chromium: &str, index: &Path, script: &Script) -> Seen {
        let page = script.inject(index);
        let out = chromium_on(chromium, &page, WINDOW, &["--dump-dom".to_owned()]).unwrap();
        let dom = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "chromium failed: {stderr}");
        let hex = dom
            .split("id=\"proflab-test-results\"")
            .nth(1)
            .and_then(|rest| rest.split_once('>'))
            .and_then(|(_, rest)| rest.split("</pre>").next())
            .unwrap_or_else(|| panic!("the page's script did not finish: {stderr}"));
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
            .collect();
        let mut report: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let seen = Seen {
            results: serde_json::from_value(report["results"].take()).unwrap(),
            errors: serde_json::from_value(report["errors"].take()).unwrap(),
            chromium: chromium.to_owned(),
            page,
        };
        if let Some(failed) = report["failed"].as_str() {
            seen.fail(failed);
        }
        seen
    }

    fn get(&self, name: &str) -> &serde_json::Value {
        self.results
            .get(name)
            .unwrap_or_else(|| self.fail(&format!("nothing kept as {name}")))
    }

    /// The list of strings kept as `name`.
    fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_else(|| self.fail(&format!("{name} is no list of strings")))
    }

    fn text(&self, name: &str) -> String {
        self.get(name)
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| self.fail(&format!("{name} is no string")))
    }

    fn check(&self, holds: bool, what: &str) {
        if !holds {
            self.fail(what);
        }
    }

    /// Saves a screenshot of the page as the script left it, then panics.
    fn fail(&self, what: &str) -> ! {
        let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-failure.png");
        screenshot(&self.chromium, &self.page, WINDOW, 1.0, &shot);
        panic!("{what} (screenshot: {})", shot.display());
    }
}

const WINDOW: (u32, u32) = (1100, 1500);

/// Headless Chromium on `page` with `output` (`--dump-dom`, `--screenshot=…`)
/// taken once the page's scripts, and a script injected in it, have run.
fn chromium_on(
    chromium: &str,
    page: &Path,
    window: (u32, u32),
    output: &[String],
) -> std::io::Result<std::process::Output> {
    let profile = tempfile::tempdir()?;
    proflab_testkit::headless_chromium(chromium, profile.path(), window)
        .arg("--virtual-time-budget=10000")
        .args(output)
        .arg(format!("file://{}", page.display()))
        .output()
}

/// A PNG of `page` (scripted or not) as it stands once its scripts ran.
fn screenshot(chromium: &str, page: &Path, window: (u32, u32), scale: f64, to: &Path) {
    let _ = chromium_on(
        chromium,
        page,
        window,
        &[
            format!("--force-device-scale-factor={scale}"),
            format!("--screenshot={}", to.display()),
        ],
    );
}

#[test]
fn the_dashboard_is_used_in_headless_chromium() {
    let Some(chromium) = proflab_testkit::tool_or_skip(
        "the_dashboard_is_used_in_headless_chromium",
        &["chromium", "chromium-browser"],
        "apt-get install chromium",
    ) else {
        return;
    };
    let fixture = two_branch_history();
    let dir = fixture.repo.path();
    // Criterion's own page for SLOWER, which the dashboard links to.
    let criterion_page = dir.join("target/criterion/concat/push_str/100/report/index.html");
    std::fs::create_dir_all(criterion_page.parent().unwrap()).unwrap();
    std::fs::write(
        &criterion_page,
        "<html><body>Criterion's page</body></html>",
    )
    .unwrap();
    let out_dir = dir.join("dash");
    let out = Command::cargo_bin("proflab")
        .unwrap()
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .args(["track", "--db"])
        .arg(&fixture.db)
        .args(["report", "-o"])
        .arg(&out_dir)
        .args(["--commit-url", "https://forge.example/o/r/commit/{sha}"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = out_dir.join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    for fetched in ["src=\"http", "url(http", "href=\"http", "import "] {
        assert!(!html.contains(fetched), "nothing fetched: {fetched}");
    }

    // Everything the reader does, in order; what the page showed is read
    // back and checked after.
    // The page writes a time as the tables do (one rule, two languages).
    let times = [
        0.0,
        0.5,
        0.123_4,
        9.995,
        42.0,
        999.4,
        999.6,
        1234.5,
        99_949.0,
        123_456.0,
        1e6,
        41.5e6,
        2.5e9,
        12_345_678_901.0,
    ];
    let [c1, c2, c3] = &fixture.main;
    let side = &fixture.side;
    let chart = format!("figure.chart[data-id='{SLOWER}']");
    let listed = "#benchmarks li:not([hidden])";
    let charted = "figure.chart";
    let batch = "#batch-2";
    let mut script = Script::default();
    script.eval(
        "times",
        &format!("{times:?}.map(value => formatValue(\"time_ns\", value))"),
    );
    script.eval_each("line", "#commits tr[data-sha]", "e.dataset.sha");
    script.eval_each("listed at first", listed, "e.dataset.id");
    script.eval_each("charted at first", charted, "e.dataset.id");
    script.eval_each(
        "points",
        &format!("{chart} circle.point"),
        "e.dataset.commit",
    );
    script.eval_each(
        "steps",
        &format!("{chart} line.step"),
        "e.getAttribute('class')",
    );
    script.eval(
        "criterion link",
        &format!("document.querySelector(\"{chart} h3 a.criterion\").getAttribute('href')"),
    );
    script.eval("charts", "document.querySelector('#charts').outerHTML");
    script.eval_each(
        "axis links",
        &format!("{chart} a.commit"),
        "e.getAttribute('href')",
    );
    // Search, then a group.
    script.type_into("#search", "SQRT");
    script.eval_each("listed by search", listed, "e.dataset.id");
    script.eval("count", "document.getElementById('count').textContent");
    script.click("#benchmarks li[data-id='sqrt/newton/1000'] input");
    script.eval_each("charted when ticked", charted, "e.dataset.id");
    script.eval(
        "cleared",
        "(() => { const s = document.getElementById('search'); s.value = ''; \
         s.dispatchEvent(new Event('input')); const g = document.getElementById('group'); \
         g.value = 'concat'; g.dispatchEvent(new Event('change')); return true; })()",
    );
    script.eval_each("listed in group", listed, "e.dataset.id");
    // Scale: log.
    script.click("input[name='scale'][value='log']");
    script.eval_each("scales", "figure.chart svg", "e.dataset.scale");
    // Metric: the instruction counts, with their own list and chart.
    script.click("input[name='metric'][value='instructions']");
    script.eval_each("counts listed", listed, "e.dataset.id");
    script.eval_each("counts charted", charted, "e.dataset.id");
    script.eval(
        "count axis",
        &format!(
            "document.querySelector(\"figure.chart[data-id='{COUNTED}'] .axis-max\").textContent"
        ),
    );
    // The pull request's batch: closed until opened, regressions first.
    script.eval(
        "batch open before",
        &format!("document.querySelector('{batch}').open"),
    );
    script.click(&format!("{batch} summary"));
    script.eval(
        "batch open after",
        &format!("document.querySelector('{batch}').open"),
    );
    script.eval_each(
        "verdicts",
        &format!("{batch} tr[data-id]"),
        "[e.dataset.id, e.dataset.verdict]",
    );
    script.eval(
        "card",
        &format!("document.querySelector('{batch}').outerHTML"),
    );
    let page = Seen::run(&chromium, &index, &script);

    let written = page.strings("times");
    let expected: Vec<String> = times
        .iter()
        .map(|&ns| proflab_criterion_read::format_time(ns))
        .collect();
    page.check(
        written == expected,
        &format!("times {written:?} are {expected:?}"),
    );
    // The line: main's three commits, never the side's.
    let line = page.strings("line");
    page.check(
        line == [c3.as_str(), c2, c1],
        &format!("commits newest first: {line:?}"),
    );
    let first = page.strings("listed at first");
    page.check(
        first == TIMED,
        &format!("time benchmarks listed: {first:?}"),
    );
    let first = page.strings("charted at first");
    page.check(
        first == [SLOWER],
        &format!("only the benchmark that moved is charted at first: {first:?}"),
    );
    let points = page.strings("points");
    page.check(
        points == [c1.as_str(), c2, c3],
        &format!("main's points only: {points:?}"),
    );
    let steps = page.strings("steps");
    page.check(
        steps == ["step unchanged paired", "step regressed unpaired"],
        &format!("c1..c2 paired by batch 1, c2..c3 unpaired and regressed: {steps:?}"),
    );
    page.check(
        page.get("criterion link") == "../target/criterion/concat/push_str/100/report/index.html",
        "the chart links to Criterion's page",
    );
    page.check(
        !page.text("charts").contains(side.as_str()),
        "the side's commit is nowhere on the line",
    );
    let axis_links = page.strings("axis links");
    page.check(
        axis_links == [c1, c2, c3].map(|c| format!("https://forge.example/o/r/commit/{c}")),
        &format!("each commit on the axis links to the forge: {axis_links:?}"),
    );
    let found = page.strings("listed by search");
    page.check(
        found == ["sqrt/libm/1000", "sqrt/newton/1000"],
        &format!("search ignores case: {found:?}"),
    );
    page.check(
        page.get("count") == "2 of 6 benchmarks; tick one to chart it",
        "the count follows the search",
    );
    let ticked = page.strings("charted when ticked");
    page.check(
        ticked == [SLOWER, "sqrt/newton/1000"],
        &format!("a ticked benchmark is charted: {ticked:?}"),
    );
    let group = page.strings("listed in group");
    page.check(group == TIMED[..3], &format!("the concat group: {group:?}"));
    let scales = page.strings("scales");
    page.check(
        scales == ["log", "log"],
        &format!("every chart on a log scale: {scales:?}"),
    );
    let counts = page.strings("counts listed");
    page.check(counts == [COUNTED], &format!("counts listed: {counts:?}"));
    let counts = page.strings("counts charted");
    page.check(
        counts == [COUNTED],
        &format!("the count that moved (+4% at c3) is charted: {counts:?}"),
    );
    page.check(
        page.get("count axis") == "52.00 KIr",
        "counts in callgrind's unit",
    );
    page.check(
        page.get("batch open before") == false,
        "batches start closed",
    );
    page.check(page.get("batch open after") == true, "the batch opens");
    let verdicts: Vec<(String, String)> = page
        .get("verdicts")
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    (
                        row[0].as_str().unwrap_or_default().to_owned(),
                        row[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    page.check(
        verdicts
            .first()
            .is_some_and(|(id, verdict)| id == SLOWER && verdict == "regressed")
            && verdicts[1..]
                .iter()
                .all(|(_, verdict)| verdict == "unchanged")
            && verdicts.len() == 5,
        &format!("the regression first, the rest unchanged: {verdicts:?}"),
    );
    let card = page.text("card");
    page.check(
        card.contains("added in B (1)") && card.contains("concat/new/100"),
        "the added benchmark",
    );
    page.check(
        card.contains("removed in B (1)") && card.contains("vec/sum/4096"),
        "the removed benchmark",
    );
    page.check(card.contains("layouts: random"), "the batch's layouts");
    page.check(
        card.contains(&format!("href=\"https://forge.example/o/r/commit/{side}\"")),
        "B links to its forge page",
    );
    page.check(
        card.contains("6 rounds") || card.contains(">6<"),
        &format!("rounds per benchmark: {card}"),
    );
    page.check(
        page.errors.is_empty(),
        &format!("script errors: {:?}", page.errors),
    );

    // The picture in docs/TRACKING.md: times, linear, the batch open, the
    // top 1100×1380 of the page at 80%.
    if let Some(keep) = std::env::var_os("PROFLAB_KEEP_SCREENSHOT") {
        let mut picture = Script::default();
        picture.click(&format!("{batch} summary"));
        let page = picture.inject(&index);
        screenshot(&chromium, &page, (1100, 1380), 0.8, Path::new(&keep));
    }
}
