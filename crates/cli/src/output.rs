//! Output files, checked before the work that fills them (a bad path fails
//! in a second, not after a long run) and written by `proflab-output`: whole
//! or not at all, through symlinks, into FIFOs and devices, modes kept.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};
use proflab_output::OutputFile;
use tempfile::NamedTempFile;

/// A file about to be written, with the option that named it for messages.
pub struct PendingFile {
    file: OutputFile,
    option: String,
}

impl PendingFile {
    /// Checks that `path` (given to `option`) can be written.
    ///
    /// # Errors
    /// As [`OutputFile::prepare`], naming the option and the path.
    pub fn prepare(path: &Path, option: &str) -> anyhow::Result<Self> {
        let file =
            OutputFile::prepare(path).with_context(|| format!("{option} {}", path.display()))?;
        Ok(Self {
            file,
            option: option.to_owned(),
        })
    }

    /// The path the file will have.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The temporary file to write into; see [`OutputFile::temp_file`].
    ///
    /// # Errors
    /// When the folder cannot be written to.
    pub fn temp_file(&self) -> anyhow::Result<NamedTempFile> {
        self.file
            .temp_file()
            .with_context(|| format!("{} {}", self.option, self.path().display()))
    }

    /// Writes the file with `write`; on an error nothing is left under the
    /// path or beside it.
    ///
    /// # Errors
    /// When `write` fails or the file cannot be put in place.
    pub fn write(
        self,
        write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let path = self.path().to_owned();
        self.file
            .write(write)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    /// Puts `temp` (from [`PendingFile::temp_file`], already written) in
    /// place.
    ///
    /// # Errors
    /// When the file cannot be synced, renamed or copied.
    pub fn finish(self, temp: NamedTempFile) -> anyhow::Result<()> {
        let path = self.path().to_owned();
        self.file
            .finish(temp)
            .with_context(|| format!("cannot write {}", path.display()))
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
    fn two_options_naming_one_file_are_refused() {
        let a = Path::new("a.prof");
        assert!(check_distinct(&[("-o", a), ("--flamegraph", Path::new("b.svg"))]).is_ok());
        let error =
            check_distinct(&[("-o", a), ("--flamegraph", Path::new("./a.prof"))]).unwrap_err();
        assert!(error.to_string().contains("both name"), "{error}");
    }
}
