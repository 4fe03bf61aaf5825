//! `proflab track report` opened in real headless Chromium and used as a
//! reader would: typing in the search box, ticking a benchmark, switching
//! the scale and the metric, opening a batch. The history has two branches:
//! `main` and a pull request's branch `side` forked from main's first
//! commit, whose every benchmark is 50% slower; the page must never put the
//! side's commit on main's line nor compare it with main's commits, except
//! in the batch that measured it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use assert_cmd::cargo::CommandCargoExt as _;
use headless_chrome::protocol::cdp::Page::{CaptureScreenshotFormatOption, Viewport};
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::{Browser, LaunchOptions, Tab};
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

/// One page in Chromium, and what failed in it: a failed check saves a
/// screenshot under `target/` before the test panics.
struct Page {
    tab: Arc<Tab>,
    exceptions: Arc<Mutex<Vec<String>>>,
}

impl Page {
    /// Evaluates `expression` (which must give JSON-able data) in the page.
    fn eval(&self, expression: &str) -> serde_json::Value {
        let text = self
            .tab
            .evaluate(&format!("JSON.stringify({expression})"), false)
            .unwrap_or_else(|e| self.fail(&format!("evaluating {expression}: {e}")))
            .value;
        match text {
            Some(serde_json::Value::String(json)) => serde_json::from_str(&json).unwrap(),
            other => self.fail(&format!("{expression} gave {other:?}")),
        }
    }

    fn click(&self, selector: &str) {
        self.tab
            .wait_for_element(selector)
            .and_then(|element| element.click().map(drop))
            .unwrap_or_else(|e| self.fail(&format!("clicking {selector}: {e}")));
    }

    fn check(&self, holds: bool, what: &str) {
        if !holds {
            self.fail(what);
        }
    }

    fn fail(&self, what: &str) -> ! {
        let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-failure.png");
        if let Ok(png) = self.screenshot() {
            let _ = std::fs::write(&shot, png);
        }
        panic!("{what} (screenshot: {})", shot.display());
    }

    fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        self.tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
    }

    /// The ids of the benchmark list's rows that are not hidden.
    fn listed(&self) -> Vec<String> {
        serde_json::from_value(self.eval(
            "[...document.querySelectorAll('#benchmarks li:not([hidden])')].map(li => li.dataset.id)",
        ))
        .unwrap()
    }

    /// The ids of the charts drawn.
    fn charted(&self) -> Vec<String> {
        serde_json::from_value(
            self.eval("[...document.querySelectorAll('figure.chart')].map(f => f.dataset.id)"),
        )
        .unwrap()
    }
}

fn open(browser: &Browser, index: &Path) -> Page {
    let tab = browser.new_tab().unwrap();
    tab.set_default_timeout(std::time::Duration::from_secs(30));
    let exceptions = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&exceptions);
    tab.enable_runtime().unwrap();
    tab.add_event_listener(Arc::new(move |event: &Event| {
        if let Event::RuntimeExceptionThrown(thrown) = event {
            seen.lock()
                .unwrap()
                .push(format!("{:?}", thrown.params.exception_details));
        }
    }))
    .unwrap();
    tab.navigate_to(&format!("file://{}", index.display()))
        .and_then(|tab| tab.wait_until_navigated())
        .unwrap();
    let page = Page { tab, exceptions };
    page.tab.wait_for_element("#benchmarks li").unwrap();
    page
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

    let browser = Browser::new(LaunchOptions {
        path: Some(PathBuf::from(chromium)),
        sandbox: false,
        window_size: Some((1100, 1500)),
        idle_browser_timeout: std::time::Duration::from_secs(120),
        ..LaunchOptions::default()
    })
    .unwrap();
    let page = open(&browser, &index);
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
    let written: Vec<String> = serde_json::from_value(page.eval(&format!(
        "{times:?}.map(value => formatValue(\"time_ns\", value))"
    )))
    .unwrap();
    let expected: Vec<String> = times
        .iter()
        .map(|&ns| proflab_criterion_read::format_time(ns))
        .collect();
    page.check(
        written == expected,
        &format!("times {written:?} are {expected:?}"),
    );
    let [c1, c2, c3] = &fixture.main;
    let side = &fixture.side;

    // The line: main's three commits, never the side's.
    let line: Vec<String> =
        serde_json::from_value(page.eval(
            "[...document.querySelectorAll('#commits tr[data-sha]')].map(r => r.dataset.sha)",
        ))
        .unwrap();
    page.check(
        line == [c3.as_str(), c2, c1],
        &format!("commits newest first: {line:?}"),
    );
    page.check(
        page.listed() == TIMED,
        &format!("time benchmarks listed: {:?}", page.listed()),
    );
    page.check(
        page.charted() == [SLOWER],
        &format!(
            "only the benchmark that moved is charted at first: {:?}",
            page.charted()
        ),
    );
    let chart = format!("figure.chart[data-id='{SLOWER}']");
    let points: Vec<String> = serde_json::from_value(page.eval(&format!(
        "[...document.querySelectorAll(\"{chart} circle.point\")].map(c => c.dataset.commit)"
    )))
    .unwrap();
    page.check(
        points == [c1.as_str(), c2, c3],
        &format!("main's points only: {points:?}"),
    );
    let steps: Vec<String> = serde_json::from_value(page.eval(&format!(
        "[...document.querySelectorAll(\"{chart} line.step\")].map(l => l.getAttribute('class'))"
    )))
    .unwrap();
    page.check(
        steps == ["step unchanged paired", "step regressed unpaired"],
        &format!("c1..c2 paired by batch 1, c2..c3 unpaired and regressed: {steps:?}"),
    );
    page.check(
        page.eval(&format!(
            "document.querySelector(\"{chart} h3 a.criterion\").getAttribute('href')"
        )) == "../target/criterion/concat/push_str/100/report/index.html",
        "the chart links to Criterion's page",
    );
    page.check(
        !html_of(&page, "#charts").contains(side.as_str()),
        "the side's commit is nowhere on the line",
    );
    let axis_links: Vec<String> = serde_json::from_value(page.eval(&format!(
        "[...document.querySelectorAll(\"{chart} a.commit\")].map(a => a.getAttribute('href'))"
    )))
    .unwrap();
    page.check(
        axis_links == [c1, c2, c3].map(|c| format!("https://forge.example/o/r/commit/{c}")),
        &format!("each commit on the axis links to the forge: {axis_links:?}"),
    );

    // Search, then a group.
    page.tab
        .wait_for_element("#search")
        .and_then(|search| search.type_into("SQRT").map(drop))
        .unwrap();
    page.check(
        page.listed() == ["sqrt/libm/1000", "sqrt/newton/1000"],
        &format!("search ignores case: {:?}", page.listed()),
    );
    page.check(
        page.eval("document.getElementById('count').textContent")
            == "2 of 6 benchmarks; tick one to chart it",
        "the count follows the search",
    );
    page.click("#benchmarks li[data-id='sqrt/newton/1000'] input");
    page.check(
        page.charted() == [SLOWER, "sqrt/newton/1000"],
        &format!("a ticked benchmark is charted: {:?}", page.charted()),
    );
    page.eval(
        "(() => { const s = document.getElementById('search'); s.value = ''; \
         s.dispatchEvent(new Event('input')); const g = document.getElementById('group'); \
         g.value = 'concat'; g.dispatchEvent(new Event('change')); return true; })()",
    );
    page.check(
        page.listed() == TIMED[..3],
        &format!("the concat group: {:?}", page.listed()),
    );

    // Scale: log, then back.
    page.click("input[name='scale'][value='log']");
    let scales: Vec<String> = serde_json::from_value(
        page.eval("[...document.querySelectorAll('figure.chart svg')].map(s => s.dataset.scale)"),
    )
    .unwrap();
    page.check(
        scales == ["log", "log"],
        &format!("every chart on a log scale: {scales:?}"),
    );

    // Metric: the instruction counts, with their own list and chart.
    page.click("input[name='metric'][value='instructions']");
    page.check(
        page.listed() == [COUNTED],
        &format!("counts listed: {:?}", page.listed()),
    );
    page.check(
        page.charted() == [COUNTED],
        &format!(
            "the count that moved (+4% at c3) is charted: {:?}",
            page.charted()
        ),
    );
    page.check(
        page.eval(&format!(
            "document.querySelector(\"figure.chart[data-id='{COUNTED}'] .axis-max\").textContent"
        )) == "52.00 KIr",
        "counts in callgrind's unit",
    );

    // The pull request's batch: closed until opened, regressions first.
    let batch = "#batch-2";
    page.check(
        page.eval(&format!("document.querySelector('{batch}').open")) == false,
        "batches start closed",
    );
    page.click(&format!("{batch} summary"));
    page.check(
        page.eval(&format!("document.querySelector('{batch}').open")) == true,
        "the batch opens",
    );
    let verdicts: Vec<(String, String)> = serde_json::from_value(page.eval(&format!(
        "[...document.querySelectorAll('{batch} tr[data-id]')].map(r => [r.dataset.id, r.dataset.verdict])"
    )))
    .unwrap();
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
    let card = html_of(&page, batch);
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
    let exceptions = page.exceptions.lock().unwrap().clone();
    page.check(
        exceptions.is_empty(),
        &format!("script errors: {exceptions:?}"),
    );

    // The picture in docs/TRACKING.md: times, linear, the batch open.
    if let Some(keep) = std::env::var_os("PROFLAB_KEEP_SCREENSHOT") {
        page.click("input[name='metric'][value='time_ns']");
        page.click("input[name='scale'][value='linear']");
        let top = Viewport {
            x: 0.0,
            y: 0.0,
            width: 1100.0,
            height: 1380.0,
            scale: 0.8,
        };
        let png = page
            .tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, Some(top), true)
            .unwrap();
        std::fs::write(keep, png).unwrap();
    }
}

fn html_of(page: &Page, selector: &str) -> String {
    page.eval(&format!("document.querySelector(\"{selector}\").outerHTML"))
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
