//! How a listing shows the model: pstats' sort keys, the order they give
//! (stable, from the file's order, as `list.sort` in pstats), `reverse`,
//! the restrictions of a printed list, and the optional memory columns.
//! A [`View`] is made for one [`Stats`] and read by the printers; changing
//! the view never touches (or copies) the statistics.

use std::cmp::Ordering;

use crate::{FunctionKey, FunctionStats, Stats, StatsError};

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
            SortKey::Cumulative => python_cmp(sb.cumtime, sa.cumtime),
            SortKey::Filename => ka.file.cmp(&kb.file),
            SortKey::Line => ka.line.cmp(&kb.line),
            SortKey::Name => ka.name.cmp(&kb.name),
            SortKey::NameFileLine => {
                (&ka.name, &ka.file, ka.line).cmp(&(&kb.name, &kb.file, kb.line))
            }
            SortKey::PrimitiveCalls => sb.primitive_calls.cmp(&sa.primitive_calls),
            SortKey::StdName => ka.std_string().cmp(&kb.std_string()),
            SortKey::Time => python_cmp(sb.tottime, sa.tottime),
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
    /// Keep lines whose `file:line(function)` matches this regular
    /// expression, in Python's `re` syntax.
    Pattern(String),
}

impl Restriction {
    /// Reads a restriction as pstats' browser does: an integer, a float, or
    /// else a regular expression.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        if let Some(count) = python_int(text) {
            // A negative count restricts nothing in pstats (`0 <= sel`).
            Restriction::Count(usize::try_from(count).unwrap_or(usize::MAX))
        } else if let Some(fraction) = python_float(text) {
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

/// What a listing shows of a [`Stats`]: its order (the file's, or sorted by
/// pstats' keys and possibly reversed) and whether the allocation columns
/// are printed. Restrictions are given to each printing call.
///
/// A view holds positions in the statistics it was sorted for; sort again
/// after those statistics change (pstats forgets its order then too).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    order: Option<Order>,
    memory: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Order {
    /// Positions in `Stats::entries`, in listing order.
    positions: Vec<usize>,
    /// "Ordered by: ..." text.
    description: String,
}

impl View {
    /// The file's order ("Random listing order was used"), no memory columns.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A view sorted by sort words or unique prefixes, as pstats'
    /// `sort_stats`.
    ///
    /// # Errors
    /// [`StatsError::UnknownSortKey`] for an unknown or ambiguous key.
    pub fn sorted(stats: &Stats, words: &[&str]) -> Result<Self, StatsError> {
        let keys = words
            .iter()
            .map(|w| SortKey::parse(w))
            .collect::<Result<Vec<_>, _>>()?;
        let mut view = Self::new();
        view.sort(stats, &keys);
        Ok(view)
    }

    /// Sorts by parsed keys, as pstats' `sort_stats`: always from the
    /// statistics' own order (not from an earlier sort), stably, so ties
    /// keep that order; later keys break ties of earlier ones. No keys
    /// goes back to the file's order.
    pub fn sort(&mut self, stats: &Stats, keys: &[SortKey]) {
        if keys.is_empty() {
            self.order = None;
            return;
        }
        let entries = stats.entries();
        let mut positions: Vec<usize> = (0..entries.len()).collect();
        positions.sort_by(|&a, &b| {
            let (a, b) = (
                entries.get_index(a).expect("a position"),
                entries.get_index(b).expect("a position"),
            );
            keys.iter()
                .map(|k| k.compare(a, b))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        });
        self.order = Some(Order {
            positions,
            description: keys
                .iter()
                .map(|k| k.description())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }

    /// Reverses the list as it stands, as pstats' `reverse_order` (nothing
    /// to reverse before a sort).
    pub fn reverse(&mut self) {
        if let Some(order) = &mut self.order {
            order.positions.reverse();
        }
    }

    /// Forgets the order, as pstats does after `add` and `strip`.
    pub fn unsort(&mut self) {
        self.order = None;
    }

    /// Shows or hides the allocation columns (count and bytes per
    /// function) that cProfile lacks, before the function name.
    pub fn set_memory(&mut self, show: bool) {
        self.memory = show;
    }

    /// Whether the allocation columns are shown.
    #[must_use]
    pub fn memory(&self) -> bool {
        self.memory
    }

    /// pstats' `get_print_list`: the restricted list, the width of the
    /// name column, and the "Ordered by" and "List reduced" lines.
    pub(crate) fn print_list<'s>(
        &self,
        stats: &'s Stats,
        restrictions: &Restrictions,
    ) -> PrintList<'s> {
        let entries = stats.entries();
        // `if self.fcn_list:` in pstats: an empty order counts as none.
        let (mut list, mut message): (Vec<&FunctionKey>, String) = match &self.order {
            Some(order) if !order.positions.is_empty() => (
                order
                    .positions
                    .iter()
                    .filter_map(|&i| entries.get_index(i).map(|(k, _)| k))
                    .collect(),
                format!("   Ordered by: {}\n", order.description),
            ),
            _ => (
                entries.keys().collect(),
                "   Random listing order was used\n".to_owned(),
            ),
        };
        for restriction in &restrictions.0 {
            let before = list.len();
            match restriction {
                Restriction::Pattern(pattern) => match crate::python_re::Pattern::new(pattern) {
                    Ok(regex) => list.retain(|key| regex.search(&key.std_string())),
                    Err(_) => {
                        message.push_str(&format!(
                            "   <Invalid regular expression {}>\n",
                            python_str_repr(pattern)
                        ));
                        continue;
                    }
                },
                Restriction::Fraction(fraction) if (0.0..1.0).contains(fraction) => {
                    // int(count * sel + .5)
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
        // Python's len() counts characters, not bytes.
        let name_width = |key: &FunctionKey| key.std_string().chars().count();
        let width = if list.len() < entries.len() {
            list.iter().map(|k| name_width(k)).max().unwrap_or(0)
        } else {
            entries.keys().map(name_width).max().unwrap_or(0)
        };
        PrintList {
            width: width + 2,
            keys: list,
            message,
        }
    }
}

/// What pstats' `get_print_list` returns, with the message it prints.
pub(crate) struct PrintList<'s> {
    /// Width of the function-name column.
    pub(crate) width: usize,
    /// The functions to print, in order.
    pub(crate) keys: Vec<&'s FunctionKey>,
    /// "Ordered by" and "List reduced" lines.
    pub(crate) message: String,
}

/// Python's comparison of two floats in `TupleComp`: neither smaller nor
/// larger (equal, or a NaN) is a tie.
fn python_cmp(a: f64, b: f64) -> Ordering {
    if a < b {
        Ordering::Less
    } else if a > b {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Python's `int(text)` for the browser's arguments: an optional sign, then
/// decimal digits (any script's, as `int('１２')` is 12) with single
/// underscores between them.
fn python_int(text: &str) -> Option<i128> {
    let ascii = ascii_digits(text)?;
    let digits = ascii.strip_prefix(['+', '-']).unwrap_or(&ascii);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return None;
    }
    let digits = without_underscores(digits)?;
    let value: i128 = digits.parse().unwrap_or(i128::MAX);
    Some(if ascii.starts_with('-') {
        -value
    } else {
        value
    })
}

/// Python's `float(text)`: Rust's grammar for the ASCII text (the same
/// decimal, exponent, `inf` and `nan` forms) once digits of any script are
/// made ASCII and underscores between digits removed (`0.5_0` is 0.5).
fn python_float(text: &str) -> Option<f64> {
    without_underscores(&ascii_digits(text)?)?.parse().ok()
}

/// The text with every Unicode decimal digit (`\p{Nd}`) replaced by its
/// ASCII digit, as CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`
/// does before parsing a number; `None` for other non-ASCII characters,
/// which no number has.
fn ascii_digits(text: &str) -> Option<String> {
    static DECIMAL: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^\p{Nd}$").expect("a valid class"));
    let is_decimal = |c: char| DECIMAL.is_match(c.encode_utf8(&mut [0; 4]));
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                return Some(c);
            }
            if !is_decimal(c) {
                return None;
            }
            // Unicode's decimal digits come in runs of ten, 0 to 9 (a
            // stability guarantee), some runs back to back: a digit's value
            // is its place in the run of decimals before it, modulo ten.
            let run = (1..=u32::from(c))
                .map(|back| char::from_u32(u32::from(c) - back))
                .take_while(|before| before.is_some_and(|b| !b.is_ascii() && is_decimal(b)))
                .count();
            char::from_digit(u32::try_from(run % 10).ok()?, 10)
        })
        .collect()
}

/// The text without its underscores, when each sits between two ASCII
/// digits, as Python's numeric literals and `int()`/`float()` allow.
fn without_underscores(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let before = i.checked_sub(1).map(|j| bytes[j]);
            let after = bytes.get(i + 1).copied();
            if !(before.is_some_and(|b| b.is_ascii_digit())
                && after.is_some_and(|b| b.is_ascii_digit()))
            {
                return None;
            }
        }
    }
    Some(text.replace('_', ""))
}

/// Python's `str.isspace`, which `str.split()` and `str.strip()` split and
/// trim at: Rust's whitespace plus the separators `\x1c` to `\x1f`.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.split()` with no argument.
pub(crate) fn python_split(text: &str) -> impl Iterator<Item = &str> {
    text.split(is_python_space).filter(|word| !word.is_empty())
}

/// Python's `repr` of a float, for the "List reduced" line.
fn python_float_repr(x: f64) -> String {
    let text = format!("{x:?}");
    text.replace("e-", "e-0").replace("e-00", "e-0")
}

/// Python's `repr` of a string: single quotes unless the text holds one and
/// no double quote; what `str.isprintable` refuses (controls, format
/// characters, unassigned code points, separators but the space) escaped.
/// The classes are the `regex` crate's Unicode version, which may be newer
/// than the Python's.
pub(crate) fn python_str_repr(text: &str) -> String {
    static NOT_PRINTABLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$").expect("valid classes")
    });
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
            c if c != ' ' && NOT_PRINTABLE.is_match(c.encode_utf8(&mut [0; 4])) => {
                let code = u32::from(c);
                out.push_str(&match code {
                    0..0x100 => format!("\\x{code:02x}"),
                    0x100..0x10000 => format!("\\u{code:04x}"),
                    _ => format!("\\U{code:08x}"),
                });
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
    fn python_reprs_and_ints_match() {
        assert_eq!(python_str_repr("fit"), "'fit'");
        assert_eq!(python_str_repr("it's"), "\"it's\"");
        assert_eq!(
            python_str_repr("a\u{85}\u{a0}\u{200b}\u{3000}\x7f é"),
            r"'a\x85\xa0\u200b\u3000\x7f é'"
        );
        assert_eq!(python_float_repr(0.5), "0.5");
        assert_eq!(python_float_repr(1e-5), "1e-05");
        assert_eq!(python_int("1_000"), Some(1000));
        assert_eq!(python_int("-3"), Some(-3));
        assert_eq!(python_int("+7"), Some(7));
        assert_eq!(python_int("1__0"), None);
        assert_eq!(python_int("0.5"), None);
        assert_eq!(python_int("１２"), Some(12));
        assert_eq!(python_int("𝟗_𝟘"), Some(90));
        assert_eq!(python_int("²"), None);
        assert_eq!(python_float("0.5_0"), Some(0.5));
        assert_eq!(python_float("０.５"), Some(0.5));
        assert_eq!(python_float("1e1_0"), Some(1e10));
        assert_eq!(python_float("1_.5"), None);
        assert_eq!(python_float("_1.5"), None);
        assert_eq!(
            python_split("a\x1cb \u{3000}c").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(Restriction::parse("-3"), Restriction::Count(usize::MAX));
    }
}
