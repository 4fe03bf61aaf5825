//! Which bench executables run the same code on both sides, so that their
//! benchmarks need no round: identical code has no change to find, and
//! measuring it anyway only gives the layout and the machine a chance to be
//! flagged.
//!
//! Two executables run the same code when every section the loader maps
//! (code, read-only data, data, unwind tables, relocations) has the same
//! name, address and bytes; what the loader does not map (debug info, the
//! symbol table) and the build id, which hashes the rest, are left out.
//! Identical code can still behave differently if the benchmark reads a
//! file at run time: [`ChangedFiles::read_at_run_time`] names the changed
//! files that are neither compiled in nor of a kind a bench does not read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use object::{Object as _, ObjectSection as _, SectionFlags};

use crate::TrackError;

/// The code of one executable, as the loader maps it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct LoadedCode {
    /// Name, address and bytes of each allocated section, in file order.
    sections: Vec<(String, u64, Vec<u8>)>,
}

impl LoadedCode {
    pub(super) fn read(executable: &Path) -> Result<LoadedCode, TrackError> {
        let error = |reason: String| TrackError::Executable {
            path: executable.to_owned(),
            reason,
        };
        let bytes = std::fs::read(executable).map_err(|source| TrackError::Io {
            path: executable.to_owned(),
            source,
        })?;
        let file = object::File::parse(&*bytes).map_err(|e| error(e.to_string()))?;
        let mut sections = Vec::new();
        for section in file.sections() {
            let allocated = match section.flags() {
                SectionFlags::Elf { sh_flags, .. } => sh_flags.contains(object::elf::SHF_ALLOC),
                // Other formats: every section counts, which can only make
                // two executables differ.
                _ => true,
            };
            let name = section.name().map_err(|e| error(e.to_string()))?;
            if !allocated || name == ".note.gnu.build-id" {
                continue;
            }
            // `.bss` and `.tbss` occupy no bytes in the file: their size is what counts.
            let data = match section.kind() {
                object::SectionKind::UninitializedData | object::SectionKind::UninitializedTls => {
                    section.size().to_le_bytes().to_vec()
                }
                _ => section.data().map_err(|e| error(e.to_string()))?.to_vec(),
            };
            sections.push((name.to_owned(), section.address(), data));
        }
        Ok(LoadedCode { sections })
    }
}

/// The files a commit range changes, sorted by what they can do to a bench.
#[derive(Debug, Default)]
pub(super) struct ChangedFiles {
    /// Repository-relative paths.
    paths: BTreeSet<String>,
}

impl ChangedFiles {
    pub(super) fn new(paths: impl IntoIterator<Item = String>) -> ChangedFiles {
        ChangedFiles {
            paths: paths.into_iter().collect(),
        }
    }

    /// The changed files a bench may read while it runs: neither compiled
    /// into some executable of either side (`compiled`, repository-relative,
    /// from Cargo's dep-info files), nor Rust source of another target (a
    /// test, an example), nor of a kind no benchmark reads: documentation,
    /// the manifests and configuration Cargo reads at build time (their
    /// effect, if any, is in the executables compared), and the forge's and
    /// git's own files.
    pub(super) fn read_at_run_time(&self, compiled: &BTreeSet<String>) -> Vec<&str> {
        self.paths
            .iter()
            .map(String::as_str)
            .filter(|path| !compiled.contains(*path) && !never_read_by_a_bench(path))
            .collect()
    }
}

fn never_read_by_a_bench(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let extension = file.rsplit_once('.').map(|(_, extension)| extension);
    matches!(extension, Some("rs" | "md" | "markdown" | "rst" | "adoc"))
        || matches!(
            file,
            "Cargo.toml" | "Cargo.lock" | "rust-toolchain" | "rust-toolchain.toml"
        )
        || file.starts_with("LICENSE")
        || file.starts_with("COPYING")
        || file.starts_with(".git")
        || [".cargo/", ".github/", ".ci/", "docs/"]
            .iter()
            .any(|folder| path.starts_with(folder) || path.contains(&format!("/{folder}")))
}

/// The source files Cargo's dep-info files under `target` list, relative to
/// `worktree` (files outside it, such as the registry's, are left out).
pub(super) fn compiled_sources(target: &Path, worktree: &Path) -> BTreeSet<String> {
    let mut sources = BTreeSet::new();
    let worktree = worktree
        .canonicalize()
        .unwrap_or_else(|_| worktree.to_owned());
    for profile in ["release", "bench", "debug"] {
        let Ok(entries) = std::fs::read_dir(target.join(profile).join("deps")) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|extension| extension != "d") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for source in dep_info_paths(&text) {
                if let Ok(relative) = source.strip_prefix(&worktree) {
                    sources.insert(relative.to_string_lossy().into_owned());
                }
            }
        }
    }
    sources
}

/// The paths a Makefile-style dep-info file lists: `target: dep dep ...`,
/// spaces inside a path escaped with a backslash.
fn dep_info_paths(text: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for line in text.lines() {
        // A line of only `path:` declares a phony target for a dependency.
        let Some((_, dependencies)) = line.split_once(": ") else {
            continue;
        };
        let mut current = String::new();
        let mut chars = dependencies.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&' ') => {
                    current.push(' ');
                    chars.next();
                }
                ' ' => {
                    if !current.is_empty() {
                        paths.push(PathBuf::from(std::mem::take(&mut current)));
                    }
                }
                _ => current.push(c),
            }
        }
        if !current.is_empty() {
            paths.push(PathBuf::from(current));
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{ChangedFiles, LoadedCode, dep_info_paths};

    #[test]
    fn only_files_a_bench_could_read_keep_identical_code_measured() {
        let changed = ChangedFiles::new(
            [
                "crates/concat/src/lib.rs",
                "crates/cli/tests/track.rs",
                "docs/TRACKING.md",
                "README.md",
                "Cargo.lock",
                ".github/workflows/ci.yml",
                "benches/data/input.csv",
                "crates/sqrt/assets/table.bin",
            ]
            .map(str::to_owned),
        );
        let compiled = BTreeSet::from(["crates/concat/src/lib.rs".to_owned()]);
        assert_eq!(
            changed.read_at_run_time(&compiled),
            ["benches/data/input.csv", "crates/sqrt/assets/table.bin"]
        );
    }

    #[test]
    fn dep_info_lists_every_dependency_with_escaped_spaces() {
        let text = "/t/deps/x-1.d: src/lib.rs /w/my\\ dir/a.rs\n\nsrc/lib.rs:\n/w/my\\ dir/a.rs:\n";
        assert_eq!(
            dep_info_paths(text),
            ["src/lib.rs", "/w/my dir/a.rs"].map(std::path::PathBuf::from)
        );
    }

    #[test]
    fn an_executable_equals_itself_and_not_another() {
        // The test executable itself: a real ELF file.
        let me = std::env::current_exe().unwrap();
        let code = LoadedCode::read(&me).unwrap();
        assert!(code.sections.iter().any(|(name, _, _)| name == ".text"));
        assert_eq!(code, LoadedCode::read(&me).unwrap());
        let mut other = LoadedCode::read(&me).unwrap();
        let text = other
            .sections
            .iter_mut()
            .find(|(name, _, _)| name == ".text")
            .unwrap();
        text.2[0] ^= 1;
        assert_ne!(code, other);
        // Not an executable at all: a clear error naming the file.
        let dir = tempfile::tempdir().unwrap();
        let text_file = dir.path().join("notes.txt");
        std::fs::write(&text_file, "hello").unwrap();
        let error = LoadedCode::read(&text_file).unwrap_err().to_string();
        assert!(error.contains("notes.txt"), "{error}");
    }
}
