//! Output files written whole or not at all, and checked before the work
//! that fills them starts: a bad path fails in a second, not after a long
//! run, and an interrupted or failed write never leaves a truncated file
//! (nor any file the user did not name) behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use tempfile::NamedTempFile;

/// A file about to be written: its folder checked before the work, then
/// written as a hidden temporary file beside it and renamed over the path.
/// Nothing exists on disk between the check and the write, so a run
/// interrupted meanwhile (Ctrl-C) leaves nothing behind.
pub struct PendingFile {
    path: PathBuf,
    folder: PathBuf,
    option: String,
}

impl PendingFile {
    /// Checks that `path` (given to `option`) can be written, by creating
    /// and removing a temporary file in its folder.
    ///
    /// # Errors
    /// When `path` is a folder, its folder does not exist or cannot be
    /// written to.
    pub fn prepare(path: &Path, option: &str) -> anyhow::Result<Self> {
        if path.is_dir() {
            bail!("{option} {}: is a folder; give a file name", path.display());
        }
        if path.file_name().is_none() {
            bail!("{option} {}: give a file name", path.display());
        }
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
        let pending = Self {
            path: path.to_owned(),
            folder: folder.to_owned(),
            option: option.to_owned(),
        };
        drop(pending.temp_file()?);
        Ok(pending)
    }

    /// The path the file will have.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A hidden temporary file beside the path, removed when dropped.
    ///
    /// # Errors
    /// When the folder cannot be written to.
    pub fn temp_file(&self) -> anyhow::Result<NamedTempFile> {
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(&self.folder)
            .with_context(|| {
                format!(
                    "{} {}: cannot write there",
                    self.option,
                    self.path.display()
                )
            })
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
        let temp = self.temp_file()?;
        let mut out = std::io::BufWriter::new(temp.as_file());
        write(&mut out)
            .and_then(|()| out.flush().map_err(anyhow::Error::from))
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        drop(out);
        self.finish(temp)
    }

    /// Renames `temp` (from [`PendingFile::temp_file`], already written)
    /// into place.
    ///
    /// # Errors
    /// When the file cannot be synced or renamed.
    pub fn finish(self, temp: NamedTempFile) -> anyhow::Result<()> {
        temp.as_file()
            .sync_all()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        temp.persist(&self.path)
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
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("list").count(),
            0,
            "nothing on disk between the check and the write"
        );
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
