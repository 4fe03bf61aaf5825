//! pstats' data model, sorting, restrictions and printing.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::record::{self, Recorded};
use crate::{Profile, StatsError};

/// A function as pstats names it: `(filename, line, function name)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionKey {
    /// Source file (a path; `~` for CPython's built-ins).
    pub file: String,
    /// First line of the function.
    pub line: u32,
    /// Function name.
    pub name: String,
}

impl FunctionKey {
    /// pstats' `func_std_string`: `file:line(name)`, or `{name}` for
    /// CPython's built-ins, keyed `('~', 0, '<name>')`.
    #[must_use]
    pub fn std_string(&self) -> String {
        if self.file == "~" && self.line == 0 {
            match self
                .name
                .strip_prefix('<')
                .and_then(|n| n.strip_suffix('>'))
            {
                Some(inner) => format!("{{{inner}}}"),
                None => self.name.clone(),
            }
        } else {
            format!("{}:{}({})", self.file, self.line, self.name)
        }
    }

    fn stripped(&self) -> Self {
        let file = self
            .file
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&self.file)
            .to_owned();
        Self {
            file,
            line: self.line,
            name: self.name.clone(),
        }
    }
}

/// One caller's share of a function's calls: pstats' `(nc, cc, tt, ct)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallerStats {
    /// Calls from this caller.
    pub calls: u64,
    /// Of which not recursive.
    pub primitive_calls: u64,
    /// Time inside the function itself during these calls.
    pub tottime: f64,
    /// Time inside the function and its callees during these calls,
    /// counted at the outermost call only.
    pub cumtime: f64,
}

impl CallerStats {
    fn add(&mut self, other: &Self) {
        self.calls += other.calls;
        self.primitive_calls += other.primitive_calls;
        self.tottime += other.tottime;
        self.cumtime += other.cumtime;
    }
}

/// One function's statistics: pstats' `(cc, nc, tt, ct, callers)`, plus the
/// allocations cProfile cannot see.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionStats {
    /// Calls that were not recursive (`cc`).
    pub primitive_calls: u64,
    /// All calls (`nc`).
    pub calls: u64,
    /// Time in the function itself, callees excluded (`tt`).
    pub tottime: f64,
    /// Time in the function and its callees, counted only at the
    /// outermost of recursive calls (`ct`).
    pub cumtime: f64,
    /// Who called it, and how much.
    pub callers: BTreeMap<FunctionKey, CallerStats>,
    /// Allocations made in the function itself (its callees excluded).
    pub allocations: u64,
    /// Bytes those allocations requested.
    pub allocated_bytes: u64,
}

impl FunctionStats {
    fn add(&mut self, other: &Self) {
        self.primitive_calls += other.primitive_calls;
        self.calls += other.calls;
        self.tottime += other.tottime;
        self.cumtime += other.cumtime;
        self.allocations += other.allocations;
        self.allocated_bytes += other.allocated_bytes;
        for (caller, stats) in &other.callers {
            self.callers.entry(caller.clone()).or_default().add(stats);
        }
    }
}

/// A pstats sort key. Parse one with [`SortKey::parse`], which accepts any
/// unambiguous prefix the way pstats does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `calls`, `ncalls`: call count, descending.
    Calls,
    /// `cumulative`, `cumtime`: cumulative time, descending.
    Cumulative,
    /// `filename`, `module` (and the prefix `file`): file name, ascending.
    Filename,
    /// `line`: line number, ascending.
    Line,
    /// `name`: function name, ascending.
    Name,
    /// `nfl`: name, then file, then line.
    NameFileLine,
    /// `pcalls`: primitive call count, descending.
    PrimitiveCalls,
    /// `stdname`: the printed `file:line(name)` string, ascending.
    StdName,
    /// `time`, `tottime`: internal time, descending.
    Time,
}

/// pstats' sort words in its own order, which decides how prefixes resolve.
const SORT_WORDS: [(&str, SortKey); 13] = [
    ("calls", SortKey::Calls),
    ("ncalls", SortKey::Calls),
    ("cumtime", SortKey::Cumulative),
    ("cumulative", SortKey::Cumulative),
    ("filename", SortKey::Filename),
    ("line", SortKey::Line),
    ("module", SortKey::Filename),
    ("name", SortKey::Name),
    ("nfl", SortKey::NameFileLine),
    ("pcalls", SortKey::PrimitiveCalls),
    ("stdname", SortKey::StdName),
    ("time", SortKey::Time),
    ("tottime", SortKey::Time),
];

impl SortKey {
    /// Every full sort word pstats accepts.
    #[must_use]
    pub fn words() -> Vec<&'static str> {
        SORT_WORDS.iter().map(|(word, _)| *word).collect()
    }

    /// Resolves a sort word or a prefix of one exactly as pstats'
    /// `get_sort_arg_defs` does: each word claims its prefixes in table
    /// order, and a prefix claimed twice is dropped.
    ///
    /// # Errors
    /// [`StatsError::UnknownSortKey`] listing the valid keys.
    ///
    /// ```
    /// use proflab::SortKey;
    /// assert_eq!(SortKey::parse("cumu")?, SortKey::Cumulative);
    /// assert_eq!(SortKey::parse("file")?, SortKey::Filename);
    /// assert!(SortKey::parse("c").is_err()); // calls? cumulative?
    /// # Ok::<(), proflab::StatsError>(())
    /// ```
    pub fn parse(word: &str) -> Result<Self, StatsError> {
        let mut claimed: Vec<(String, SortKey)> = Vec::new();
        let mut ambiguous: Vec<String> = Vec::new();
        for (full, key) in SORT_WORDS {
            for end in (1..=full.len()).rev() {
                let fragment = &full[..end];
                if claimed.iter().any(|(c, _)| c == fragment) {
                    ambiguous.push(fragment.to_owned());
                    break;
                }
                claimed.push((fragment.to_owned(), key));
            }
        }
        claimed
            .into_iter()
            .find(|(fragment, _)| fragment == word && !ambiguous.iter().any(|a| a == word))
            .map(|(_, key)| key)
            .ok_or_else(|| StatsError::UnknownSortKey {
                key: word.to_owned(),
                valid: Self::words().join(", "),
            })
    }

    /// How pstats describes the order in "Ordered by: ...".
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            SortKey::Calls => "call count",
            SortKey::Cumulative => "cumulative time",
            SortKey::Filename => "file name",
            SortKey::Line => "line number",
            SortKey::Name => "function name",
            SortKey::NameFileLine => "name/file/line",
            SortKey::PrimitiveCalls => "primitive call count",
            SortKey::StdName => "standard name",
            SortKey::Time => "internal time",
        }
    }

    fn compare(
        self,
        a: (&FunctionKey, &FunctionStats),
        b: (&FunctionKey, &FunctionStats),
    ) -> std::cmp::Ordering {
        let ((ka, sa), (kb, sb)) = (a, b);
        match self {
            SortKey::Calls => sb.calls.cmp(&sa.calls),
            SortKey::Cumulative => sb.cumtime.total_cmp(&sa.cumtime),
            SortKey::Filename => ka.file.cmp(&kb.file),
            SortKey::Line => ka.line.cmp(&kb.line),
            SortKey::Name => ka.name.cmp(&kb.name),
            SortKey::NameFileLine => {
                (&ka.name, &ka.file, ka.line).cmp(&(&kb.name, &kb.file, kb.line))
            }
            SortKey::PrimitiveCalls => sb.primitive_calls.cmp(&sa.primitive_calls),
            SortKey::StdName => ka.std_string().cmp(&kb.std_string()),
            SortKey::Time => sb.tottime.total_cmp(&sa.tottime),
        }
    }
}

/// One restriction of a printed list, as pstats' `print_stats` arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Restriction {
    /// Keep the first n lines.
    Count(usize),
    /// Keep this fraction of the lines, in [0, 1).
    Fraction(f64),
    /// Keep lines whose `file:line(function)` matches this regular expression.
    Pattern(String),
}

impl Restriction {
    /// Reads a restriction as pstats' browser does: an integer, a float, or
    /// else a regular expression.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        if let Ok(count) = text.parse::<usize>() {
            Restriction::Count(count)
        } else if let Ok(fraction) = text.parse::<f64>() {
            Restriction::Fraction(fraction)
        } else {
            Restriction::Pattern(text.to_owned())
        }
    }

    /// Python's `%r` of the restriction, as pstats prints it.
    fn repr(&self) -> String {
        match self {
            Restriction::Count(n) => n.to_string(),
            Restriction::Fraction(f) => python_float_repr(*f),
            Restriction::Pattern(p) => python_str_repr(p),
        }
    }
}

/// Restrictions applied in order; made from an integer, a float, a pattern,
/// nothing `()`, or a list of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Restrictions(pub Vec<Restriction>);

impl From<()> for Restrictions {
    fn from((): ()) -> Self {
        Self(Vec::new())
    }
}
impl From<usize> for Restrictions {
    fn from(count: usize) -> Self {
        Self(vec![Restriction::Count(count)])
    }
}
impl From<i32> for Restrictions {
    fn from(count: i32) -> Self {
        Self(vec![Restriction::Count(
            usize::try_from(count).unwrap_or(0),
        )])
    }
}
impl From<f64> for Restrictions {
    fn from(fraction: f64) -> Self {
        Self(vec![Restriction::Fraction(fraction)])
    }
}
impl From<&str> for Restrictions {
    fn from(pattern: &str) -> Self {
        Self(vec![Restriction::Pattern(pattern.to_owned())])
    }
}
impl From<Vec<Restriction>> for Restrictions {
    fn from(list: Vec<Restriction>) -> Self {
        Self(list)
    }
}

/// The statistics of a profile, with pstats' operations: strip directories,
/// sort, restrict, print the table, its callers and callees, save to a file
/// that Python's `pstats` opens.
///
/// ```
/// use proflab::{Profile, Stats};
///
/// #[proflab::profile]
/// fn work(n: u64) -> u64 { (0..n).sum() }
///
/// let profile = Profile::new();
/// profile.enable();
/// for _ in 0..3 { std::hint::black_box(work(1000)); }
/// profile.disable();
/// let stats = Stats::new(&profile).strip_dirs().sort_stats(&["cumtime"])?;
/// let mut table = Vec::new();
/// stats.write_stats(&mut table, 10)?;
/// let table = String::from_utf8(table)?;
/// assert!(table.contains("3 function calls in"));
/// assert!(table.contains("(work)"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub(crate) stats: BTreeMap<FunctionKey, FunctionStats>,
    /// Header lines naming the files the data came from.
    pub(crate) files: Vec<String>,
    order: Option<Vec<FunctionKey>>,
    sort_type: String,
    /// Self time per exact call path (`a;b;c`), in nanoseconds, for
    /// flamegraphs; empty for statistics loaded from a file.
    pub(crate) paths: BTreeMap<String, u64>,
    show_memory: bool,
}

impl Stats {
    /// The statistics of a disabled profile (empty while it is enabled or
    /// before it ran).
    #[must_use]
    pub fn new(profile: &Profile) -> Self {
        Self::from_raw(&profile.raw())
    }

    pub(crate) fn from_raw(recorded: &Recorded) -> Self {
        let raw = &recorded.functions;
        let key_of = |index: usize| {
            let site = record::site(u32::try_from(index).expect("site indices fit in u32"));
            FunctionKey {
                file: site.file().to_owned(),
                line: site.line(),
                name: site.name().to_owned(),
            }
        };
        let mut stats = BTreeMap::new();
        for (index, function) in raw.iter().enumerate().filter(|(_, f)| f.calls > 0) {
            let callers = function
                .callers
                .iter()
                .map(|(caller, edge)| {
                    let stats = CallerStats {
                        calls: edge.calls,
                        primitive_calls: edge.calls - edge.recursive_calls,
                        tottime: record::seconds(edge.inline_ticks),
                        cumtime: record::seconds(edge.total_ticks),
                    };
                    (key_of(*caller as usize), stats)
                })
                .collect();
            let entry = FunctionStats {
                primitive_calls: function.calls - function.recursive_calls,
                calls: function.calls,
                tottime: record::seconds(function.inline_ticks),
                cumtime: record::seconds(function.total_ticks),
                callers,
                allocations: function.allocations.count,
                allocated_bytes: function.allocations.bytes,
            };
            stats.insert(key_of(index), entry);
        }
        let paths = crate::graph::folded_paths(recorded);
        Self {
            stats,
            paths,
            ..Self::default()
        }
    }

    /// Builds statistics from entries, as a loaded file or a test provides them.
    #[must_use]
    pub fn from_entries(entries: impl IntoIterator<Item = (FunctionKey, FunctionStats)>) -> Self {
        Self {
            stats: entries.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Every function's statistics.
    #[must_use]
    pub fn entries(&self) -> &BTreeMap<FunctionKey, FunctionStats> {
        &self.stats
    }

    /// The statistics of one function, found by name.
    #[must_use]
    pub fn function(&self, name: &str) -> Option<(&FunctionKey, &FunctionStats)> {
        self.stats.iter().find(|(key, _)| key.name == name)
    }

    /// Total calls, as the header prints them.
    #[must_use]
    pub fn total_calls(&self) -> u64 {
        self.stats.values().map(|s| s.calls).sum()
    }

    /// Primitive (non-recursive) calls.
    #[must_use]
    pub fn primitive_calls(&self) -> u64 {
        self.stats.values().map(|s| s.primitive_calls).sum()
    }

    /// The header's "in S seconds": the sum of every function's tottime.
    #[must_use]
    pub fn total_tt(&self) -> f64 {
        self.stats.values().map(|s| s.tottime).sum()
    }

    /// Adds another set of statistics into this one, as pstats' `add`.
    #[must_use]
    pub fn add_stats(mut self, other: &Stats) -> Self {
        self.files.extend(other.files.iter().cloned());
        for (key, stats) in &other.stats {
            self.stats.entry(key.clone()).or_default().add(stats);
        }
        self.order = None;
        self
    }

    /// Removes directories from file names, merging functions that then
    /// share a name, as pstats' `strip_dirs`.
    #[must_use]
    pub fn strip_dirs(mut self) -> Self {
        let old = std::mem::take(&mut self.stats);
        for (key, mut stats) in old {
            stats.callers =
                stats
                    .callers
                    .into_iter()
                    .fold(BTreeMap::new(), |mut callers, (caller, s)| {
                        callers
                            .entry(caller.stripped())
                            .or_insert_with(CallerStats::default)
                            .add(&s);
                        callers
                    });
            self.stats.entry(key.stripped()).or_default().add(&stats);
        }
        self.order = None;
        self
    }

    /// Sorts by one or more keys (words or unique prefixes), as pstats'
    /// `sort_stats`; later keys break ties of earlier ones.
    ///
    /// # Errors
    /// [`StatsError::UnknownSortKey`] for an unknown or ambiguous key.
    pub fn sort_stats(mut self, words: &[&str]) -> Result<Self, StatsError> {
        let keys = words
            .iter()
            .map(|w| SortKey::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        self.sort_by(&keys);
        Ok(self)
    }

    /// Sorts by parsed keys; see [`Stats::sort_stats`].
    pub fn sort_by(&mut self, keys: &[SortKey]) {
        let mut order: Vec<(&FunctionKey, &FunctionStats)> = self.stats.iter().collect();
        order.sort_by(|a, b| {
            keys.iter()
                .map(|k| k.compare(*a, *b))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        self.order = Some(order.into_iter().map(|(k, _)| k.clone()).collect());
        self.sort_type = keys
            .iter()
            .map(|k| k.description())
            .collect::<Vec<_>>()
            .join(", ");
    }

    /// Reverses the current order, as pstats' `reverse_order`.
    #[must_use]
    pub fn reverse_order(mut self) -> Self {
        if let Some(order) = &mut self.order {
            order.reverse();
        }
        self
    }

    /// Shows the allocation columns (count and bytes per function) that
    /// cProfile lacks, before the function name.
    #[must_use]
    pub fn with_memory(mut self, show: bool) -> Self {
        self.show_memory = show;
        self
    }

    fn max_name_len(&self) -> usize {
        self.stats
            .keys()
            .map(|k| k.std_string().len())
            .max()
            .unwrap_or(0)
    }

    /// pstats' `get_print_list`: the restricted list, the column width, and
    /// the "Ordered by" and "List reduced" lines.
    fn print_list(&self, restrictions: &Restrictions) -> (usize, Vec<&FunctionKey>, String) {
        let (mut list, mut message): (Vec<&FunctionKey>, String) = match &self.order {
            Some(order) => (
                order.iter().collect(),
                format!("   Ordered by: {}\n", self.sort_type),
            ),
            None => (
                self.stats.keys().collect(),
                "   Random listing order was used\n".to_owned(),
            ),
        };
        for restriction in &restrictions.0 {
            let before = list.len();
            match restriction {
                Restriction::Pattern(pattern) => match regex::Regex::new(pattern) {
                    Ok(regex) => list.retain(|key| regex.is_match(&key.std_string())),
                    Err(_) => {
                        message.push_str(&format!(
                            "   <Invalid regular expression {}>\n",
                            python_str_repr(pattern)
                        ));
                        continue;
                    }
                },
                Restriction::Fraction(fraction) if (0.0..1.0).contains(fraction) => {
                    let keep = (before as f64 * fraction + 0.5) as usize;
                    list.truncate(keep);
                }
                Restriction::Count(count) if *count < before => list.truncate(*count),
                Restriction::Fraction(_) | Restriction::Count(_) => {}
            }
            if list.len() != before {
                message.push_str(&format!(
                    "   List reduced from {before} to {} due to restriction <{}>\n",
                    list.len(),
                    restriction.repr()
                ));
            }
        }
        let width = if list.len() < self.stats.len() {
            list.iter().map(|k| k.std_string().len()).max().unwrap_or(0)
        } else {
            self.max_name_len()
        };
        (width + 2, list, message)
    }

    /// Writes the table as pstats' `print_stats`, byte for byte.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_stats(
        &self,
        out: &mut dyn Write,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        for file in &self.files {
            writeln!(out, "{file}")?;
        }
        if !self.files.is_empty() {
            writeln!(out)?;
        }
        let (total, primitive) = (self.total_calls(), self.primitive_calls());
        write!(out, "         {total} function calls ")?;
        if total != primitive {
            write!(out, "({primitive} primitive calls) ")?;
        }
        writeln!(out, "in {:.3} seconds", self.total_tt())?;
        writeln!(out)?;
        let (_, list, message) = self.print_list(&restrictions.into());
        if list.is_empty() {
            return Ok(());
        }
        writeln!(out, "{message}")?;
        write!(out, "   ncalls  tottime  percall  cumtime  percall ")?;
        if self.show_memory {
            write!(out, "  allocs      bytes ")?;
        }
        writeln!(out, "filename:lineno(function)")?;
        for key in list {
            self.write_line(out, key)?;
        }
        writeln!(out)?;
        writeln!(out)
    }

    fn write_line(&self, out: &mut dyn Write, key: &FunctionKey) -> io::Result<()> {
        let s = &self.stats[key];
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
        if self.show_memory {
            write!(out, "{:>8} {:>10} ", s.allocations, s.allocated_bytes)?;
        }
        writeln!(out, "{}", key.std_string())
    }

    /// Prints the table to standard output; see [`Stats::write_stats`].
    ///
    /// # Errors
    /// When standard output fails.
    pub fn print_stats(&self, restrictions: impl Into<Restrictions>) -> io::Result<&Self> {
        self.write_stats(&mut io::stdout().lock(), restrictions)?;
        Ok(self)
    }

    /// Writes who called each listed function, as pstats' `print_callers`.
    ///
    /// # Errors
    /// When the writer fails.
    pub fn write_callers(
        &self,
        out: &mut dyn Write,
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        let (width, list, message) = self.print_list(&restrictions.into());
        if list.is_empty() {
            return Ok(());
        }
        writeln!(out, "{message}")?;
        self.write_call_heading(out, width, "was called by...")?;
        for key in list {
            self.write_call_line(out, width, key, &self.stats[key].callers, "<-")?;
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
        restrictions: impl Into<Restrictions>,
    ) -> io::Result<()> {
        let (width, list, message) = self.print_list(&restrictions.into());
        if list.is_empty() {
            return Ok(());
        }
        let callees = self.callees();
        writeln!(out, "{message}")?;
        self.write_call_heading(out, width, "called...")?;
        let none = BTreeMap::new();
        for key in list {
            self.write_call_line(out, width, key, callees.get(key).unwrap_or(&none), "->")?;
        }
        writeln!(out)?;
        writeln!(out)
    }

    /// Prints callers to standard output; see [`Stats::write_callers`].
    ///
    /// # Errors
    /// When standard output fails.
    pub fn print_callers(&self, restrictions: impl Into<Restrictions>) -> io::Result<&Self> {
        self.write_callers(&mut io::stdout().lock(), restrictions)?;
        Ok(self)
    }

    /// Prints callees to standard output; see [`Stats::write_callees`].
    ///
    /// # Errors
    /// When standard output fails.
    pub fn print_callees(&self, restrictions: impl Into<Restrictions>) -> io::Result<&Self> {
        self.write_callees(&mut io::stdout().lock(), restrictions)?;
        Ok(self)
    }

    /// pstats' `calc_callees`: the callers maps turned inside out.
    #[must_use]
    pub fn callees(&self) -> BTreeMap<FunctionKey, BTreeMap<FunctionKey, CallerStats>> {
        let mut callees: BTreeMap<FunctionKey, BTreeMap<FunctionKey, CallerStats>> =
            BTreeMap::new();
        for (callee, stats) in &self.stats {
            for (caller, edge) in &stats.callers {
                callees
                    .entry(caller.clone())
                    .or_default()
                    .insert(callee.clone(), *edge);
            }
        }
        callees
    }

    fn write_call_heading(&self, out: &mut dyn Write, width: usize, title: &str) -> io::Result<()> {
        writeln!(out, "{:<width$}{title}", "Function ")?;
        if self.stats.values().any(|s| !s.callers.is_empty()) {
            writeln!(out, "{}    ncalls  tottime  cumtime", " ".repeat(width))?;
        }
        Ok(())
    }

    fn write_call_line(
        &self,
        out: &mut dyn Write,
        width: usize,
        source: &FunctionKey,
        calls: &BTreeMap<FunctionKey, CallerStats>,
        arrow: &str,
    ) -> io::Result<()> {
        write!(out, "{:<width$}{arrow} ", source.std_string())?;
        if calls.is_empty() {
            return writeln!(out);
        }
        for (index, (key, edge)) in calls.iter().enumerate() {
            let count = if edge.calls == edge.primitive_calls {
                edge.calls.to_string()
            } else {
                format!("{}/{}", edge.calls, edge.primitive_calls)
            };
            // pstats indents every line after the first and widens the
            // count column by two.
            let (indent, count_width) = if index == 0 { (0, 7) } else { (width + 1, 9) };
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
}

/// pstats' `f8`: `%8.3f`.
fn f8(x: f64) -> String {
    format!("{x:8.3}")
}

/// Python's `repr` of a float, for the "List reduced" line.
fn python_float_repr(x: f64) -> String {
    let text = format!("{x:?}");
    text.replace("e-", "e-0").replace("e-00", "e-0")
}

/// Python's `repr` of a string: single quotes unless the text holds one and
/// no double quote.
fn python_str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_prefixes_resolve_as_pstats_does() {
        for (word, key) in [
            ("calls", SortKey::Calls),
            ("ncalls", SortKey::Calls),
            ("cumulative", SortKey::Cumulative),
            ("cumt", SortKey::Cumulative),
            // pstats quirk: "cu" was claimed by cumtime before cumulative
            // stopped at "cum", so it survives.
            ("cu", SortKey::Cumulative),
            ("file", SortKey::Filename),
            ("mod", SortKey::Filename),
            ("li", SortKey::Line),
            ("na", SortKey::Name),
            ("nf", SortKey::NameFileLine),
            ("pc", SortKey::PrimitiveCalls),
            ("std", SortKey::StdName),
            ("ti", SortKey::Time),
            ("tot", SortKey::Time),
        ] {
            assert_eq!(SortKey::parse(word).expect(word), key, "{word}");
        }
        for bad in ["c", "cum", "t", "n", "bogus", ""] {
            let error = SortKey::parse(bad).unwrap_err();
            assert!(
                error.to_string().contains("cumulative, filename"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn python_reprs_match() {
        assert_eq!(python_str_repr("fit"), "'fit'");
        assert_eq!(python_str_repr("it's"), "\"it's\"");
        assert_eq!(python_float_repr(0.5), "0.5");
        assert_eq!(python_float_repr(1e-5), "1e-05");
    }

    #[test]
    fn std_string_special_cases_builtins() {
        let builtin = FunctionKey {
            file: "~".into(),
            line: 0,
            name: "<built-in method builtins.exec>".into(),
        };
        assert_eq!(builtin.std_string(), "{built-in method builtins.exec}");
        let plain = FunctionKey {
            file: "/a/b.rs".into(),
            line: 3,
            name: "f".into(),
        };
        assert_eq!(plain.std_string(), "/a/b.rs:3(f)");
        assert_eq!(plain.stripped().std_string(), "b.rs:3(f)");
    }
}
