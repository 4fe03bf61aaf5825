//! Python's regular expressions (`re`, as CPython 3.11 parses them) for
//! pstats' restrictions, run by `fancy-regex`. A parser after CPython's
//! `re._parser` accepts exactly the patterns Python accepts (and refuses the
//! rest: `\pL`, `(?<n>…)`, `\z`, `(?U)`, a global flag after the start,
//! a variable-width look-behind); each part is then written out in a form
//! whose meaning does not depend on the engine's own dialect: literals as
//! `\x{…}`, `$` and `\b` spelled out with Python's meanings, `\w` and `\s`
//! as Python's classes, flags applied here rather than handed on. What still
//! differs is listed in docs/PROFILING.md.

use std::fmt::Write as _;

/// A pattern Python's `re.compile` accepts, ready to `search`.
pub(crate) struct Pattern(fancy_regex::Regex);

/// Python's `re.error`, without its message (pstats prints none).
#[derive(Debug)]
pub(crate) struct Invalid;

impl Pattern {
    /// `re.compile(pattern)`.
    pub(crate) fn new(pattern: &str) -> Result<Self, Invalid> {
        let translated = translate(pattern)?;
        fancy_regex::Regex::new(&translated)
            .map(Self)
            .map_err(|_| Invalid)
    }

    /// `bool(re.search(...))`. A search that runs past fancy-regex's
    /// backtracking limit (where Python would go on, for as long as it
    /// takes) counts as no match.
    pub(crate) fn search(&self, text: &str) -> bool {
        self.0.is_match(text).unwrap_or(false)
    }
}

/// The `fancy-regex` spelling of a Python pattern, or `Invalid` where
/// `re.compile` raises `re.error`.
pub(crate) fn translate(pattern: &str) -> Result<String, Invalid> {
    let mut parser = Parser {
        chars: pattern.chars().collect(),
        at: 0,
        flags: Flags::default(),
        groups: vec![None],
        names: Vec::new(),
        lookbehind_groups: None,
        conditional_refs: Vec::new(),
    };
    let alternatives = parser.alternatives(false, 0)?;
    if parser.at != parser.chars.len() {
        return Err(Invalid); // unbalanced parenthesis
    }
    if parser
        .conditional_refs
        .iter()
        .any(|&g| g >= parser.groups.len())
    {
        return Err(Invalid);
    }
    if parser.flags.ascii && parser.flags.unicode {
        return Err(Invalid);
    }
    let mut out = String::new();
    emit_alternatives(&alternatives, parser.flags, &mut out);
    Ok(out)
}

/// The inline flags that change meaning (`x` only changes parsing; `u` is
/// the default for text).
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    ignore_case: bool,
    multiline: bool,
    dot_all: bool,
    verbose: bool,
    ascii: bool,
    unicode: bool,
}

impl Flags {
    fn set(&mut self, flag: char, on: bool) {
        match flag {
            'i' => self.ignore_case = on,
            'm' => self.multiline = on,
            's' => self.dot_all = on,
            'x' => self.verbose = on,
            'a' => self.ascii = on,
            'u' => self.unicode = on,
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Category {
    Digit,
    Space,
    Word,
}

#[derive(Debug, Clone, Copy)]
enum Anchor {
    Start,
    End,
    StartOfText,
    EndOfText,
    Boundary,
    NotBoundary,
}

#[derive(Debug, Clone)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Category(Category, bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Greed {
    Greedy,
    Lazy,
    Possessive,
}

/// Python's largest repeat count (`MAXREPEAT`) means "no bound".
const MAX_REPEAT: u64 = u32::MAX as u64;
/// `MAXWIDTH` of `re._parser`, the width of an unbounded pattern.
const MAX_WIDTH: u128 = 1 << 64;

#[derive(Debug, Clone)]
enum Node {
    Char(char),
    Any,
    Anchor(Anchor),
    Category(Category, bool),
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    /// A group, capturing (`index`) or not, with the flags it turns on
    /// and off for its body.
    Group {
        index: Option<usize>,
        on: Flags,
        off: Flags,
        body: Vec<Vec<Node>>,
    },
    Atomic(Vec<Vec<Node>>),
    Look {
        behind: bool,
        negated: bool,
        body: Vec<Vec<Node>>,
    },
    Backref(usize),
    Conditional {
        group: usize,
        yes: Vec<Node>,
        no: Option<Vec<Node>>,
    },
    Repeat {
        min: u64,
        max: u64,
        greed: Greed,
        item: Box<Node>,
    },
}

struct Parser {
    chars: Vec<char>,
    at: usize,
    /// Global flags (the pattern's start); scoped ones travel down.
    flags: Flags,
    /// Each group's width once closed (`None` while open); group 0 is the
    /// whole pattern.
    groups: Vec<Option<(u128, u128)>>,
    names: Vec<(String, usize)>,
    /// `state.lookbehindgroups`: groups that existed when the outermost
    /// look-behind began.
    lookbehind_groups: Option<usize>,
    conditional_refs: Vec<usize>,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Up to `n` characters satisfying `keep`.
    fn take_while(&mut self, n: usize, keep: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while out.chars().count() < n && self.peek().is_some_and(&keep) {
            out.push(self.next().unwrap_or_default());
        }
        out
    }

    /// Text up to `end`, which is consumed; an empty or unterminated name
    /// is an error.
    fn until(&mut self, end: char) -> Result<String, Invalid> {
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Err(Invalid),
                Some(c) if c == end => break,
                Some(c) => out.push(c),
            }
        }
        if out.is_empty() {
            return Err(Invalid);
        }
        Ok(out)
    }

    /// `_parse_sub`: branches separated by `|`.
    fn alternatives(&mut self, verbose: bool, depth: usize) -> Result<Vec<Vec<Node>>, Invalid> {
        let mut branches = Vec::new();
        loop {
            let first = depth == 0 && branches.is_empty();
            branches.push(self.sequence(verbose, depth, first)?);
            if !self.eat('|') {
                return Ok(branches);
            }
        }
    }

    /// `_parse`: one branch.
    fn sequence(&mut self, verbose: bool, depth: usize, first: bool) -> Result<Vec<Node>, Invalid> {
        let mut verbose = verbose;
        let mut items: Vec<Node> = Vec::new();
        while let Some(this) = self.peek() {
            if this == '|' || this == ')' {
                break;
            }
            self.at += 1;
            if verbose {
                if matches!(this, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c') {
                    continue;
                }
                if this == '#' {
                    while self.next().is_some_and(|c| c != '\n') {}
                    continue;
                }
            }
            match this {
                '\\' => {
                    let node = self.escape()?;
                    items.push(node);
                }
                '[' => items.push(self.class()?),
                '*' | '+' | '?' | '{' => {
                    let here = self.at;
                    let (min, max) = match this {
                        '?' => (0, 1),
                        '*' => (0, MAX_REPEAT),
                        '+' => (1, MAX_REPEAT),
                        _ => match self.braces() {
                            Some(bounds) => bounds?,
                            None => {
                                self.at = here;
                                items.push(Node::Char('{'));
                                continue;
                            }
                        },
                    };
                    let item = match items.pop() {
                        None | Some(Node::Anchor(_)) => return Err(Invalid),
                        Some(Node::Repeat { .. }) => return Err(Invalid),
                        Some(item) => item,
                    };
                    let greed = if self.eat('?') {
                        Greed::Lazy
                    } else if self.eat('+') {
                        Greed::Possessive
                    } else {
                        Greed::Greedy
                    };
                    items.push(Node::Repeat {
                        min,
                        max,
                        greed,
                        item: Box::new(item),
                    });
                }
                '.' => items.push(Node::Any),
                '^' => items.push(Node::Anchor(Anchor::Start)),
                '$' => items.push(Node::Anchor(Anchor::End)),
                '(' => match self.group(verbose, depth)? {
                    GroupParse::Node(node) => items.push(node),
                    GroupParse::Nothing => {}
                    GroupParse::GlobalFlags => {
                        if !first || !items.is_empty() {
                            return Err(Invalid);
                        }
                        verbose = self.flags.verbose;
                    }
                },
                c => items.push(Node::Char(c)),
            }
        }
        Ok(items)
    }

    /// After `{`: `{m}`, `{m,}`, `{,n}`, `{m,n}`, `{,}`; `None` when the
    /// brace is a literal (`{`, `{}`, `{x`).
    fn braces(&mut self) -> Option<Result<(u64, u64), Invalid>> {
        if self.peek() == Some('}') {
            return None;
        }
        let lo = self.take_while(usize::MAX, |c| c.is_ascii_digit());
        let hi = if self.eat(',') {
            self.take_while(usize::MAX, |c| c.is_ascii_digit())
        } else {
            lo.clone()
        };
        if !self.eat('}') {
            return None;
        }
        let number = |text: &str, default| {
            if text.is_empty() {
                Ok(default)
            } else {
                // CPython raises OverflowError (not re.error) past this.
                text.parse::<u64>()
                    .ok()
                    .filter(|&n| n < MAX_REPEAT)
                    .ok_or(Invalid)
            }
        };
        Some((|| {
            let min = number(&lo, 0)?;
            let max = number(&hi, MAX_REPEAT)?;
            if max < min {
                return Err(Invalid);
            }
            Ok((min, max))
        })())
    }

    fn class(&mut self) -> Result<Node, Invalid> {
        let negated = self.eat('^');
        let mut items: Vec<ClassItem> = Vec::new();
        loop {
            let this = self.next().ok_or(Invalid)?;
            if this == ']' && !items.is_empty() {
                break;
            }
            let first = if this == '\\' {
                self.class_escape()?
            } else {
                ClassItem::Char(this)
            };
            if self.eat('-') {
                let that = self.next().ok_or(Invalid)?;
                if that == ']' {
                    items.push(first);
                    items.push(ClassItem::Char('-'));
                    break;
                }
                let second = if that == '\\' {
                    self.class_escape()?
                } else {
                    ClassItem::Char(that)
                };
                match (first, second) {
                    (ClassItem::Char(lo), ClassItem::Char(hi)) if lo <= hi => {
                        items.push(ClassItem::Range(lo, hi));
                    }
                    _ => return Err(Invalid),
                }
            } else {
                items.push(first);
            }
        }
        Ok(Node::Class { negated, items })
    }

    /// `_class_escape`: after `\` inside a class.
    fn class_escape(&mut self) -> Result<ClassItem, Invalid> {
        let c = self.next().ok_or(Invalid)?;
        if let Some(literal) = simple_escape(c) {
            return Ok(ClassItem::Char(literal));
        }
        if c == 'b' {
            return Ok(ClassItem::Char('\x08'));
        }
        if let Some((category, negated)) = category(c) {
            return Ok(ClassItem::Category(category, negated));
        }
        if let Some(code) = self.hex_escape(c)? {
            return Ok(ClassItem::Char(code));
        }
        if c.is_digit(8) {
            let digits = format!("{c}{}", self.take_while(2, |d| d.is_digit(8)));
            return octal(&digits).map(ClassItem::Char);
        }
        if c.is_ascii_alphanumeric() {
            return Err(Invalid);
        }
        Ok(ClassItem::Char(c))
    }

    /// `\x..`, `\u....`, `\U........`; `\N{…}` needs Unicode's names,
    /// which we do not carry: refused.
    fn hex_escape(&mut self, c: char) -> Result<Option<char>, Invalid> {
        let digits = match c {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            'N' => return Err(Invalid),
            _ => return Ok(None),
        };
        let hex = self.take_while(digits, |d| d.is_ascii_hexdigit());
        if hex.len() != digits {
            return Err(Invalid);
        }
        let code = u32::from_str_radix(&hex, 16).map_err(|_| Invalid)?;
        // A lone surrogate is valid in Python's str but not in Rust's: such
        // a pattern can match nothing here, and is refused.
        char::from_u32(code).map(Some).ok_or(Invalid)
    }

    /// `_escape`: after `\` outside a class.
    fn escape(&mut self) -> Result<Node, Invalid> {
        let c = self.next().ok_or(Invalid)?;
        if let Some((category, negated)) = category(c) {
            return Ok(Node::Category(category, negated));
        }
        let anchor = match c {
            'A' => Some(Anchor::StartOfText),
            'Z' => Some(Anchor::EndOfText),
            'b' => Some(Anchor::Boundary),
            'B' => Some(Anchor::NotBoundary),
            _ => None,
        };
        if let Some(anchor) = anchor {
            return Ok(Node::Anchor(anchor));
        }
        if let Some(literal) = simple_escape(c) {
            return Ok(Node::Char(literal));
        }
        if let Some(code) = self.hex_escape(c)? {
            return Ok(Node::Char(code));
        }
        if c == '0' {
            let digits = format!("0{}", self.take_while(2, |d| d.is_digit(8)));
            return octal(&digits).map(Node::Char);
        }
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            if let Some(d) = self.peek().filter(char::is_ascii_digit) {
                self.at += 1;
                digits.push(d);
                if c.is_digit(8) && d.is_digit(8) && self.peek().is_some_and(|e| e.is_digit(8)) {
                    digits.push(self.next().unwrap_or_default());
                    return octal(&digits).map(Node::Char);
                }
            }
            let group: usize = digits.parse().map_err(|_| Invalid)?;
            self.check_reference(group)?;
            return Ok(Node::Backref(group));
        }
        if c.is_ascii_alphabetic() {
            return Err(Invalid);
        }
        Ok(Node::Char(c))
    }

    /// A back-reference must name a closed group, and not one opened inside
    /// the look-behind it stands in.
    fn check_reference(&self, group: usize) -> Result<(), Invalid> {
        let closed = self.groups.get(group).is_some_and(Option::is_some) && group > 0;
        if !closed {
            return Err(Invalid);
        }
        if self.lookbehind_groups.is_some_and(|start| group >= start) {
            return Err(Invalid);
        }
        Ok(())
    }

    fn group_name(&self, name: &str) -> Result<(), Invalid> {
        if is_identifier(name) {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// After `(`.
    fn group(&mut self, verbose: bool, depth: usize) -> Result<GroupParse, Invalid> {
        let mut name = None;
        let mut capture = true;
        let mut atomic = false;
        let mut flags = None;
        if self.eat('?') {
            match self.next().ok_or(Invalid)? {
                'P' => {
                    if self.eat('<') {
                        let text = self.until('>')?;
                        self.group_name(&text)?;
                        name = Some(text);
                    } else if self.eat('=') {
                        let text = self.until(')')?;
                        self.group_name(&text)?;
                        let group = self.named(&text).ok_or(Invalid)?;
                        self.check_reference(group)?;
                        return Ok(GroupParse::Node(Node::Backref(group)));
                    } else {
                        return Err(Invalid);
                    }
                }
                ':' => capture = false,
                '#' => {
                    loop {
                        match self.next() {
                            None => return Err(Invalid),
                            Some(')') => break,
                            Some(_) => {}
                        }
                    }
                    return Ok(GroupParse::Nothing);
                }
                c @ ('=' | '!' | '<') => {
                    let (behind, kind) = if c == '<' {
                        let kind = self.next().ok_or(Invalid)?;
                        if kind != '=' && kind != '!' {
                            return Err(Invalid);
                        }
                        (true, kind)
                    } else {
                        (false, c)
                    };
                    let outermost = behind && self.lookbehind_groups.is_none();
                    if outermost {
                        self.lookbehind_groups = Some(self.groups.len());
                    }
                    let body = self.alternatives(verbose, depth + 1)?;
                    if outermost {
                        self.lookbehind_groups = None;
                    }
                    if !self.eat(')') {
                        return Err(Invalid);
                    }
                    if behind {
                        let (lo, hi) = self.width_of_alternatives(&body);
                        if lo != hi {
                            return Err(Invalid);
                        }
                    }
                    return Ok(GroupParse::Node(Node::Look {
                        behind,
                        negated: kind == '!',
                        body,
                    }));
                }
                '(' => {
                    let text = self.until(')')?;
                    let group = if is_identifier(&text) {
                        self.named(&text).ok_or(Invalid)?
                    } else {
                        let group: usize = text.parse().map_err(|_| Invalid)?;
                        if group == 0 || group >= 1 << 30 {
                            return Err(Invalid);
                        }
                        self.conditional_refs.push(group);
                        group
                    };
                    if self.lookbehind_groups.is_some() {
                        self.check_reference(group)?;
                    }
                    let yes = self.sequence(verbose, depth + 1, false)?;
                    let no = if self.eat('|') {
                        let no = self.sequence(verbose, depth + 1, false)?;
                        if self.peek() == Some('|') {
                            return Err(Invalid);
                        }
                        Some(no)
                    } else {
                        None
                    };
                    if !self.eat(')') {
                        return Err(Invalid);
                    }
                    return Ok(GroupParse::Node(Node::Conditional { group, yes, no }));
                }
                '>' => {
                    capture = false;
                    atomic = true;
                }
                c if "aiLmsux-".contains(c) => match self.inline_flags(c)? {
                    None => return Ok(GroupParse::GlobalFlags),
                    Some(scoped) => {
                        capture = false;
                        flags = Some(scoped);
                    }
                },
                _ => return Err(Invalid),
            }
        }
        let index = if capture {
            if let Some(name) = &name {
                if self.named(name).is_some() {
                    return Err(Invalid);
                }
                self.names.push((name.clone(), self.groups.len()));
            }
            self.groups.push(None);
            Some(self.groups.len() - 1)
        } else {
            None
        };
        let (add, remove) = flags.unwrap_or_default();
        let sub_verbose = (verbose || add.contains('x')) && !remove.contains('x');
        let body = self.alternatives(sub_verbose, depth + 1)?;
        if !self.eat(')') {
            return Err(Invalid);
        }
        if let Some(index) = index {
            self.groups[index] = Some(self.width_of_alternatives(&body));
        }
        if atomic {
            return Ok(GroupParse::Node(Node::Atomic(body)));
        }
        let (mut on, mut off) = (Flags::default(), Flags::default());
        for c in add.chars() {
            on.set(c, true);
        }
        for c in remove.chars() {
            off.set(c, true);
        }
        Ok(GroupParse::Node(Node::Group {
            index,
            on,
            off,
            body,
        }))
    }

    fn named(&self, name: &str) -> Option<usize> {
        self.names.iter().find(|(n, _)| n == name).map(|&(_, g)| g)
    }

    /// `_parse_flags`: `None` for global flags (`(?i)`), else the flags a
    /// scoped group `(?i-s:…)` turns on and off.
    fn inline_flags(&mut self, first: char) -> Result<Option<(String, String)>, Invalid> {
        let mut add = String::new();
        let mut c = first;
        if c != '-' {
            loop {
                if c == 'L' {
                    return Err(Invalid);
                }
                add.push(c);
                let types = add
                    .chars()
                    .filter(|f| matches!(f, 'a' | 'u'))
                    .collect::<Vec<_>>();
                if types.len() > 1 && types.iter().any(|&t| t != types[0]) {
                    return Err(Invalid);
                }
                c = self.next().ok_or(Invalid)?;
                if ")-:".contains(c) {
                    break;
                }
                if !"aiLmsux".contains(c) {
                    return Err(Invalid);
                }
            }
        }
        if c == ')' {
            for f in add.chars() {
                self.flags.set(f, true);
            }
            return Ok(None);
        }
        let mut remove = String::new();
        if c == '-' {
            c = self.next().ok_or(Invalid)?;
            if !"aiLmsux".contains(c) {
                return Err(Invalid);
            }
            loop {
                if matches!(c, 'a' | 'u' | 'L') {
                    return Err(Invalid);
                }
                remove.push(c);
                c = self.next().ok_or(Invalid)?;
                if c == ':' {
                    break;
                }
                if !"aiLmsux".contains(c) {
                    return Err(Invalid);
                }
            }
        }
        if c != ':' || add.chars().any(|f| remove.contains(f)) {
            return Err(Invalid);
        }
        Ok(Some((add, remove)))
    }

    /// `SubPattern.getwidth` of branches.
    fn width_of_alternatives(&self, branches: &[Vec<Node>]) -> (u128, u128) {
        let mut lo = MAX_WIDTH;
        let mut hi = 0;
        for branch in branches {
            let (l, h) = self.width(branch);
            lo = lo.min(l);
            hi = hi.max(h);
        }
        (lo, hi)
    }

    fn width(&self, items: &[Node]) -> (u128, u128) {
        let (mut lo, mut hi) = (0u128, 0u128);
        for item in items {
            let (l, h) = match item {
                Node::Char(_) | Node::Any | Node::Category(..) | Node::Class { .. } => (1, 1),
                Node::Anchor(_) | Node::Look { .. } => (0, 0),
                Node::Group { body, .. } | Node::Atomic(body) => self.width_of_alternatives(body),
                Node::Backref(group) => {
                    self.groups.get(*group).copied().flatten().unwrap_or((0, 0))
                }
                Node::Conditional { yes, no, .. } => {
                    let (l, h) = self.width(yes);
                    match no {
                        Some(no) => {
                            let (l2, h2) = self.width(no);
                            (l.min(l2), h.max(h2))
                        }
                        None => (0, h),
                    }
                }
                Node::Repeat { min, max, item, .. } => {
                    let (l, h) = self.width(std::slice::from_ref(item));
                    let lo = l.saturating_mul(u128::from(*min));
                    let hi = if *max == MAX_REPEAT && h > 0 {
                        MAX_WIDTH
                    } else {
                        h.saturating_mul(u128::from(*max))
                    };
                    (lo, hi)
                }
            };
            lo = lo.saturating_add(l);
            hi = hi.saturating_add(h);
        }
        (lo.min(MAX_WIDTH), hi.min(MAX_WIDTH))
    }
}

enum GroupParse {
    Node(Node),
    Nothing,
    GlobalFlags,
}

fn simple_escape(c: char) -> Option<char> {
    Some(match c {
        'a' => '\x07',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        '\\' => '\\',
        _ => return None,
    })
}

fn category(c: char) -> Option<(Category, bool)> {
    Some(match c {
        'd' => (Category::Digit, false),
        'D' => (Category::Digit, true),
        's' => (Category::Space, false),
        'S' => (Category::Space, true),
        'w' => (Category::Word, false),
        'W' => (Category::Word, true),
        _ => return None,
    })
}

fn octal(digits: &str) -> Result<char, Invalid> {
    u32::from_str_radix(digits, 8)
        .ok()
        .filter(|&code| code <= 0o377)
        .and_then(char::from_u32)
        .ok_or(Invalid)
}

/// Python's `str.isidentifier`.
fn is_identifier(name: &str) -> bool {
    static IDENTIFIER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[\p{XID_Start}_]\p{XID_Continue}*$").expect("valid")
    });
    IDENTIFIER.is_match(name)
}

/// The members of a category as a class body (without brackets), by
/// Python's definitions: `\d` decimal digits, `\s` `str.isspace`, `\w`
/// `str.isalnum` or `_`; ASCII only under the `a` flag.
fn category_class(category: Category, ascii: bool) -> &'static str {
    match (category, ascii) {
        (Category::Digit, true) => "0-9",
        (Category::Digit, false) => r"\p{Nd}",
        (Category::Space, true) => r" \t\n\r\x0B\x0C",
        (Category::Space, false) => r"\s\x1C-\x1F",
        (Category::Word, true) => "a-zA-Z0-9_",
        (Category::Word, false) => r"\p{L}\p{N}_",
    }
}

fn literal(c: char, out: &mut String) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        let _ = write!(out, "\\x{{{:X}}}", u32::from(c));
    }
}

fn emit_alternatives(branches: &[Vec<Node>], flags: Flags, out: &mut String) {
    for (index, branch) in branches.iter().enumerate() {
        if index > 0 {
            out.push('|');
        }
        for node in branch {
            emit(node, flags, out);
        }
    }
}

fn emit(node: &Node, flags: Flags, out: &mut String) {
    match node {
        Node::Char(c) => {
            if flags.ignore_case && flags.ascii && c.is_ascii_alphabetic() {
                let _ = write!(
                    out,
                    "[{}{}]",
                    c.to_ascii_lowercase(),
                    c.to_ascii_uppercase()
                );
            } else if flags.ignore_case && !flags.ascii && c.to_lowercase().ne(c.to_uppercase()) {
                out.push_str("(?i:");
                literal(*c, out);
                out.push(')');
            } else {
                literal(*c, out);
            }
        }
        Node::Any => out.push_str(if flags.dot_all { r"[\s\S]" } else { r"[^\n]" }),
        Node::Anchor(anchor) => {
            let word = category_class(Category::Word, flags.ascii);
            match anchor {
                Anchor::Start if flags.multiline => out.push_str(r"(?:\A|(?<=\n))"),
                Anchor::Start | Anchor::StartOfText => out.push_str(r"\A"),
                Anchor::End if flags.multiline => out.push_str(r"(?=\n|\z)"),
                Anchor::End => out.push_str(r"(?=\n?\z)"),
                Anchor::EndOfText => out.push_str(r"\z"),
                Anchor::Boundary => {
                    let _ = write!(
                        out,
                        "(?:(?<=[{word}])(?![{word}])|(?<![{word}])(?=[{word}]))"
                    );
                }
                Anchor::NotBoundary => {
                    let _ = write!(
                        out,
                        "(?:(?<=[{word}])(?=[{word}])|(?<![{word}])(?![{word}]))"
                    );
                }
            }
        }
        Node::Category(category, negated) => {
            let _ = write!(
                out,
                "[{}{}]",
                if *negated { "^" } else { "" },
                category_class(*category, flags.ascii)
            );
        }
        Node::Class { negated, items } => {
            let fold = flags.ignore_case && !flags.ascii;
            if fold {
                out.push_str("(?i:");
            }
            out.push('[');
            if *negated {
                out.push('^');
            }
            for item in items {
                match item {
                    ClassItem::Char(c) => {
                        literal(*c, out);
                        if flags.ignore_case && flags.ascii && c.is_ascii_alphabetic() {
                            out.push(c.to_ascii_lowercase());
                            out.push(c.to_ascii_uppercase());
                        }
                    }
                    ClassItem::Range(lo, hi) => {
                        literal(*lo, out);
                        out.push('-');
                        literal(*hi, out);
                        if flags.ignore_case && flags.ascii {
                            for (a, z) in [('a', 'z'), ('A', 'Z')] {
                                let (from, to) = ((*lo).max(a), (*hi).min(z));
                                if from <= to {
                                    let (f, t) = if a == 'a' {
                                        (from.to_ascii_uppercase(), to.to_ascii_uppercase())
                                    } else {
                                        (from.to_ascii_lowercase(), to.to_ascii_lowercase())
                                    };
                                    let _ = write!(out, "{f}-{t}");
                                }
                            }
                        }
                    }
                    ClassItem::Category(category, negated) => {
                        let _ = write!(
                            out,
                            "[{}{}]",
                            if *negated { "^" } else { "" },
                            category_class(*category, flags.ascii)
                        );
                    }
                }
            }
            out.push(']');
            if fold {
                out.push(')');
            }
        }
        Node::Group {
            index,
            on,
            off,
            body,
        } => {
            let inner = Flags {
                ignore_case: (flags.ignore_case || on.ignore_case) && !off.ignore_case,
                multiline: (flags.multiline || on.multiline) && !off.multiline,
                dot_all: (flags.dot_all || on.dot_all) && !off.dot_all,
                verbose: false,
                ascii: flags.ascii || on.ascii,
                unicode: flags.unicode || on.unicode,
            };
            out.push_str(if index.is_some() { "(" } else { "(?:" });
            emit_alternatives(body, inner, out);
            out.push(')');
        }
        Node::Atomic(body) => {
            out.push_str("(?>");
            emit_alternatives(body, flags, out);
            out.push(')');
        }
        Node::Look {
            behind,
            negated,
            body,
        } => {
            out.push_str(match (behind, negated) {
                (false, false) => "(?=",
                (false, true) => "(?!",
                (true, false) => "(?<=",
                (true, true) => "(?<!",
            });
            emit_alternatives(body, flags, out);
            out.push(')');
        }
        Node::Backref(group) => {
            if flags.ignore_case {
                let _ = write!(out, "(?i:\\{group})");
            } else {
                let _ = write!(out, "\\{group}");
            }
        }
        Node::Conditional { group, yes, no } => {
            let _ = write!(out, "(?({group})");
            for node in yes {
                emit(node, flags, out);
            }
            if let Some(no) = no {
                out.push('|');
                for node in no {
                    emit(node, flags, out);
                }
            }
            out.push(')');
        }
        // A repeated look-around (which fancy-regex refuses) asserts once,
        // or not at all when it may repeat zero times.
        Node::Repeat { min, item, .. } if matches!(**item, Node::Look { .. }) => {
            if *min > 0 {
                emit(item, flags, out);
            }
        }
        Node::Repeat {
            min,
            max,
            greed,
            item,
        } => {
            if *greed == Greed::Possessive {
                out.push_str("(?>");
            }
            out.push_str("(?:");
            emit(item, flags, out);
            out.push(')');
            if *max == MAX_REPEAT {
                let _ = write!(out, "{{{min},}}");
            } else {
                let _ = write!(out, "{{{min},{max}}}");
            }
            if *greed == Greed::Lazy {
                out.push('?');
            }
            if *greed == Greed::Possessive {
                out.push(')');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names as pstats prints them, and a few strings that tell the
    /// dialects apart.
    const SUBJECTS: &[&str] = &[
        "{built-in method builtins.exec}",
        "/usr/lib/python3.11/json/__init__.py:299(loads)",
        "<frozen importlib._bootstrap>:1165(_find_and_load)",
        "données/prüfung_測試.py:3(größe)",
        "profile:0(<code object <module> at 0x000000000000, file \"w.py\", line 1>)",
        "x.py:10(fib)",
        ":0(exec)",
        "a\nb\n",
        "abab",
        "K\u{212a}k",
        "Straße",
        "a\x1cb",
        "x1²٣",
        "",
    ];

    /// Every construct where Python's `re` and Rust's `regex` part ways, and
    /// the errors Python raises.
    const PATTERNS: &[&str] = &[
        "{built-in",
        "built-in}",
        "x{",
        "a{,2}b",
        "b{2,}",
        "a{}",
        "{1}",
        "a{,}",
        "a{ 1}",
        "a{3,2}",
        "(?#comment)json",
        "js(?#c)*on",
        "json\\Z",
        "\\n\\Z",
        "b$",
        "b\\Z",
        "json\\z",
        "\\0",
        "\\012",
        "\\08",
        "\\1",
        "(a)\\1",
        "(ab)\\1",
        "(ab)\\2",
        "(?P<n>ab)(?P=n)",
        "(?P=n)(?P<n>a)",
        "(?<n>ab)",
        "\\pL",
        "\\p{L}",
        "(?U)a",
        "(?u)a",
        "(?a)\\w+$",
        "(?a)\\W",
        "\\<",
        "\\>",
        "[[:alpha:]]",
        "[[:alpha:]]+",
        "(?=json)j",
        "(?!x)j",
        "(?<=/)json",
        "(?<!/)json",
        "(?<=a+)b",
        "(?<=ab|c)d",
        "(?<=ab|cd)a",
        "(?<=(a))b",
        "(a)(?<=\\1)b",
        "(?<=(?P<x>a)(?P=x))",
        "\\bfib\\b",
        "\\Bib",
        "\\bx",
        "^/usr",
        "\\)$",
        "$",
        "^",
        "(?m)^b",
        "(?m)b$",
        "^b",
        "a$",
        "(?s)a.b",
        "a.b",
        "(?i)JSON",
        "(?i:JSON)",
        "(?-i:json)",
        "(?i)(?-i:J)SON",
        "(?i)(?-i:j)SON",
        "a(?i)b",
        "(?i)(?m)^B",
        "(?x) j s o n # comment",
        "(?x)[ ]",
        "(?x:j s)on",
        "[\\w.]+:\\d+",
        "\\d{2,}",
        "\\d",
        "\\s",
        "\\S+\\s",
        "[^a-z]",
        "[z-a]",
        "[\\d-z]",
        "[a-]",
        "[-a]",
        "[]a]",
        "[^]a]",
        "[]",
        "[&&a]",
        "[a--b]",
        "[\\]]",
        "[\\b]",
        "[\\w&&[a]]",
        "[\\W]",
        "a**",
        "a*?+",
        "a++",
        "a?+b",
        "(?>a+)b",
        "(a)|b(?(1)c|d)",
        "(?(1)a|b)",
        "(a)(?(1)a|b|c)",
        "(?(n)a)",
        "(?P<n>a)?(?(n)b|c)",
        "(?(0)a)",
        "(?(1a)a)",
        "\\x41",
        "\\x4",
        "\\xe9",
        "\\u00e9",
        "\\U0001F600",
        "\\U00110000",
        "\\e",
        "\\h",
        "\\K",
        "\\G",
        "\\z",
        "\\C",
        "(?P<1>a)",
        "(?P<größe>a)",
        "(?P<a>x)(?P<a>y)",
        "[",
        "(",
        ")",
        "a)",
        "\\",
        "(?",
        "(?P",
        "(?P<",
        "(?L)a",
        "(?au)a",
        "(?i-i:a)",
        "(?-:a)",
        "(?i-a:a)",
        "(?-x:a)",
        "(*FAIL)",
        "(?~abc)",
        "\\g<1>",
        "\\k<n>",
        "a|*",
        "|",
        "()",
        "(?:)",
        "\\b",
        "(?i)k",
        "(?i)ß",
        "(?i)SS",
        "(?i)STRASSE",
        "計算",
        "\\w+\\(\\w+\\)$",
        "(?i)[^k]",
        "(?a)(?i)[k]",
        ".*",
        "(?<=\\()fib",
        "\\$",
        "\\.",
        "\\\u{e9}",
        "a\\\u{e9}",
        "(?i)[a-z]+",
        "(?a)\\s",
        "a\\Zb",
        "\\d\\b",
        "\\x1c",
        "[\\x1c]",
        "\\s+b",
        "(?=)",
        "(?=a)*",
        "^*",
        "$?",
        "\\b+",
        "(?:a|b)+",
        "(a|ab)(c|bcd)(d*)",
        "x(?#",
        "a{99999999999}",
        "(?-i)a",
        "(?i)a(?i)b",
        "(?!a)+b",
        "(?<=a){2}b",
        "(?=x)?1",
    ];

    #[test]
    fn patterns_are_read_and_matched_as_python_does() {
        let Some(python) = proflab_testkit::tool_or_skip(
            "python_re::patterns_are_read_and_matched_as_python_does",
            &["python3"],
            "apt-get install python3",
        ) else {
            return;
        };
        // For each pattern: null where `re.compile` raises, else whether
        // `re.search` finds each subject.
        let script = "import json, re, sys, warnings
warnings.simplefilter('ignore')
patterns, subjects = json.load(sys.stdin)
out = []
for p in patterns:
    try:
        r = re.compile(p)
    except (re.error, OverflowError):
        out.append(None)
        continue
    out.append([bool(r.search(s)) for s in subjects])
json.dump(out, sys.stdout)";
        let mut child = std::process::Command::new(python)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let input = serde_json::to_vec(&(PATTERNS, SUBJECTS)).expect("json");
        std::io::Write::write_all(&mut child.stdin.take().expect("piped"), &input).expect("write");
        let output = child.wait_with_output().expect("python3 finishes");
        assert!(output.status.success());
        let python: Vec<Option<Vec<bool>>> =
            serde_json::from_slice(&output.stdout).expect("python's answers");
        let mut differences = Vec::new();
        for (pattern, expected) in PATTERNS.iter().zip(python) {
            let ours = Pattern::new(pattern)
                .ok()
                .map(|p| SUBJECTS.iter().map(|s| p.search(s)).collect::<Vec<_>>());
            if ours != expected {
                differences.push(format!(
                    "{pattern:?} ({:?}): python {expected:?}, ours {ours:?}",
                    translate(pattern)
                ));
            }
        }
        assert!(differences.is_empty(), "{}", differences.join("\n"));
    }

    /// The one construct refused that Python accepts (docs/PROFILING.md):
    /// `\N{name}` needs Unicode's character names.
    #[test]
    fn named_characters_are_refused() {
        assert!(Pattern::new(r"\N{EM DASH}").is_err());
        assert!(Pattern::new(r"[\N{EM DASH}]").is_err());
    }
}
