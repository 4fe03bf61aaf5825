//! pstats' interactive statistics browser (`python -m pstats FILE`), reading
//! commands from any `BufRead` so it works on a terminal and with commands
//! piped on standard input alike.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use crate::pstats::os_bytes;
use crate::view::{is_python_space, python_split, python_str_repr};
use crate::{MarshalError, Restriction, Restrictions, SortKey, Stats, StatsError, View};

const COMMANDS: [(&str, &str); 12] = [
    ("EOF", "Leave the profile browser."),
    (
        "add",
        "Add profile info from given file to current statistics object.",
    ),
    (
        "callees",
        "Print callees statistics from the current stat object.",
    ),
    (
        "callers",
        "Print callers statistics from the current stat object.",
    ),
    ("help", "Show help for a given command."),
    (
        "memory",
        "Toggle the allocation columns (count and bytes per function).",
    ),
    ("quit", "Leave the profile browser."),
    (
        "read",
        "Read in profile data from a specified file.\nWithout argument, reload the current file.",
    ),
    ("reverse", "Reverse the sort order of the profiling report."),
    (
        "sort",
        "Sort profile data according to specified keys.\n(Typing `sort' without arguments lists valid keys.)",
    ),
    ("stats", "Print statistics from the current stat object."),
    (
        "strip",
        "Strip leading path information from filenames in the report.",
    ),
];

const RESTRICTION_HELP: &str = "Arguments may be:
* An integer maximum number of entries to print.
* A decimal fractional number between 0 and 1, controlling
  what fraction of selected entries to print.
* A regular expression; only entries with function names
  that match it are printed.";

/// The browser's state: the statistics loaded, the file they came from, and
/// how they are shown (changing the view never copies the statistics).
#[derive(Default)]
pub struct Browser {
    stats: Option<Stats>,
    view: View,
    file: Option<PathBuf>,
    last_command: String,
}

impl Browser {
    /// A browser with nothing loaded yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads `path`, as the browser's `read` command (and the first file of
    /// `python -m pstats`) does.
    ///
    /// # Errors
    /// When the file cannot be loaded: nothing is replaced then. Print
    /// [`Browser::read_failure`] of it to say so as pstats does.
    pub fn read(&mut self, path: &Path) -> Result<(), StatsError> {
        let stats = Stats::load(path)?;
        self.stats = Some(stats);
        self.view.unsort();
        self.file = Some(path.to_owned());
        Ok(())
    }

    /// Adds `path`'s statistics to the current ones, as `add` does.
    ///
    /// # Errors
    /// When the file cannot be loaded: the current statistics are kept.
    /// Print [`Browser::add_failure`] of it to say so as pstats does.
    pub fn add(&mut self, path: &Path) -> Result<(), StatsError> {
        let extra = Stats::load(path)?;
        if let Some(stats) = self.stats.take() {
            self.stats = Some(stats.add_stats(&extra));
            self.view.unsort();
        }
        Ok(())
    }

    /// What pstats' `read` prints when a file fails to load: the system's
    /// message for a file that cannot be opened (`No such file or
    /// directory`), Python's exception for the marshal errors it has one
    /// for, and ours for the rest (where CPython's differs by version or
    /// comes later, from a command that then fails).
    #[must_use]
    pub fn read_failure(error: &StatsError) -> String {
        match error {
            StatsError::Io { source, .. } => strerror(source),
            StatsError::Corrupt { path, source } => match source {
                MarshalError::Truncated { len: 0, .. } => {
                    "EOFError: EOF read where object expected".to_owned()
                }
                MarshalError::Truncated { .. } => "EOFError: marshal data too short".to_owned(),
                MarshalError::UnknownType { .. } => {
                    "ValueError: bad marshal data (unknown type code)".to_owned()
                }
                MarshalError::Empty => format!(
                    "TypeError: Cannot create or construct a <class 'pstats.Stats'> object from {}",
                    python_str_repr(path)
                ),
                _ => error.to_string(),
            },
            _ => error.to_string(),
        }
    }

    /// What pstats' `add` prints when `argument` fails to load: Python's
    /// `OSError` (`[Errno 2] No such file or directory: 'x.prof'`) for a
    /// file that cannot be opened, our message for the rest (where CPython
    /// stops with a traceback).
    #[must_use]
    pub fn add_failure(argument: &str, error: &StatsError) -> String {
        let reason = match error {
            StatsError::Io { source, .. } => match source.raw_os_error() {
                Some(errno) => format!(
                    "[Errno {errno}] {}: {}",
                    strerror(source),
                    python_str_repr(argument)
                ),
                None => source.to_string(),
            },
            _ => error.to_string(),
        };
        format!("Failed to load statistics for {argument}: {reason}")
    }

    fn write_prompt(&self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(file) = &self.file {
            out.write_all(&os_bytes(file.as_os_str()))?;
        }
        write!(out, "% ")
    }

    /// Runs the command loop until `quit`, `EOF` or the end of `input`,
    /// printing a prompt before each command like Python's `cmd` module.
    ///
    /// # Errors
    /// When reading commands or writing output fails.
    pub fn run(&mut self, input: &mut dyn BufRead, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "Welcome to the profile statistics browser.")?;
        let mut line = String::new();
        loop {
            self.write_prompt(out)?;
            out.flush()?;
            line.clear();
            let command = if input.read_line(&mut line)? == 0 {
                "EOF".to_owned()
            } else {
                line.trim_matches(is_python_space).to_owned()
            };
            // As in `cmd`, an empty line repeats the last command.
            let command = if command.is_empty() {
                self.last_command.clone()
            } else {
                command
            };
            if command.is_empty() {
                continue;
            }
            self.last_command.clone_from(&command);
            if !self.execute(&command, out)? {
                break;
            }
        }
        writeln!(out, "Goodbye.")
    }

    /// Runs one command; false when it asks to leave.
    ///
    /// # Errors
    /// When writing output fails.
    pub fn execute(&mut self, command: &str, out: &mut dyn Write) -> io::Result<bool> {
        // Python's `cmd.parseline`: `?` is `help`; the command is the
        // leading run of letters, digits and `_` (`stats.*json` is `stats`
        // with `.*json`), the argument the rest.
        let line = command.trim_matches(is_python_space);
        let line = match line.strip_prefix('?') {
            Some(rest) => format!("help {rest}"),
            None => line.to_owned(),
        };
        let end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(line.len());
        let (name, argument) = (&line[..end], line[end..].trim_matches(is_python_space));
        let command = line.as_str();
        match name {
            "EOF" => {
                writeln!(out)?;
                return Ok(false);
            }
            "quit" => return Ok(false),
            "help" => self.help(argument, out)?,
            "read" => {
                let path = if argument.is_empty() {
                    self.file.clone()
                } else {
                    Some(PathBuf::from(argument))
                };
                match path {
                    Some(path) => {
                        if let Err(error) = self.read(&path) {
                            writeln!(out, "{}", Self::read_failure(&error))?;
                        }
                    }
                    None => writeln!(out, "No statistics object is current -- cannot reload.")?,
                }
            }
            "add" => {
                if self.stats.is_none() {
                    writeln!(out, "No statistics object is loaded.")?;
                } else if let Err(error) = self.add(Path::new(argument)) {
                    writeln!(out, "{}", Self::add_failure(argument, &error))?;
                }
            }
            "stats" | "callers" | "callees" => {
                let mut restrictions = Vec::new();
                for term in python_split(argument) {
                    match Restriction::parse(term) {
                        // `frac > 1 or frac < 0`: a NaN passes, as in pstats.
                        Restriction::Fraction(f) if !f.is_nan() && !(0.0..=1.0).contains(&f) => {
                            writeln!(out, "Fraction argument must be in [0, 1]")?;
                        }
                        restriction => restrictions.push(restriction),
                    }
                }
                let Some(stats) = &self.stats else {
                    writeln!(out, "No statistics object is loaded.")?;
                    return Ok(true);
                };
                let restrictions = Restrictions(restrictions);
                match name {
                    "stats" => stats.write_stats(out, &self.view, restrictions)?,
                    "callers" => stats.write_callers(out, &self.view, restrictions)?,
                    _ => stats.write_callees(out, &self.view, restrictions)?,
                }
            }
            "sort" => {
                let Some(stats) = &self.stats else {
                    writeln!(out, "No statistics object is loaded.")?;
                    return Ok(true);
                };
                let keys: Result<Vec<SortKey>, _> =
                    python_split(argument).map(SortKey::parse).collect();
                match keys {
                    Ok(keys) if !keys.is_empty() => self.view.sort(stats, &keys),
                    _ => {
                        writeln!(out, "Valid sort keys (unique prefixes are accepted):")?;
                        for word in SortKey::words() {
                            let key = SortKey::parse(word).expect("every full word parses");
                            writeln!(out, "{word} -- {}", key.description())?;
                        }
                    }
                }
            }
            "reverse" if self.stats.is_some() => self.view.reverse(),
            "strip" if self.stats.is_some() => {
                self.stats = self.stats.take().map(Stats::strip_dirs);
                self.view.unsort();
            }
            "reverse" | "strip" => writeln!(out, "No statistics object is loaded.")?,
            "memory" => {
                self.view.set_memory(!self.view.memory());
                writeln!(
                    out,
                    "Allocation columns {}.",
                    if self.view.memory() { "on" } else { "off" }
                )?;
            }
            _ => writeln!(out, "*** Unknown syntax: {command}")?,
        }
        Ok(true)
    }

    /// Whether statistics are loaded (a failed first `read` leaves none).
    #[must_use]
    pub fn is_loaded(&self) -> bool {
        self.stats.is_some()
    }

    fn help(&self, topic: &str, out: &mut dyn Write) -> io::Result<()> {
        if topic.is_empty() {
            let header = "Documented commands (type help <topic>):";
            writeln!(out)?;
            writeln!(out, "{header}")?;
            writeln!(out, "{}", "=".repeat(header.len()))?;
            let names: Vec<&str> = COMMANDS.iter().map(|(name, _)| *name).collect();
            writeln!(out, "{}", names.join("  "))?;
            return writeln!(out);
        }
        match COMMANDS.iter().find(|(name, _)| *name == topic) {
            Some((name, text)) => {
                writeln!(out, "{text}")?;
                if matches!(*name, "stats" | "callers" | "callees") {
                    writeln!(out, "{RESTRICTION_HELP}")?;
                }
                Ok(())
            }
            None => writeln!(out, "*** No help on {topic}"),
        }
    }
}

/// C's `strerror` of an OS error, as Python's `OSError.strerror`: the
/// message without the `(os error N)` that Rust appends.
fn strerror(error: &io::Error) -> String {
    let text = error.to_string();
    match error.raw_os_error() {
        Some(errno) => text
            .strip_suffix(&format!(" (os error {errno})"))
            .unwrap_or(&text)
            .to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CallerStats, FunctionKey, FunctionStats};

    fn session(commands: &str, stats: Option<Stats>) -> String {
        let mut browser = Browser {
            stats,
            file: Some("x.prof".into()),
            ..Browser::default()
        };
        let mut out = Vec::new();
        browser
            .run(&mut commands.as_bytes(), &mut out)
            .expect("in-memory io");
        String::from_utf8(out).expect("utf-8")
    }

    fn sample() -> Stats {
        let main = FunctionKey {
            file: "/src/main.rs".into(),
            line: 1,
            name: "main".into(),
        };
        let work = FunctionKey {
            file: "/src/work.rs".into(),
            line: 7,
            name: "work".into(),
        };
        let edge = CallerStats {
            calls: 4,
            primitive_calls: 4,
            tottime: 0.5,
            cumtime: 0.5,
            count_only: false,
        };
        Stats::from_entries([
            (
                main.clone(),
                FunctionStats {
                    primitive_calls: 1,
                    calls: 1,
                    tottime: 0.25,
                    cumtime: 0.75,
                    ..FunctionStats::default()
                },
            ),
            (
                work,
                FunctionStats {
                    primitive_calls: 4,
                    calls: 4,
                    tottime: 0.5,
                    cumtime: 0.5,
                    callers: [(main, edge)].into(),
                    ..FunctionStats::default()
                },
            ),
        ])
    }

    #[test]
    fn piped_commands_print_tables_and_end_at_eof() {
        let out = session("strip\nsort cumulative\nstats 1\n", Some(sample()));
        assert!(
            out.starts_with("Welcome to the profile statistics browser.\nx.prof% "),
            "{out}"
        );
        assert!(
            out.contains(
                "   Ordered by: cumulative time\n   List reduced from 2 to 1 due to restriction <1>"
            ),
            "{out}"
        );
        assert!(out.contains("main.rs:1(main)"), "{out}");
        assert!(!out.contains("work.rs:7(work)\n"), "{out}");
        assert!(out.ends_with("x.prof% \nGoodbye.\n"), "{out}");
    }

    #[test]
    fn sort_without_keys_lists_them_and_unknown_commands_say_so() {
        let out = session("sort\nfrobnicate\nquit\n", Some(sample()));
        assert!(
            out.contains("Valid sort keys (unique prefixes are accepted):\ncalls -- call count\n"),
            "{out}"
        );
        assert!(out.contains("tottime -- internal time\n"), "{out}");
        assert!(out.contains("*** Unknown syntax: frobnicate"), "{out}");
    }

    #[test]
    fn commands_split_as_python_cmd_splits_them() {
        let out = session("stats.*work\n?sort\n!ls\nquit\n", Some(sample()));
        assert!(
            out.contains("List reduced from 2 to 1 due to restriction <'.*work'>"),
            "{out}"
        );
        assert!(
            out.contains("Sort profile data according to specified keys."),
            "{out}"
        );
        assert!(out.contains("*** Unknown syntax: !ls\n"), "{out}");
    }

    #[test]
    fn an_empty_line_repeats_the_last_command() {
        let out = session("callers work\n\nquit\n", Some(sample()));
        assert_eq!(out.matches("was called by...").count(), 2, "{out}");
    }

    #[test]
    fn commands_without_statistics_say_nothing_is_loaded() {
        let mut browser = Browser::new();
        let mut out = Vec::new();
        browser
            .run(
                &mut "stats\nread /no/such/file.prof\nquit\n".as_bytes(),
                &mut out,
            )
            .expect("io");
        let out = String::from_utf8(out).expect("utf-8");
        assert!(out.contains("No statistics object is loaded."), "{out}");
        // pstats prints only the OSError's strerror.
        assert!(out.contains("% No such file or directory\n"), "{out}");
    }

    #[test]
    fn help_lists_commands_and_explains_restrictions() {
        let out = session("help\nhelp stats\nhelp nope\nquit\n", None);
        assert!(
            out.contains("Documented commands (type help <topic>):"),
            "{out}"
        );
        assert!(
            out.contains("A regular expression; only entries with function names"),
            "{out}"
        );
        assert!(out.contains("*** No help on nope"), "{out}");
    }
}
