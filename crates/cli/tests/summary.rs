//! Runs the real `proflab summary` on a Criterion folder laid out as
//! `cargo bench` writes it: tables on stdout, `--json`, `--color` and
//! `NO_COLOR`, and the HTML page rendered in headless Chromium.

use std::path::Path;

use assert_cmd::Command;

/// Writes one benchmark's `new/benchmark.json`, `new/estimates.json` and
/// Criterion's `report/index.html` under `root/dir`.
fn benchmark(root: &Path, dir: &str, group: &str, function: &str, size: &str, median: f64) {
    let new = root.join(dir).join("new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(
        new.join("benchmark.json"),
        format!(
            r#"{{"group_id":"{group}","function_id":"{function}","value_str":"{size}","throughput":null,"full_id":"{group}/{function}/{size}","directory_name":"{dir}","title":"{group}/{function}/{size}"}}"#
        ),
    )
    .unwrap();
    let estimate = |point: f64| {
        format!(
            r#"{{"confidence_interval":{{"confidence_level":0.95,"lower_bound":{},"upper_bound":{}}},"point_estimate":{point},"standard_error":1.0}}"#,
            point * 0.98,
            point * 1.02
        )
    };
    std::fs::write(
        new.join("estimates.json"),
        format!(
            r#"{{"mean":{},"median":{},"median_abs_dev":{},"slope":null,"std_dev":{}}}"#,
            estimate(median * 1.01),
            estimate(median),
            estimate(1.0),
            estimate(2.0)
        ),
    )
    .unwrap();
    let report = root.join(dir).join("report");
    std::fs::create_dir_all(&report).unwrap();
    std::fs::write(
        report.join("index.html"),
        "<html><body>criterion</body></html>",
    )
    .unwrap();
}

/// Two groups: `vm` with its limit kernels at two sizes, and a group whose
/// name has a slash (Criterion's folder for it has an underscore).
fn criterion_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (size, scale) in [("1000", 1.0), ("100000", 100.0)] {
        benchmark(
            root,
            &format!("vm/copy/{size}"),
            "vm",
            "copy",
            size,
            100.0 * scale,
        );
        benchmark(
            root,
            &format!("vm/simd_limit/{size}"),
            "vm",
            "simd_limit",
            size,
            200.0 * scale,
        );
        benchmark(
            root,
            &format!("vm/map/{size}"),
            "vm",
            "map",
            size,
            1000.0 * scale,
        );
    }
    benchmark(
        root,
        "concat_pieces/join/10",
        "concat/pieces",
        "join",
        "10",
        50.0,
    );
    benchmark(
        root,
        "concat_pieces/push_str/10",
        "concat/pieces",
        "push_str",
        "10",
        75.0,
    );
    for group_dir in ["vm", "concat_pieces", ""] {
        let report = root.join(group_dir).join("report");
        std::fs::create_dir_all(&report).unwrap();
        std::fs::write(report.join("index.html"), "<html><body>group</body></html>").unwrap();
    }
    dir
}

fn summary(root: &Path) -> Command {
    let mut command = Command::cargo_bin("proflab").unwrap();
    command
        .arg("summary")
        .arg("--criterion-dir")
        .arg(root)
        .arg("--limit")
        .arg("vm/copy")
        .arg("--limit")
        .arg("vm/simd_limit")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    command
}

fn stdout_of(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn prints_tables_and_writes_linked_html_and_markdown() {
    let tree = criterion_tree();
    let printed = stdout_of(summary(tree.path()).arg("vm"));
    assert_eq!(
        printed,
        "#### vm, n = 1000\n\n\
         | variant | median | 95% CI | ratio to fastest | ratio to copy | ratio to simd_limit |\n\
         |---|---:|---:|---:|---:|---:|\n\
         | copy | 100 ns | 98 ns – 102 ns | 1.00 | 1.00 | 0.50 |\n\
         | simd_limit | 200 ns | 196 ns – 204 ns | 2.00 | 2.00 | 1.00 |\n\
         | map | 1 µs | 980 ns – 1.02 µs | 10.0 | 10.0 | 5.00 |\n\n\
         #### vm, n = 100000\n\n\
         | variant | median | 95% CI | ratio to fastest | ratio to copy | ratio to simd_limit |\n\
         |---|---:|---:|---:|---:|---:|\n\
         | copy | 10 µs | 9.8 µs – 10.2 µs | 1.00 | 1.00 | 0.50 |\n\
         | simd_limit | 20 µs | 19.6 µs – 20.4 µs | 2.00 | 2.00 | 1.00 |\n\
         | map | 100 µs | 98 µs – 102 µs | 10.0 | 10.0 | 5.00 |\n\n"
    );
    let markdown = std::fs::read_to_string(tree.path().join("summary.md")).unwrap();
    assert!(
        markdown.contains("| [push_str](concat_pieces/push_str/10/report/index.html) | 75 ns |"),
        "the file holds every group, linked: {markdown}"
    );
    let html = std::fs::read_to_string(tree.path().join("summary.html")).unwrap();
    assert!(html.contains("<a href=\"vm/map/100000/report/index.html\">map</a>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
}

#[test]
fn json_has_every_ratio() {
    let tree = criterion_tree();
    let printed = stdout_of(summary(tree.path()).arg("--json"));
    let json: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(json["format"], "proflab-summary/1");
    let tables = json["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 3);
    assert_eq!(tables[0]["group"], "concat/pieces");
    let big = &tables[2];
    assert_eq!(big["size"], "100000");
    assert_eq!(big["limits"], serde_json::json!(["copy", "simd_limit"]));
    let map = &big["rows"][2];
    assert_eq!(map["function"], "map");
    assert_eq!(map["ratio_to_fastest"], 10.0);
    assert_eq!(map["ratio_to_limits"], serde_json::json!([10.0, 5.0]));
    assert_eq!(map["median"]["point_ns"], 100_000.0);
    assert_eq!(map["page"], "vm/map/100000/report/index.html");
}

#[test]
fn colour_follows_the_flag_then_no_color_then_the_terminal() {
    let tree = criterion_tree();
    let escape = "\u{1b}[";
    // CLICOLOR_FORCE stands in for a terminal: `auto` colours then.
    let forced = stdout_of(summary(tree.path()).env("CLICOLOR_FORCE", "1"));
    assert!(forced.contains(escape), "{forced}");
    let no_color = stdout_of(
        summary(tree.path())
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1"),
    );
    assert!(!no_color.contains(escape), "NO_COLOR wins over auto");
    let never = stdout_of(
        summary(tree.path())
            .args(["--color", "never"])
            .env("CLICOLOR_FORCE", "1"),
    );
    assert!(!never.contains(escape), "--color never");
    let always = stdout_of(
        summary(tree.path())
            .args(["--color", "always"])
            .env("NO_COLOR", "1"),
    );
    assert!(always.contains(escape), "--color always wins over NO_COLOR");
    assert_eq!(
        never.replace(escape, ""),
        never,
        "same text, without escapes"
    );
    let plain = stdout_of(&mut summary(tree.path()));
    assert!(!plain.contains(escape), "a pipe is not coloured");
    assert_eq!(plain, no_color);
    // Files never carry escapes, whatever the flag.
    let markdown = std::fs::read_to_string(tree.path().join("summary.md")).unwrap();
    assert!(!markdown.contains(escape));
}

#[test]
fn a_missing_folder_or_a_bad_file_is_an_input_error() {
    let tree = criterion_tree();
    let missing = tree.path().join("nowhere");
    let output = summary(&missing).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nowhere") && stderr.contains("run `cargo bench` first"),
        "{stderr}"
    );

    std::fs::write(tree.path().join("vm/map/1000/new/estimates.json"), "{").unwrap();
    let output = summary(tree.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("vm/map/1000/new/estimates.json"),
        "{stderr}"
    );

    let output = summary(tree.path())
        .args(["--limit", "copy"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    assert!(String::from_utf8_lossy(&output.stderr).contains("GROUP/FUNCTION"));
}

#[test]
fn summary_page_renders_in_headless_chromium_with_every_link_resolving() {
    let Some(browser) = proflab_testkit::tool_or_skip(
        "summary_page_renders_in_headless_chromium",
        &["chromium", "chromium-browser"],
        "apt-get install chromium",
    ) else {
        return;
    };
    let tree = criterion_tree();
    stdout_of(&mut summary(tree.path()));
    let page = tree.path().join("summary.html");
    let profile = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        proflab_testkit::headless_chromium(&browser, profile.path(), (1000, 1200))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    };
    let dom = run(&["--dump-dom"]);
    assert!(dom.status.success());
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom_text.matches("<table>").count(), 3, "{dom_text}");
    assert_eq!(dom_text.matches("<tr class=\"fastest").count(), 3);
    let stderr = String::from_utf8_lossy(&dom.stderr);
    assert!(
        !stderr.contains("Uncaught") && !stderr.contains(":CONSOLE("),
        "console errors: {stderr}"
    );
    // Every link the browser sees resolves: a file beside the page, or an
    // anchor of the page itself.
    let hrefs: Vec<&str> = dom_text
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(
        hrefs.len(),
        3 + 1 + 3 + 8,
        "toc, report, groups, variants: {hrefs:?}"
    );
    for href in hrefs {
        if let Some(anchor) = href.strip_prefix('#') {
            assert!(dom_text.contains(&format!("id=\"{anchor}\"")), "{href}");
        } else {
            assert!(tree.path().join(href).is_file(), "{href} does not resolve");
        }
    }
    let screenshot = tree.path().join("summary.png");
    let shot = run(&[&format!("--screenshot={}", screenshot.display())]);
    assert!(shot.status.success());
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}
