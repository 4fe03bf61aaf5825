//! `--profile` for the commands that run the tutorial's program: cProfile's
//! `-s SORTKEY` and `-o FILE`, plus pictures and allocation columns.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use proflab::{Profile, SortKey, Stats};

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
    /// as asked. The sort keys are checked before the run, not after it.
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
        let profile = Profile::new();
        let value = profile.run(work)?;
        let stats = Stats::new(&profile);
        if let Some(path) = &self.flamegraph {
            write_file(path, |out| {
                Ok(stats.write_flamegraph(out, "proflab hillclimb")?)
            })?;
        }
        if let Some(path) = &self.callgraph {
            write_callgraph(&stats, path)?;
        }
        match &self.output {
            Some(path) => stats.dump_stats(path)?,
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
        Ok(value)
    }
}

fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out).with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::flush(&mut out).with_context(|| format!("cannot write {}", path.display()))
}

fn write_callgraph(stats: &Stats, path: &Path) -> anyhow::Result<()> {
    let format = path.extension().and_then(|e| e.to_str()).unwrap_or("dot");
    if format == "dot" {
        return write_file(path, |out| Ok(stats.write_dot(out)?));
    }
    let dot_path = path.with_extension("dot");
    write_file(&dot_path, |out| Ok(stats.write_dot(out)?))?;
    let rendered = Command::new("dot")
        .arg(format!("-T{format}"))
        .arg(&dot_path)
        .arg("-o")
        .arg(path)
        .status();
    match rendered {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => bail!(
            "dot failed ({status}) rendering {}; the graph is in {}",
            path.display(),
            dot_path.display()
        ),
        Err(_) => bail!(
            "rendering {} needs GraphViz's `dot` (Debian: apt-get install graphviz); the graph is in {}",
            path.display(),
            dot_path.display()
        ),
    }
}
