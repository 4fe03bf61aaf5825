//! Output files written whole or not at all, and checked before the work
//! that fills them starts: a bad path fails in a second, not after a long
//! run, and an interrupted or failed write never leaves a truncated file
//! (nor any file the user did not name) behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use tempfile::NamedTempFile;

/// A file about to be written: its folder checked and a temporary file
/// opened beside it (hidden, deleted if dropped), renamed over the path once
/// written.
pub struct PendingFile {
    path: PathBuf,
    temp: NamedTempFile,
}

impl PendingFile {
    /// Checks that `path` (given to `option`) can be written, by opening a
    /// temporary file in its folder.
    ///
    /// # Errors
    /// When `path` is a folder, its folder does not exist or cannot be
    /// written to.
    pub fn prepare(path: &Path, option: &str) -> anyhow::Result<Self> {
        if path.is_dir() {
            bail!("{option} {}: is a folder; give a file name", path.display());
        }
        let Some(name) = path.file_name() else {
            bail!("{option} {}: give a file name", path.display());
        };
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            bail!(
                "{option} {}: the folder {} does not exist",
                path.display(),
                folder.display()
            );
        }
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.to_string_lossy()))
            .suffix(".partial")
            .tempfile_in(folder)
            .with_context(|| format!("{option} {}: cannot write there", path.display()))?;
        Ok(Self {
            path: path.to_owned(),
            temp,
        })
    }

    /// The path the file will have.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file, for a child process to write into.
    pub fn file(&self) -> &std::fs::File {
        self.temp.as_file()
    }

    /// Writes the file with `write`, then renames it into place. On an
    /// error nothing is left under the path or beside it.
    ///
    /// # Errors
    /// When `write` fails or the file cannot be flushed or renamed.
    pub fn write(
        self,
        write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut out = std::io::BufWriter::new(self.temp.as_file());
        write(&mut out)
            .and_then(|()| out.flush().map_err(anyhow::Error::from))
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        drop(out);
        self.finish()
    }

    /// Renames the file, already written through [`PendingFile::file`],
    /// into place.
    ///
    /// # Errors
    /// When the file cannot be synced or renamed.
    pub fn finish(self) -> anyhow::Result<()> {
        self.temp
            .as_file()
            .sync_all()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.temp
            .persist(&self.path)
            .map(drop)
            .map_err(|error| error.error)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// Fails when two options name the same file: each would overwrite the
/// other.
///
/// # Errors
/// Naming both options.
pub fn check_distinct(outputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    for (i, (first_option, first)) in outputs.iter().enumerate() {
        for (second_option, second) in &outputs[i + 1..] {
            if absolute(first) == absolute(second) {
                bail!(
                    "{first_option} and {second_option} both name {}; give each its own file",
                    first.display()
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_appears_whole_and_nothing_else_stays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.txt");
        let pending = PendingFile::prepare(&path, "-o").expect("writable");
        assert!(!path.exists(), "nothing under the name before the write");
        pending
            .write(|out| Ok(out.write_all(b"hello")?))
            .expect("written");
        assert_eq!(std::fs::read(&path).expect("read"), b"hello");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["out.txt"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_partial_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").expect("seed");
        let pending = PendingFile::prepare(&path, "-o").expect("writable");
        let error = pending
            .write(|out| {
                out.write_all(b"half")?;
                bail!("the writer failed")
            })
            .unwrap_err();
        assert!(format!("{error:#}").contains("the writer failed"));
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[test]
    fn folders_and_missing_folders_are_refused_up_front() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = PendingFile::prepare(dir.path(), "-o")
            .err()
            .expect("a folder");
        assert!(error.to_string().contains("is a folder"), "{error}");
        let error = PendingFile::prepare(&dir.path().join("no/such.svg"), "--flamegraph")
            .err()
            .expect("a missing folder");
        assert!(error.to_string().contains("does not exist"), "{error}");
    }

    #[test]
    fn two_options_naming_one_file_are_refused() {
        let a = Path::new("a.prof");
        assert!(check_distinct(&[("-o", a), ("--flamegraph", Path::new("b.svg"))]).is_ok());
        let error =
            check_distinct(&[("-o", a), ("--flamegraph", Path::new("./a.prof"))]).unwrap_err();
        assert!(error.to_string().contains("both name"), "{error}");
    }
}
