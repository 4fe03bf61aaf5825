//! The data of a profile, as pstats holds it: a dictionary from functions to
//! their statistics, in the order the functions were first seen (a Python
//! dict keeps insertion order, and pstats' "random listing order" and the
//! ties of every sort show it), plus the header's totals and, for a recorded
//! profile, the exact call paths. Nothing here knows about printing: the
//! order of a listing, its restrictions and columns are a [`crate::View`],
//! and each output format is a module of its own reading this model.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsString;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::Profile;
use crate::record::{self, NO_CALLER, Recorded};

/// A function as pstats names it: `(filename, line, function name)`. The
/// order is Python's tuple order, which pstats uses to list callers.
///
/// The names are shared (`Arc<str>`): a function appears once as an entry
/// and again under every function it calls, and a stats file names it once
/// and refers back to it, so copies would make memory grow with calls times
/// name length instead of with the file (issue 35 item 5).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionKey {
    /// Source file (a path; `~` for CPython's built-ins).
    pub file: Arc<str>,
    /// First line of the function.
    pub line: u32,
    /// Function name.
    pub name: Arc<str>,
}

impl FunctionKey {
    /// pstats' `func_std_string`: `file:line(name)`, or `{name}` for
    /// CPython's built-ins, keyed `('~', 0, '<name>')`.
    #[must_use]
    pub fn std_string(&self) -> String {
        if &*self.file == "~" && self.line == 0 {
            match self
                .name
                .strip_prefix('<')
                .and_then(|n| n.strip_suffix('>'))
            {
                Some(inner) => format!("{{{inner}}}"),
                None => self.name.to_string(),
            }
        } else {
            format!("{}:{}({})", self.file, self.line, self.name)
        }
    }

    /// pstats' `func_strip_path`: the file's `os.path.basename`, which
    /// splits at `/` only, except on Windows.
    fn stripped(&self, names: &mut Interner) -> Self {
        let separators: &[char] = if cfg!(windows) { &['/', '\\'] } else { &['/'] };
        let base = self.file.rsplit(separators).next().unwrap_or(&self.file);
        Self {
            file: names.intern(base),
            line: self.line,
            name: Arc::clone(&self.name),
        }
    }
}

/// One shared copy of each distinct name, so that a name repeated under
/// many functions costs one pointer per repetition.
#[derive(Default)]
pub(crate) struct Interner {
    names: HashSet<Arc<str>>,
    bytes: usize,
}

impl Interner {
    /// The shared copy of `text`, made on first sight.
    pub(crate) fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(known) = self.names.get(text) {
            return Arc::clone(known);
        }
        let shared: Arc<str> = Arc::from(text);
        self.names.insert(Arc::clone(&shared));
        self.bytes += text.len();
        shared
    }

    /// The bytes of every distinct name so far.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
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
    /// Only the count is known: the pure-Python `profile` module stores a
    /// bare count per caller, and pstats prints such a caller as
    /// `name(count) cumtime` (the times here are zero).
    pub count_only: bool,
}

impl CallerStats {
    fn add(&mut self, other: &Self) {
        self.calls += other.calls;
        self.primitive_calls += other.primitive_calls;
        self.tottime += other.tottime;
        self.cumtime += other.cumtime;
        // CPython stops with a TypeError on adding a count to a tuple; a
        // sum with any timed edge is timed.
        self.count_only &= other.count_only;
    }
}

/// pstats' `add_callers`: callers already known add up and keep their
/// place, new ones come after them as they are.
fn add_callers(target: &mut Callers, source: &Callers) {
    for (caller, edge) in source {
        match target.entry(caller.clone()) {
            indexmap::map::Entry::Occupied(mut known) => known.get_mut().add(edge),
            indexmap::map::Entry::Vacant(new) => {
                new.insert(*edge);
            }
        }
    }
}

/// Callers of a function, in the order they were first seen.
pub type Callers = IndexMap<FunctionKey, CallerStats>;

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
    pub callers: Callers,
    /// Allocations made in the function itself (its callees excluded).
    pub allocations: u64,
    /// Bytes those allocations requested.
    pub allocated_bytes: u64,
}

impl FunctionStats {
    /// pstats' `add_func_stats`: counts and times add; callers already
    /// known keep their place, new ones come after them.
    fn add(&mut self, other: &Self) {
        self.primitive_calls += other.primitive_calls;
        self.calls += other.calls;
        self.tottime += other.tottime;
        self.cumtime += other.cumtime;
        self.allocations += other.allocations;
        self.allocated_bytes += other.allocated_bytes;
        add_callers(&mut self.callers, &other.callers);
    }
}

/// The header's totals, accumulated as pstats accumulates them (file by
/// file, in file order), so that floating-point sums round the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Totals {
    calls: u64,
    primitive_calls: u64,
    tottime: f64,
}

/// The statistics of a profile: pstats' data, with its operations on data
/// (add another profile, strip directories). Printing goes through a
/// [`crate::View`] (order, restrictions, columns); [`Stats::sort_stats`] is
/// the short way for one table.
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
/// let stats = Stats::new(&profile).strip_dirs();
/// let mut table = Vec::new();
/// stats.sort_stats(&["cumtime"])?.write_stats(&mut table, 10)?;
/// let table = String::from_utf8(table)?;
/// assert!(table.contains("3 function calls in"));
/// assert!(table.contains("(work)"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    stats: IndexMap<FunctionKey, FunctionStats>,
    /// Header lines naming the files the data came from (file names are
    /// not always UTF-8).
    files: Vec<OsString>,
    totals: Totals,
    /// Self time per exact call path (`a;b;c`), in nanoseconds, for
    /// flamegraphs; empty for statistics loaded from a file.
    paths: BTreeMap<String, u64>,
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
        let mut names = Interner::default();
        let mut key_of = |index: usize| {
            let site = record::site(u32::try_from(index).expect("site indices fit in u32"));
            FunctionKey {
                file: names.intern(site.file()),
                line: site.line(),
                name: names.intern(site.name()),
            }
        };
        let mut stats = IndexMap::new();
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
                        count_only: false,
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
        let mut stats = Self::from_entries(stats);
        stats.paths = folded_paths(recorded);
        stats
    }

    /// Builds statistics from entries, in their order, as a loaded file or
    /// a test provides them. A key given twice keeps its first place and
    /// its last statistics, as in a Python dict.
    #[must_use]
    pub fn from_entries(entries: impl IntoIterator<Item = (FunctionKey, FunctionStats)>) -> Self {
        let stats: IndexMap<FunctionKey, FunctionStats> = entries.into_iter().collect();
        // pstats' get_top_level_stats: sums in dictionary order.
        let mut totals = Totals::default();
        for s in stats.values() {
            totals.calls += s.calls;
            totals.primitive_calls += s.primitive_calls;
            totals.tottime += s.tottime;
        }
        Self {
            stats,
            totals,
            ..Self::default()
        }
    }

    /// Every function's statistics, in the order pstats lists them when
    /// no sort was asked for.
    #[must_use]
    pub fn entries(&self) -> &IndexMap<FunctionKey, FunctionStats> {
        &self.stats
    }

    /// The header lines naming the files the statistics came from.
    #[must_use]
    pub fn files(&self) -> &[OsString] {
        &self.files
    }

    /// Names the file the statistics were read from (pstats' header line).
    pub(crate) fn set_source(&mut self, file: OsString) {
        self.files = vec![file];
    }

    /// The statistics of one function, found by name.
    #[must_use]
    pub fn function(&self, name: &str) -> Option<(&FunctionKey, &FunctionStats)> {
        self.stats.iter().find(|(key, _)| &*key.name == name)
    }

    /// Total calls, as the header prints them.
    #[must_use]
    pub fn total_calls(&self) -> u64 {
        self.totals.calls
    }

    /// Primitive (non-recursive) calls.
    #[must_use]
    pub fn primitive_calls(&self) -> u64 {
        self.totals.primitive_calls
    }

    /// The header's "in S seconds": the sum of every function's tottime.
    #[must_use]
    pub fn total_tt(&self) -> f64 {
        self.totals.tottime
    }

    /// The exact call paths (`root;child;leaf`) and their self time in
    /// nanoseconds; empty for statistics loaded from a file.
    #[must_use]
    pub fn folded_paths(&self) -> &BTreeMap<String, u64> {
        &self.paths
    }

    /// Adds another set of statistics into this one, as pstats' `add`:
    /// functions already here keep their place, new ones follow in the
    /// other's order.
    #[must_use]
    pub fn add_stats(mut self, other: &Stats) -> Self {
        self.files.extend(other.files.iter().cloned());
        self.totals.calls += other.totals.calls;
        self.totals.primitive_calls += other.totals.primitive_calls;
        self.totals.tottime += other.totals.tottime;
        for (key, stats) in &other.stats {
            self.stats.entry(key.clone()).or_default().add(stats);
        }
        for (path, nanos) in &other.paths {
            *self.paths.entry(path.clone()).or_insert(0) += nanos;
        }
        self
    }

    /// Removes directories from file names, merging functions that then
    /// share a name, as pstats' `strip_dirs`. As there, two callers of one
    /// function that come to share a name are not added: the last one seen
    /// replaces the first.
    #[must_use]
    pub fn strip_dirs(mut self) -> Self {
        let old = std::mem::take(&mut self.stats);
        let mut names = Interner::default();
        for (key, mut stats) in old {
            stats.callers = stats
                .callers
                .into_iter()
                .map(|(caller, s)| (caller.stripped(&mut names), s))
                .collect();
            match self.stats.entry(key.stripped(&mut names)) {
                indexmap::map::Entry::Occupied(mut entry) => entry.get_mut().add(&stats),
                indexmap::map::Entry::Vacant(entry) => {
                    entry.insert(stats);
                }
            }
        }
        self
    }

    /// pstats' `calc_callees`: the callers maps turned inside out; each
    /// function's callees in the order they were found.
    #[must_use]
    pub fn callees(&self) -> IndexMap<FunctionKey, Callers> {
        let mut callees: IndexMap<FunctionKey, Callers> = IndexMap::new();
        for (callee, stats) in &self.stats {
            callees.entry(callee.clone()).or_default();
            for (caller, edge) in &stats.callers {
                callees
                    .entry(caller.clone())
                    .or_default()
                    .insert(callee.clone(), *edge);
            }
        }
        callees
    }
}

/// Self time per call path, `root;child;leaf` → nanoseconds, merged over
/// threads. Each frame reads `name (file:line)` with the file's directories
/// dropped.
fn folded_paths(recorded: &Recorded) -> BTreeMap<String, u64> {
    let mut folded = BTreeMap::new();
    for tree in &recorded.paths {
        let labels: Vec<String> = tree
            .iter()
            .map(|node| {
                let site = record::site(node.site);
                let file = site
                    .file()
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(site.file());
                // `;` separates frames and a newline ends a line in the
                // folded format; a file path may hold either.
                let label = format!("{} ({file}:{})", site.name(), site.line());
                proflab_output::printable(&label).replace(';', ":")
            })
            .collect();
        for (index, node) in tree.iter().enumerate() {
            let nanos = (record::seconds(node.inline_ticks) * 1e9).round() as u64;
            if nanos == 0 {
                continue;
            }
            let mut frames = vec![labels[index].as_str()];
            let mut parent = node.parent;
            while parent != NO_CALLER {
                frames.push(&labels[parent as usize]);
                parent = tree[parent as usize].parent;
            }
            frames.reverse();
            *folded.entry(frames.join(";")).or_insert(0) += nanos;
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(file: &str, line: u32, name: &str) -> FunctionKey {
        FunctionKey {
            file: file.into(),
            line,
            name: name.into(),
        }
    }

    fn calls(n: u64) -> FunctionStats {
        FunctionStats {
            primitive_calls: n,
            calls: n,
            ..FunctionStats::default()
        }
    }

    #[test]
    fn std_string_special_cases_builtins() {
        let builtin = key("~", 0, "<built-in method builtins.exec>");
        assert_eq!(builtin.std_string(), "{built-in method builtins.exec}");
        let plain = key("/a/b.rs", 3, "f");
        assert_eq!(plain.std_string(), "/a/b.rs:3(f)");
        let stripped = plain.stripped(&mut Interner::default());
        assert_eq!(stripped.std_string(), "b.rs:3(f)");
    }

    #[test]
    fn entries_keep_their_order_through_add_and_strip() {
        let a = Stats::from_entries([
            (key("/z/m.py", 1, "f"), calls(1)),
            (key("/a/m.py", 1, "f"), calls(2)),
        ]);
        let b = Stats::from_entries([
            (key("/b/n.py", 2, "g"), calls(3)),
            (key("/z/m.py", 1, "f"), calls(4)),
        ]);
        let merged = a.add_stats(&b);
        let order: Vec<String> = merged
            .entries()
            .keys()
            .map(FunctionKey::std_string)
            .collect();
        assert_eq!(order, ["/z/m.py:1(f)", "/a/m.py:1(f)", "/b/n.py:2(g)"]);
        assert_eq!(merged.entries()[0].calls, 5);
        let stripped = merged.strip_dirs();
        let order: Vec<String> = stripped
            .entries()
            .keys()
            .map(FunctionKey::std_string)
            .collect();
        assert_eq!(order, ["m.py:1(f)", "n.py:2(g)"]);
        assert_eq!(stripped.entries()[0].calls, 7);
        assert_eq!(stripped.total_calls(), 10);
    }

    #[test]
    fn stripping_replaces_callers_that_come_to_share_a_name() {
        let edge = |n| CallerStats {
            calls: n,
            primitive_calls: n,
            ..CallerStats::default()
        };
        let mut f = calls(3);
        f.callers.insert(key("/x/c.py", 1, "c"), edge(1));
        f.callers.insert(key("/y/c.py", 1, "c"), edge(2));
        let stats = Stats::from_entries([(key("/m.py", 1, "f"), f)]).strip_dirs();
        // As pstats: `newcallers[func_strip_path(func2)] = caller`.
        assert_eq!(stats.entries()[0].callers[&key("c.py", 1, "c")].calls, 2);
    }
}
