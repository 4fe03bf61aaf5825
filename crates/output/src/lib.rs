//! Every file a proflab tool writes goes through [`OutputFile`], so each one
//! behaves as `cp` and `tee` users expect, whichever tool or library writes it:
//!
//! - a new file or a regular file is written whole or not at all: a hidden
//!   temporary file beside it, renamed into place once complete. A new file
//!   gets mode 0666 minus the umask; an existing one keeps its mode;
//! - a symlink is written through: its target gets the contents, the link
//!   stays (a dangling one is refused, as `cp` does);
//! - a character device or a FIFO (`/dev/null`, `/dev/stdout`, `>(gzip)`) is
//!   written into directly, never replaced by a regular file; block devices
//!   and sockets are refused;
//! - a regular file that is not ours alone to replace (more than one hard
//!   link, or another owner) is rewritten in place, as `cp` does, so the other
//!   names and the owner see the new contents: the one case that is not atomic.
//!
//! [`printable`] is the one way control characters in text we did not write
//! (benchmark ids, function names) are shown in what the tools print.
//!
//! It is not a general file library: it writes only, and it reports
//! [`std::io::Error`]s whose text names the problem, leaving the path to the
//! caller's error type. It is its own leaf crate because the lowest library
//! (`proflab`'s profile files), the others (`callgrind`, `track`) and the CLI
//! all write files the user named, and none of them may depend on another
//! just for this.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

mod text;
pub use text::printable;

/// A file about to be written, checked before the work that fills it so a
/// bad path fails in a second, not after a long run. Nothing exists on disk
/// between the check and the write.
#[derive(Debug)]
pub struct OutputFile {
    path: PathBuf,
}

/// What the path names when it is written.
enum Target {
    /// Nothing yet: a new file in `folder`.
    New { folder: PathBuf },
    /// A regular file (a symlink's target, when the path was one).
    Regular { path: PathBuf, metadata: Metadata },
    /// A character device or FIFO, written into as it is.
    Stream { path: PathBuf },
}

fn refused(message: String) -> io::Error {
    io::Error::other(message)
}

/// The folder `path` sits in (`.` for a bare name).
fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn resolve(path: &Path) -> io::Result<Target> {
    let link = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            if path.file_name().is_none() {
                return Err(refused("give a file name".into()));
            }
            let folder = folder_of(path);
            if !folder.is_dir() {
                return Err(refused(format!(
                    "the folder {} does not exist",
                    folder.display()
                )));
            }
            return Ok(Target::New { folder });
        }
        Err(error) => return Err(error),
    };
    let (path, metadata) = if link.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|_| {
            refused(match std::fs::read_link(path) {
                Ok(to) => format!(
                    "is a symlink to {}, which does not exist; not writing through it",
                    to.display()
                ),
                Err(_) => "is a symlink that cannot be followed".into(),
            })
        })?;
        let metadata = std::fs::metadata(&target)?;
        (target, metadata)
    } else {
        (path.to_owned(), link)
    };
    let kind = metadata.file_type();
    if kind.is_file() {
        Ok(Target::Regular { path, metadata })
    } else if kind.is_char_device() || kind.is_fifo() {
        Ok(Target::Stream { path })
    } else if kind.is_dir() {
        Err(refused("is a folder; give a file name".into()))
    } else if kind.is_block_device() {
        Err(refused(
            "is a block device; refusing to write onto it".into(),
        ))
    } else {
        Err(refused("is a socket; cannot write a file there".into()))
    }
}

impl OutputFile {
    /// Checks that `path` can be written: what it names (see the crate's
    /// doc), and that its folder takes a temporary file.
    ///
    /// # Errors
    /// When `path` is a folder, a block device, a socket or a dangling
    /// symlink, or its folder does not exist or cannot be written to.
    pub fn prepare(path: &Path) -> io::Result<Self> {
        let file = Self {
            path: path.to_owned(),
        };
        drop(file.temp_file()?);
        Ok(file)
    }

    /// The path as the caller named it.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A hidden temporary file to write the contents into, removed when
    /// dropped; [`OutputFile::finish`] puts it in place. It sits beside the
    /// file it will replace (so the rename stays on one file system), or in
    /// the system's temporary folder for a FIFO or device.
    ///
    /// # Errors
    /// As [`OutputFile::prepare`].
    pub fn temp_file(&self) -> io::Result<NamedTempFile> {
        let folder = match resolve(&self.path)? {
            Target::New { folder } => folder,
            Target::Regular { path, .. } => folder_of(&path),
            Target::Stream { .. } => std::env::temp_dir(),
        };
        let name = self.path.file_name().unwrap_or_default().to_string_lossy();
        tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            // Subject to the umask, as `File::create`'s 0666 is.
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(&folder)
            .map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("cannot write into {}: {error}", folder.display()),
                )
            })
    }

    /// Writes the file with `write`. On an error nothing is left under the
    /// path or beside it, and a FIFO or device got nothing.
    ///
    /// # Errors
    /// When `write` fails or the file cannot be put in place.
    pub fn write<E: From<io::Error>>(
        self,
        write: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<(), E> {
        let temp = self.temp_file()?;
        let mut out = io::BufWriter::new(temp.as_file());
        write(&mut out)?;
        out.flush()?;
        drop(out);
        Ok(self.finish(temp)?)
    }

    /// Puts `temp` (from [`OutputFile::temp_file`], already written) in
    /// place, as the crate's doc says for what the path names now.
    ///
    /// # Errors
    /// When the file cannot be synced, renamed or copied.
    pub fn finish(self, temp: NamedTempFile) -> io::Result<()> {
        match resolve(&self.path)? {
            Target::New { .. } => persist(temp, &self.path),
            Target::Regular { path, metadata } => {
                let ours = temp.as_file().metadata()?;
                if metadata.nlink() > 1
                    || (metadata.uid(), metadata.gid()) != (ours.uid(), ours.gid())
                {
                    copy_into(&temp, &path, true)
                } else {
                    temp.as_file().set_permissions(metadata.permissions())?;
                    persist(temp, &path)
                }
            }
            Target::Stream { path } => copy_into(&temp, &path, false),
        }
    }
}

fn persist(temp: NamedTempFile, path: &Path) -> io::Result<()> {
    temp.as_file().sync_all()?;
    temp.persist(path).map(drop).map_err(|error| error.error)
}

/// Copies the finished contents into the existing file at `path`.
fn copy_into(temp: &NamedTempFile, path: &Path, truncate: bool) -> io::Result<()> {
    let mut into = OpenOptions::new()
        .write(true)
        .truncate(truncate)
        .open(path)?;
    io::copy(&mut File::open(temp.path())?, &mut into)?;
    into.flush()
}

/// Writes `contents` to `path` as [`OutputFile`] does.
///
/// # Errors
/// As [`OutputFile::prepare`] and [`OutputFile::finish`].
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> io::Result<()> {
    OutputFile::prepare(path)?.write(|out| out.write_all(contents.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_new_file_gets_0666_minus_the_umask_and_an_old_one_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let reference = dir.path().join("by-std");
        std::fs::write(&reference, "x").unwrap();
        let new = dir.path().join("new");
        write(&new, "new").unwrap();
        assert_eq!(mode(&new), mode(&reference), "as File::create makes it");
        let old = dir.path().join("old");
        std::fs::write(&old, "old").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&old, "replaced").unwrap();
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "replaced");
        assert_eq!(mode(&old), 0o640);
        assert_eq!(names_in(dir.path()), ["by-std", "new", "old"]);
    }

    #[test]
    fn a_symlink_is_written_through_and_a_dangling_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");

        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        let error = write(&dangling, "new").unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
    }

    #[test]
    fn a_hard_linked_file_is_rewritten_in_place_for_every_name() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first");
        std::fs::write(&first, "old").unwrap();
        let second = dir.path().join("second");
        std::fs::hard_link(&first, &second).unwrap();
        write(&second, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "new");
        assert_eq!(std::fs::metadata(&first).unwrap().nlink(), 2);
    }

    #[test]
    fn a_fifo_is_written_into_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write(&fifo, "through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        assert_eq!(names_in(dir.path()), ["fifo"]);
    }

    #[test]
    fn a_character_device_is_written_into_and_its_errors_reported() {
        let dir = tempfile::tempdir().unwrap();
        let full = dir.path().join("full");
        // A copy of /dev/full (1, 7); making one needs root, so elsewhere
        // the real one stands in.
        let device = if Command::new("mknod")
            .arg(&full)
            .args(["c", "1", "7"])
            .status()
            .is_ok_and(|status| status.success())
        {
            full
        } else {
            PathBuf::from("/dev/full")
        };
        let error = write(&device, "x".repeat(10_000)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull, "{error}");
        assert!(
            std::fs::symlink_metadata(&device)
                .unwrap()
                .file_type()
                .is_char_device()
        );
        write(Path::new("/dev/null"), "gone").unwrap();
        assert!(
            std::fs::symlink_metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
    }

    #[test]
    fn folders_and_missing_folders_are_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let error = OutputFile::prepare(dir.path()).unwrap_err();
        assert!(error.to_string().contains("is a folder"), "{error}");
        let error = OutputFile::prepare(&dir.path().join("no/such.svg")).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
        assert!(names_in(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let error = OutputFile::prepare(&path)
            .unwrap()
            .write(|out| {
                out.write_all(b"half")?;
                Err(io::Error::other("the writer failed"))
            })
            .unwrap_err();
        assert!(error.to_string().contains("the writer failed"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names_in(dir.path()), ["out.txt"]);
    }
}
