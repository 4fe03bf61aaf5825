//! `proflab summary`: the last `cargo bench`'s variants side by side, as
//! `summary.html` and `summary.md` in Criterion's folder, and on stdout.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anstyle::{AnsiColor, Style};
use anyhow::Context as _;
use proflab_summary::{
    Limit, MarkdownOptions, read_criterion, summarize, write_html, write_markdown,
};

use crate::color::ColorArgs;

/// Summarize the last `cargo bench`: per group and size, each variant's median,
/// 95% interval and ratio to the fastest variant and to the limit kernels,
/// written as DIR/summary.html and DIR/summary.md (every benchmark, each row
/// linking to Criterion's page) and printed as Markdown tables (or --json).
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  cargo bench && proflab summary\n  proflab summary vector_math        # print only vector_math's tables\n  proflab summary --json | jq '.tables[0]'"
)]
pub struct Args {
    /// Criterion's output folder [default: $CARGO_TARGET_DIR/criterion, else target/criterion].
    #[arg(long, value_name = "DIR")]
    criterion_dir: Option<PathBuf>,
    /// A limit kernel: the other variants of its group get a ratio to it (repeatable).
    #[arg(
        long = "limit",
        value_name = "GROUP/FUNCTION",
        default_values = ["vector_math/copy", "vector_math/simd_limit"]
    )]
    limits: Vec<Limit>,
    /// Print the summary as JSON (format "proflab-summary/1") instead of Markdown.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    color: ColorArgs,
    /// Print only benchmarks whose GROUP/FUNCTION starts with one of these;
    /// the files always hold every benchmark.
    #[arg(value_name = "PREFIX")]
    prefixes: Vec<String>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let root = args.criterion_dir.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from)
            .join("criterion")
    });
    let measured = read_criterion(&root)?;

    let everything = summarize(&measured, &args.limits, &[]);
    let html_path = root.join("summary.html");
    let mut html = Vec::new();
    write_html(&mut html, &everything)?;
    proflab_output::write(&html_path, html)
        .with_context(|| format!("cannot write {}", html_path.display()))?;
    let md_path = root.join("summary.md");
    let mut markdown = Vec::new();
    let linked = MarkdownOptions {
        links: true,
        ..MarkdownOptions::default()
    };
    write_markdown(&mut markdown, &everything, &linked)?;
    proflab_output::write(&md_path, markdown)
        .with_context(|| format!("cannot write {}", md_path.display()))?;

    let selected = summarize(&measured, &args.limits, &args.prefixes);
    if selected.tables.is_empty() {
        anyhow::bail!(
            "no benchmark in {} starts with {}",
            root.display(),
            args.prefixes.join(" or ")
        );
    }
    let mut stdout = args.color.stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &selected)?;
        writeln!(stdout)?;
    } else {
        let options = MarkdownOptions {
            links: false,
            heading: Style::new().bold(),
            fastest: Style::new().bold().fg_color(Some(AnsiColor::Green.into())),
        };
        write_markdown(&mut stdout, &selected, &options)?;
    }
    stdout.flush()?;
    let note = Style::new().dimmed();
    let mut stderr = args.color.stderr().lock();
    writeln!(
        stderr,
        "{note}proflab: wrote {} and {}{note:#}",
        html_path.display(),
        md_path.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
