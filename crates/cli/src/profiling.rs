//! `--profile` for the commands that run the tutorial's program: cProfile's
//! `-s SORTKEY` and `-o FILE`, plus pictures and allocation columns.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use proflab::{Profile, SortKey, Stats};

use crate::output::{PendingFile, check_distinct};

/// Profiling options, shared by every command that runs profiled code.
#[derive(clap::Args)]
pub struct ProfileArgs {
    /// Profile the run and print pstats' table, like `python -m cProfile`.
    #[arg(long)]
    profile: bool,
    /// Sort key of the table (pstats' keys or unique prefixes; repeatable).
    #[arg(short = 's', long = "sort", value_name = "SORTKEY")]
    sort: Vec<String>,
    /// Save the statistics in cProfile's format instead of printing them.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Draw a flamegraph of the exact call paths (SVG).
    #[arg(long, value_name = "FILE.svg")]
    flamegraph: Option<PathBuf>,
    /// Write a GraphViz call graph (`.dot`; `.svg` or `.png` are rendered with `dot`).
    #[arg(long, value_name = "FILE.dot")]
    callgraph: Option<PathBuf>,
    /// Add allocation columns (count and bytes per function) to the table.
    #[arg(long)]
    memory: bool,
}

impl ProfileArgs {
    fn wanted(&self) -> bool {
        self.profile
            || !self.sort.is_empty()
            || self.output.is_some()
            || self.flamegraph.is_some()
            || self.callgraph.is_some()
            || self.memory
    }

    /// Runs `work`, profiled if any profiling option was given, then reports
    /// as asked. Everything that can be checked before the run is: the sort
    /// keys, that every output path can be written, that `dot` renders the
    /// call graph's format. Each output is then written on its own and
    /// atomically, so one that fails does not cost the others.
    pub fn run<T>(&self, work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
        if !self.wanted() {
            return work();
        }
        let sort: Vec<&str> = if self.sort.is_empty() {
            vec!["stdname"]
        } else {
            self.sort.iter().map(String::as_str).collect()
        };
        for key in &sort {
            SortKey::parse(key)?;
        }
        let named: Vec<(&str, &Path)> = [
            ("-o", self.output.as_deref()),
            ("--flamegraph", self.flamegraph.as_deref()),
            ("--callgraph", self.callgraph.as_deref()),
        ]
        .into_iter()
        .filter_map(|(option, path)| Some((option, path?)))
        .collect();
        check_distinct(&named)?;
        let output = self
            .output
            .as_deref()
            .map(|path| PendingFile::prepare(path, "-o"))
            .transpose()?;
        let flamegraph = self
            .flamegraph
            .as_deref()
            .map(|path| PendingFile::prepare(path, "--flamegraph"))
            .transpose()?;
        let callgraph = self
            .callgraph
            .as_deref()
            .map(Callgraph::prepare)
            .transpose()?;

        let profile = Profile::new();
        let value = profile.run(work)?;
        let stats = Stats::new(&profile);
        let mut failures = Vec::new();
        if let Some(file) = flamegraph {
            failures.extend(
                file.write(|out| Ok(stats.write_flamegraph(out, "proflab hillclimb")?))
                    .err(),
            );
        }
        if let Some(callgraph) = callgraph {
            failures.extend(callgraph.write(&stats).err());
        }
        match output {
            Some(file) => failures.extend(
                file.write(|out| Ok(out.write_all(&stats.to_marshal())?))
                    .err(),
            ),
            None => {
                // As `python -m cProfile -s KEY`: directories stripped.
                let stats = stats.strip_dirs();
                stats
                    .sort_stats(&sort)?
                    .with_memory(self.memory)
                    .print_stats(())
                    .context("cannot write to standard output")?;
            }
        }
        match failures.len() {
            0 => Ok(value),
            1 => Err(failures.remove(0)),
            _ => bail!(
                "{}",
                failures
                    .iter()
                    .map(|error| format!("{error:#}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

/// `--callgraph`: DOT text, or a picture rendered by GraphViz's `dot`
/// straight from the text on its standard input, so no `.dot` file the user
/// did not ask for is written (or overwritten).
struct Callgraph {
    file: PendingFile,
    /// `dot -T` format; `None` for the DOT text itself.
    render: Option<String>,
}

impl Callgraph {
    /// Checks the path, and for a picture that `dot` runs and knows the
    /// format, by rendering an empty graph.
    fn prepare(path: &Path) -> anyhow::Result<Self> {
        let file = PendingFile::prepare(path, "--callgraph")?;
        let format = path.extension().and_then(|e| e.to_str()).unwrap_or("dot");
        if format == "dot" || format == "gv" {
            return Ok(Self { file, render: None });
        }
        let format = format.to_owned();
        render(&format, b"digraph {}", Stdio::null()).with_context(|| {
            format!(
                "--callgraph {}: cannot render .{format} files",
                path.display()
            )
        })?;
        Ok(Self {
            file,
            render: Some(format),
        })
    }

    fn write(self, stats: &Stats) -> anyhow::Result<()> {
        let Some(format) = self.render else {
            return self.file.write(|out| Ok(stats.write_dot(out)?));
        };
        let mut dot = Vec::new();
        stats.write_dot(&mut dot)?;
        let temp = self.file.temp_file()?;
        let into = temp
            .as_file()
            .try_clone()
            .with_context(|| format!("cannot write {}", self.file.path().display()))?;
        render(&format, &dot, Stdio::from(into))
            .with_context(|| format!("cannot render {}", self.file.path().display()))?;
        self.file.finish(temp)
    }
}

/// Runs `dot -T<format>` on `graph`, its output going to `into`.
fn render(format: &str, graph: &[u8], into: Stdio) -> anyhow::Result<()> {
    let child = Command::new("dot")
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(into)
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(_) => bail!("this needs GraphViz's `dot` (Debian: apt-get install graphviz)"),
    };
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // A `dot` that exits early closes the pipe; its status says why.
    let _ = stdin.write_all(graph);
    drop(stdin);
    let finished = child.wait_with_output().context("`dot` did not finish")?;
    if !finished.status.success() {
        bail!(
            "`dot -T{format}` failed ({}): {}",
            finished.status,
            String::from_utf8_lossy(&finished.stderr).trim()
        );
    }
    Ok(())
}
