//! pstats' printed tables, byte for byte as CPython's `pstats` prints them:
//! `print_stats`, `print_callers`, `print_callees`. Each reads the model
//! ([`Stats`]) through a [`View`] and a list of restrictions.

use std::io::{self, Write};

use crate::{Callers, FunctionKey, Restrictions, Stats, StatsError, View};

impl Stats {
    /// Writes the table as pstats' `print_stats`, byte for byte.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_stats(
        &self,
        out: &mut dyn Write,
        view: &View,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        for file in self.files() {
            out.write_all(&os_bytes(file))?;
            writeln!(out)?;
        }
        if !self.files().is_empty() {
            writeln!(out)?;
        }
        let (total, primitive) = (self.total_calls(), self.primitive_calls());
        write!(out, "         {total} function calls ")?;
        if total != primitive {
            write!(out, "({primitive} primitive calls) ")?;
        }
        writeln!(out, "in {} seconds", f3(self.total_tt()))?;
        writeln!(out)?;
        let list = view.print_list(self, &restrictions.into());
        if list.keys.is_empty() {
            return Ok(());
        }
        writeln!(out, "{}", list.message)?;
        write!(out, "   ncalls  tottime  percall  cumtime  percall ")?;
        if view.memory() {
            write!(out, "  allocs      bytes ")?;
        }
        writeln!(out, "filename:lineno(function)")?;
        for key in list.keys {
            self.write_line(out, key, view.memory())?;
        }
        writeln!(out)?;
        writeln!(out)
    }

    fn write_line(&self, out: &mut dyn Write, key: &FunctionKey, memory: bool) -> io::Result<()> {
        let s = &self.entries()[key];
        let calls = if s.calls == s.primitive_calls {
            s.calls.to_string()
        } else {
            format!("{}/{}", s.calls, s.primitive_calls)
        };
        write!(out, "{calls:>9} {} ", f8(s.tottime))?;
        if s.calls == 0 {
            write!(out, "         ")?;
        } else {
            write!(out, "{} ", f8(s.tottime / s.calls as f64))?;
        }
        write!(out, "{} ", f8(s.cumtime))?;
        if s.primitive_calls == 0 {
            write!(out, "         ")?;
        } else {
            write!(out, "{} ", f8(s.cumtime / s.primitive_calls as f64))?;
        }
        if memory {
            write!(out, "{:>8} {:>10} ", s.allocations, s.allocated_bytes)?;
        }
        writeln!(out, "{}", key.std_string())
    }

    /// Writes who called each listed function, as pstats' `print_callers`.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_callers(
        &self,
        out: &mut dyn Write,
        view: &View,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        let list = view.print_list(self, &restrictions.into());
        if list.keys.is_empty() {
            return Ok(());
        }
        writeln!(out, "{}", list.message)?;
        self.write_call_heading(out, list.width, "was called by...")?;
        for key in list.keys {
            self.write_call_line(out, list.width, key, &self.entries()[key].callers, "<-")?;
        }
        writeln!(out)?;
        writeln!(out)
    }

    /// Writes what each listed function called, as pstats' `print_callees`.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_callees(
        &self,
        out: &mut dyn Write,
        view: &View,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        let list = view.print_list(self, &restrictions.into());
        if list.keys.is_empty() {
            return Ok(());
        }
        let callees = self.callees();
        writeln!(out, "{}", list.message)?;
        self.write_call_heading(out, list.width, "called...")?;
        let none = Callers::new();
        for key in list.keys {
            let calls = callees.get(key).unwrap_or(&none);
            self.write_call_line(out, list.width, key, calls, "->")?;
        }
        writeln!(out)?;
        writeln!(out)
    }

    /// pstats' `print_call_heading`: the column titles only when the first
    /// function with callers has cProfile's timed callers (a file of the
    /// `profile` module has counts only).
    fn write_call_heading(&self, out: &mut dyn Write, width: usize, title: &str) -> io::Result<()> {
        writeln!(out, "{}{title}", ljust("Function ", width))?;
        let timed = self
            .entries()
            .values()
            .find_map(|s| s.callers.values().next())
            .is_some_and(|edge| !edge.count_only);
        if timed {
            writeln!(out, "{}    ncalls  tottime  cumtime", " ".repeat(width))?;
        }
        Ok(())
    }

    /// pstats' `print_call_line`: the calls listed in key order (`sorted()`
    /// of the key tuples), every line after the first indented. A timed
    /// call prints its counts and times, its count column two wider after
    /// the first; a bare count (the `profile` module's) prints as
    /// `name(count)` and the other function's own cumulative time, three
    /// further in.
    fn write_call_line(
        &self,
        out: &mut dyn Write,
        width: usize,
        source: &FunctionKey,
        calls: &Callers,
        arrow: &str,
    ) -> io::Result<()> {
        write!(out, "{}{arrow} ", ljust(&source.std_string(), width))?;
        if calls.is_empty() {
            return writeln!(out);
        }
        let mut sorted: Vec<_> = calls.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        for (index, (key, edge)) in sorted.into_iter().enumerate() {
            let first = index == 0;
            if edge.count_only {
                // CPython stops with a KeyError for a function it has no
                // entry for; its time prints as zero here.
                let cumtime = self.entries().get(key).map_or(0.0, |s| s.cumtime);
                let indent = if first { 0 } else { width + 3 };
                writeln!(
                    out,
                    "{}{}({}) {}",
                    " ".repeat(indent),
                    key.std_string(),
                    edge.calls,
                    f8(cumtime)
                )?;
                continue;
            }
            let count = if edge.calls == edge.primitive_calls {
                edge.calls.to_string()
            } else {
                format!("{}/{}", edge.calls, edge.primitive_calls)
            };
            let (indent, count_width) = if first { (0, 7) } else { (width + 1, 9) };
            writeln!(
                out,
                "{}{count:>count_width$} {} {}  {}",
                " ".repeat(indent),
                f8(edge.tottime),
                f8(edge.cumtime),
                key.std_string()
            )?;
        }
        Ok(())
    }

    /// A sorted view of these statistics, ready to print: the short way for
    /// one table, as `stats.sort_stats(...).print_stats(...)` in pstats.
    ///
    /// # Errors
    /// [`StatsError::UnknownSortKey`] for an unknown or ambiguous key.
    pub fn sort_stats(&self, words: &[&str]) -> Result<Report<'_>, StatsError> {
        Ok(Report {
            stats: self,
            view: View::sorted(self, words)?,
        })
    }

    /// These statistics in the file's order, ready to print.
    #[must_use]
    pub fn report(&self) -> Report<'_> {
        Report {
            stats: self,
            view: View::new(),
        }
    }
}

/// Statistics and a view of them: pstats' chained style,
/// `stats.sort_stats(&["cumtime"])?.print_stats(10)?`.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    stats: &'a Stats,
    view: View,
}

impl Report<'_> {
    /// Reverses the order, as pstats' `reverse_order`.
    #[must_use]
    pub fn reverse_order(mut self) -> Self {
        self.view.reverse();
        self
    }

    /// Shows the allocation columns; see [`View::set_memory`].
    #[must_use]
    pub fn with_memory(mut self, show: bool) -> Self {
        self.view.set_memory(show);
        self
    }

    /// The view this report prints with.
    #[must_use]
    pub fn view(&self) -> &View {
        &self.view
    }

    /// See [`Stats::write_stats`].
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_stats(
        &self,
        out: &mut dyn Write,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        self.stats.write_stats(out, &self.view, restrictions)
    }

    /// See [`Stats::write_callers`].
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_callers(
        &self,
        out: &mut dyn Write,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        self.stats.write_callers(out, &self.view, restrictions)
    }

    /// See [`Stats::write_callees`].
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_callees(
        &self,
        out: &mut dyn Write,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        self.stats.write_callees(out, &self.view, restrictions)
    }

    /// Prints the table to standard output.
    ///
    /// # Errors
    /// When standard output fails.
    pub fn print_stats(&self, restrictions: impl Into<Restrictions>) -> io::Result<&Self> {
        self.write_stats(&mut io::stdout().lock(), restrictions)?;
        Ok(self)
    }

    /// Prints callers to standard output.
    ///
    /// # Errors
    /// When standard output fails.
    pub fn print_callers(&self, restrictions: impl Into<Restrictions>) -> io::Result<&Self> {
        self.write_callers(&mut io::stdout().lock(), restrictions)?;
        Ok(self)
    }

    /// Prints callees to standard output.
    ///
    /// # Errors
    /// When standard output fails.
    pub fn print_callees(&self, restrictions: impl Into<Restrictions>) -> io::Result<&Self> {
        self.write_callees(&mut io::stdout().lock(), restrictions)?;
        Ok(self)
    }
}

/// The bytes of a file name as Python prints it: as they are on Unix (its
/// `surrogateescape` gives the same bytes back), lossily elsewhere.
pub(crate) fn os_bytes(text: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        std::borrow::Cow::Borrowed(std::os::unix::ffi::OsStrExt::as_bytes(text))
    }
    #[cfg(not(unix))]
    {
        match text.to_string_lossy() {
            std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
        }
    }
}

/// Python's `str.ljust`: padded with spaces to `width` characters. Not
/// `format!("{:<width$}")`, which panics past a width of 65,535 (a function
/// name that long is a valid stats file, issue 35 item 7).
fn ljust(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(text.chars().count());
    let mut out = String::with_capacity(text.len() + pad);
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', pad));
    out
}

/// pstats' `f8`: Python's `%8.3f`.
fn f8(x: f64) -> String {
    format!("{:>8}", f3(x))
}

/// Python's `%.3f`, which spells the non-finite `nan`, `inf`, `-inf`.
fn f3(x: f64) -> String {
    if x.is_nan() {
        "nan".to_owned()
    } else {
        format!("{x:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CallerStats, FunctionStats};

    #[test]
    fn names_longer_than_a_format_width_print_without_panicking() {
        let long = FunctionKey {
            file: "m.py".into(),
            line: 1,
            name: "x".repeat(70_000).into(),
        };
        let caller = FunctionKey {
            file: "m.py".into(),
            line: 9,
            name: "main".into(),
        };
        let edge = CallerStats {
            calls: 1,
            primitive_calls: 1,
            tottime: 0.5,
            cumtime: 0.5,
            count_only: false,
        };
        let stats = Stats::from_entries([
            (caller.clone(), FunctionStats::default()),
            (
                long.clone(),
                FunctionStats {
                    primitive_calls: 1,
                    calls: 1,
                    callers: [(caller, edge)].into(),
                    ..FunctionStats::default()
                },
            ),
        ]);
        let view = View::new();
        let mut callers = Vec::new();
        stats.write_callers(&mut callers, &view, ()).expect("io");
        let mut callees = Vec::new();
        stats.write_callees(&mut callees, &view, ()).expect("io");
        let callers = String::from_utf8(callers).expect("utf-8");
        let width = long.std_string().len() + 2;
        let heading = callers.lines().nth(2).expect("a heading");
        assert_eq!(heading.len(), width + "was called by...".len());
        assert!(callers.contains(&format!("{}  <- ", long.std_string())));
        assert!(
            String::from_utf8(callees)
                .expect("utf-8")
                .contains("called...")
        );
    }
}
