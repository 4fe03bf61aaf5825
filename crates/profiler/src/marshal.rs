//! The file format of `python -m cProfile -o`: CPython's marshal (version 4)
//! of the pstats dictionary `{(file, line, name): (cc, nc, tt, ct, callers)}`.
//! Entries are read and written in the model's order, which is the file's:
//! CPython's `marshal.load` fills a dict in that order, and pstats lists it
//! so.

use indexmap::IndexMap;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use crate::model::Interner;
use crate::{CallerStats, FunctionKey, FunctionStats, Stats, StatsError};

const FLAG_REF: u8 = 0x80;
/// Deeper nesting than any stats file has; bounds the reader's recursion.
const MAX_DEPTH: usize = 64;
/// What the statistics of one file may take in memory: a fixed allowance
/// plus this many bytes per byte of the file, as the reader counts them
/// (each distinct string once, as names are shared, plus [`ENTRY_COST`] per
/// entry). CPython's files count under 3 (the profiles of
/// tests/pstats_oracle.rs); a file that counts 20 times more names a great
/// many entries through back-references to blow up, and is refused.
const DECODED_BYTES_PER_FILE_BYTE: usize = 64;
const DECODED_ALLOWANCE: usize = 16 << 20;
/// What one decoded entry costs besides its strings, for that budget.
const ENTRY_COST: usize = 64;

/// Why bytes are not a stats file; each names the byte offset or the
/// function at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MarshalError {
    /// The data ends inside an object.
    #[error("the data ends at offset {len} where {needed} more bytes were expected")]
    Truncated {
        /// Length of the data.
        len: usize,
        /// Bytes the object still needed.
        needed: usize,
    },
    /// Bytes follow the top-level object.
    #[error("{count} trailing bytes after the data at offset {offset}")]
    TrailingBytes {
        /// How many.
        count: usize,
        /// Where the top-level object ended.
        offset: usize,
    },
    /// A negative or oversized length prefix.
    #[error("length {length} at offset {offset} does not fit in the rest of the data")]
    BadLength {
        /// The length read.
        length: i64,
        /// Where it was read.
        offset: usize,
    },
    /// A string that is not UTF-8.
    #[error("invalid UTF-8 in the string at offset {offset}")]
    InvalidUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// A float written as text that does not parse.
    #[error("bad float {text:?} at offset {offset}")]
    BadFloat {
        /// The text.
        text: String,
        /// Where it starts.
        offset: usize,
    },
    /// An integer wider than a call count, or with a bad digit.
    #[error("bad or too large integer at offset {offset}")]
    BadInteger {
        /// Where it starts.
        offset: usize,
    },
    /// Containers nested deeper than a stats file nests them.
    #[error("nesting deeper than {MAX_DEPTH} at offset {offset}")]
    TooDeep {
        /// Where the limit was passed.
        offset: usize,
    },
    /// A back-reference to an object not read (or not finished) yet.
    #[error("reference {index} at offset {offset} names no earlier object")]
    BadReference {
        /// The reference number.
        index: i64,
        /// Where it was read.
        offset: usize,
    },
    /// A type code marshal does not have, or stats files never use.
    #[error("unexpected type code {code:?} at offset {offset}")]
    UnknownType {
        /// The code, without the reference flag.
        code: char,
        /// Where it was read.
        offset: usize,
    },
    /// Valid marshal data that is not pstats' dictionary
    /// `{(file, line, name): (cc, nc, tt, ct, callers)}`.
    #[error("not pstats' data: {what}")]
    NotStats {
        /// What was expected and where.
        what: String,
    },
    /// The data decodes to far more than its size (back-references repeat
    /// large parts): refused rather than filling memory.
    #[error("the statistics would take more than {limit} bytes in memory for {len} bytes of data")]
    TooLarge {
        /// The budget.
        limit: usize,
        /// Length of the data.
        len: usize,
    },
    /// A dictionary with no functions.
    #[error("the file holds no functions")]
    Empty,
}

fn not_stats(what: impl Into<String>) -> MarshalError {
    MarshalError::NotStats { what: what.into() }
}

/// A marshalled value, as far as stats files use them. Containers and
/// strings are shared, so a back-reference costs one pointer however large
/// the object it names: memory stays proportional to the file.
#[derive(Clone)]
enum Value {
    None,
    Bool,
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Tuple(Rc<[Value]>),
    Dict(Rc<[(Value, Value)]>),
    /// A code object, as its `repr`: the pure-Python `profile` module
    /// names the program it ran by one (`python -m profile -o`).
    Code(Rc<str>),
    /// What only a code object's insides hold (bytes, a complex number,
    /// `Ellipsis`): read past, never used.
    Other(&'static str),
}

impl Value {
    /// The type's name, for errors (never the value: a shared value can
    /// stand for an exponentially large tree).
    fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool => "a bool",
            Value::Int(_) => "an int",
            Value::Float(_) => "a float",
            Value::Str(_) => "a string",
            Value::Tuple(_) => "a tuple",
            Value::Dict(_) => "a dict",
            Value::Code(_) => "a code object",
            Value::Other(kind) => kind,
        }
    }
}

impl Stats {
    /// Writes the statistics in the format of `python -m cProfile -o`, so
    /// `python3 -m pstats FILE`, snakeviz and gprof2dot open it. Written by
    /// `proflab_output`, so a failure never leaves a truncated file under
    /// `path`.
    ///
    /// # Errors
    /// [`StatsError::Io`] when the file cannot be written.
    pub fn dump_stats(&self, path: &Path) -> Result<(), StatsError> {
        proflab_output::write(path, self.to_marshal()).map_err(|source| StatsError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// The marshal bytes of [`Stats::dump_stats`].
    #[must_use]
    pub fn to_marshal(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.push(b'{');
        for (key, stats) in self.entries() {
            write_key(&mut out, key);
            out.extend_from_slice(&[b')', 5]);
            write_int(&mut out, stats.primitive_calls);
            write_int(&mut out, stats.calls);
            write_float(&mut out, stats.tottime);
            write_float(&mut out, stats.cumtime);
            out.push(b'{');
            for (caller, edge) in &stats.callers {
                write_key(&mut out, caller);
                if edge.count_only {
                    write_int(&mut out, edge.calls);
                    continue;
                }
                out.extend_from_slice(&[b')', 4]);
                write_int(&mut out, edge.calls);
                write_int(&mut out, edge.primitive_calls);
                write_float(&mut out, edge.tottime);
                write_float(&mut out, edge.cumtime);
            }
            out.push(b'0');
        }
        out.push(b'0');
        out
    }

    /// Reads a stats file written by [`Stats::dump_stats`], by
    /// `python -m cProfile -o` or by `pstats.Stats.dump_stats`.
    ///
    /// # Errors
    /// [`StatsError::Io`] when the file cannot be read,
    /// [`StatsError::Corrupt`] naming the byte offset when it is not a stats file.
    pub fn load(path: &Path) -> Result<Self, StatsError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| StatsError::Io {
            path: name.clone(),
            source,
        })?;
        let mut stats = Self::from_marshal(&bytes)
            .map_err(|source| StatsError::Corrupt { path: name, source })?;
        // pstats' header line: the file's time, then its name as given.
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let mut header = OsString::new();
        if let Some(time) = modified {
            header.push(ctime(time));
            header.push("    ");
        }
        header.push(path.as_os_str());
        stats.set_source(header);
        Ok(stats)
    }

    /// Parses the marshal bytes of a stats file. Memory stays proportional
    /// to `bytes`: back-references are shared while reading, and data that
    /// would decode to far more than its size is refused.
    ///
    /// # Errors
    /// A [`MarshalError`] naming the byte offset or the function at fault.
    pub fn from_marshal(bytes: &[u8]) -> Result<Self, MarshalError> {
        let mut reader = Reader {
            bytes,
            position: 0,
            refs: Vec::new(),
        };
        let value = reader.value(0)?;
        if reader.position != bytes.len() {
            return Err(MarshalError::TrailingBytes {
                count: bytes.len() - reader.position,
                offset: reader.position,
            });
        }
        let Value::Dict(entries) = value else {
            return Err(not_stats(format!(
                "the top-level object is {}, not a dict",
                value.kind()
            )));
        };
        let mut budget = Budget::for_data(bytes.len());
        let mut names = Names::default();
        let mut stats = IndexMap::new();
        for (key, value) in entries.iter() {
            let key = function_key(key, &mut names, &mut budget)?;
            let Value::Tuple(fields) = value else {
                return Err(not_stats(format!(
                    "the entry of {} is {}, not a tuple",
                    key.std_string(),
                    value.kind()
                )));
            };
            let [cc, nc, tt, ct, Value::Dict(callers)] = &fields[..] else {
                return Err(not_stats(format!(
                    "the entry of {} is not (cc, nc, tt, ct, callers)",
                    key.std_string()
                )));
            };
            let mut caller_stats = IndexMap::new();
            for (caller, edge) in callers.iter() {
                let caller = function_key(caller, &mut names, &mut budget)?;
                let edge = match edge {
                    Value::Tuple(edge) => match &edge[..] {
                        [nc, cc, tt, ct] => CallerStats {
                            calls: count(nc)?,
                            primitive_calls: count(cc)?,
                            tottime: number(tt)?,
                            cumtime: number(ct)?,
                            count_only: false,
                        },
                        _ => {
                            return Err(not_stats(format!(
                                "a caller entry of {} is not (nc, cc, tt, ct)",
                                key.std_string()
                            )));
                        }
                    },
                    // The pure-Python `profile` module stores a bare count.
                    count_only => {
                        let calls = count(count_only)?;
                        CallerStats {
                            calls,
                            primitive_calls: calls,
                            count_only: true,
                            ..CallerStats::default()
                        }
                    }
                };
                caller_stats.insert(caller, edge);
            }
            let entry = FunctionStats {
                primitive_calls: count(cc)?,
                calls: count(nc)?,
                tottime: number(tt)?,
                cumtime: number(ct)?,
                callers: caller_stats,
                allocations: 0,
                allocated_bytes: 0,
            };
            stats.insert(key, entry);
        }
        if stats.is_empty() {
            return Err(MarshalError::Empty);
        }
        Ok(Self::from_entries(stats))
    }
}

/// What decoding may still allocate; see [`DECODED_BYTES_PER_FILE_BYTE`].
struct Budget {
    left: usize,
    limit: usize,
    len: usize,
}

impl Budget {
    fn for_data(len: usize) -> Self {
        let limit = len
            .saturating_mul(DECODED_BYTES_PER_FILE_BYTE)
            .saturating_add(DECODED_ALLOWANCE);
        Self {
            left: limit,
            limit,
            len,
        }
    }

    fn take(&mut self, n: usize) -> Result<(), MarshalError> {
        self.left = self.left.checked_sub(n).ok_or(MarshalError::TooLarge {
            limit: self.limit,
            len: self.len,
        })?;
        Ok(())
    }
}

/// The names of a file, shared: a string the file refers back to is one
/// `Rc` in the decoded values, found here by address without hashing its
/// text again; equal strings written out twice are shared by content.
#[derive(Default)]
struct Names {
    by_address: HashMap<*const u8, (Rc<str>, Arc<str>)>,
    interner: Interner,
}

impl Names {
    fn get(&mut self, text: &Rc<str>) -> Arc<str> {
        let interner = &mut self.interner;
        let (_, shared) = self
            .by_address
            .entry(Rc::as_ptr(text).cast::<u8>())
            // Holding the `Rc` keeps its address from being reused.
            .or_insert_with(|| (Rc::clone(text), interner.intern(text)));
        Arc::clone(shared)
    }
}

fn function_key(
    value: &Value,
    names: &mut Names,
    budget: &mut Budget,
) -> Result<FunctionKey, MarshalError> {
    let Value::Tuple(parts) = value else {
        return Err(not_stats(format!(
            "a function key is {}, not a tuple",
            value.kind()
        )));
    };
    let [Value::Str(file), line, Value::Str(name) | Value::Code(name)] = &parts[..] else {
        return Err(not_stats("a function key is not (file, line, name)"));
    };
    let before = names.interner.bytes();
    let (file, name) = (names.get(file), names.get(name));
    budget.take(ENTRY_COST + names.interner.bytes() - before)?;
    let line = match line {
        Value::Int(n) => u32::try_from(*n).map_err(|_| {
            not_stats(format!(
                "line number {n} is not a line number (from 0 to {})",
                u32::MAX
            ))
        })?,
        other => {
            return Err(not_stats(format!(
                "expected a line number, found {}",
                other.kind()
            )));
        }
    };
    Ok(FunctionKey { file, line, name })
}

fn count(value: &Value) -> Result<u64, MarshalError> {
    match value {
        Value::Int(n) => {
            u64::try_from(*n).map_err(|_| not_stats(format!("a call count is negative ({n})")))
        }
        other => Err(not_stats(format!(
            "expected a call count, found {}",
            other.kind()
        ))),
    }
}

fn number(value: &Value) -> Result<f64, MarshalError> {
    match value {
        Value::Float(x) => Ok(*x),
        Value::Int(n) => Ok(*n as f64),
        other => Err(not_stats(format!(
            "expected a time, found {}",
            other.kind()
        ))),
    }
}
fn write_key(out: &mut Vec<u8>, key: &FunctionKey) {
    out.extend_from_slice(&[b')', 3]);
    write_str(out, &key.file);
    write_int(out, u64::from(key.line));
    write_str(out, &key.name);
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    match u8::try_from(text.len()) {
        Ok(len) if text.is_ascii() => out.extend_from_slice(&[b'z', len]),
        _ => {
            out.push(b'u');
            out.extend_from_slice(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes());
        }
    }
    out.extend_from_slice(text.as_bytes());
}

fn write_int(out: &mut Vec<u8>, n: u64) {
    if let Ok(small) = i32::try_from(n) {
        out.push(b'i');
        out.extend_from_slice(&small.to_le_bytes());
    } else {
        // TYPE_LONG: a count of 15-bit digits, least significant first.
        let mut digits = Vec::new();
        let mut rest = n;
        while rest > 0 {
            digits.push((rest & 0x7fff) as u16);
            rest >>= 15;
        }
        out.push(b'l');
        out.extend_from_slice(&(digits.len() as i32).to_le_bytes());
        for digit in digits {
            out.extend_from_slice(&digit.to_le_bytes());
        }
    }
}

fn write_float(out: &mut Vec<u8>, x: f64) {
    out.push(b'g');
    out.extend_from_slice(&x.to_le_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Objects flagged for back-references, in the order CPython numbers
    /// them; `None` while a container is still being read.
    refs: Vec<Option<Value>>,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], MarshalError> {
        let end = self
            .position
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len());
        match end {
            Some(end) => {
                let slice = &self.bytes[self.position..end];
                self.position = end;
                Ok(slice)
            }
            None => Err(MarshalError::Truncated {
                len: self.bytes.len(),
                needed: n,
            }),
        }
    }

    fn byte(&mut self) -> Result<u8, MarshalError> {
        Ok(self.take(1)?[0])
    }

    fn i32(&mut self) -> Result<i32, MarshalError> {
        let bytes = self.take(4)?;
        Ok(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// A length that must fit in the rest of the file (at `min_item` bytes
    /// per element), checked before anything is allocated for it.
    fn length(&mut self, min_item: usize) -> Result<usize, MarshalError> {
        let offset = self.position;
        let length = self.i32()?;
        usize::try_from(length)
            .ok()
            .filter(|n| n.saturating_mul(min_item) <= self.bytes.len() - self.position)
            .ok_or(MarshalError::BadLength {
                length: i64::from(length),
                offset,
            })
    }

    fn text(&mut self, n: usize, offset: usize) -> Result<Rc<str>, MarshalError> {
        std::str::from_utf8(self.take(n)?)
            .map(Rc::from)
            .map_err(|_| MarshalError::InvalidUtf8 { offset })
    }

    fn value(&mut self, depth: usize) -> Result<Value, MarshalError> {
        if depth > MAX_DEPTH {
            return Err(MarshalError::TooDeep {
                offset: self.position,
            });
        }
        let at = self.position;
        let code = self.byte()?;
        let flagged = code & FLAG_REF != 0;
        // Containers take their reference number before their contents, as
        // CPython numbers them.
        let reserved = if flagged
            && matches!(
                code & !FLAG_REF,
                b'(' | b')' | b'[' | b'{' | b'<' | b'>' | b'c'
            ) {
            self.refs.push(None);
            Some(self.refs.len() - 1)
        } else {
            None
        };
        let value = match code & !FLAG_REF {
            b'N' => Value::None,
            b'T' | b'F' => Value::Bool,
            b'i' => Value::Int(i64::from(self.i32()?)),
            b'l' => self.long(at)?,
            b'g' => {
                let bytes = self.take(8)?;
                Value::Float(f64::from_le_bytes(bytes.try_into().expect("took 8 bytes")))
            }
            b'f' => {
                let n = usize::from(self.byte()?);
                let text = self.text(n, at)?;
                Value::Float(text.parse().map_err(|_| MarshalError::BadFloat {
                    text: text.to_string(),
                    offset: at,
                })?)
            }
            b'z' | b'Z' => {
                let n = usize::from(self.byte()?);
                Value::Str(self.text(n, at)?)
            }
            b'a' | b'A' | b'u' | b't' => {
                let n = self.length(1)?;
                Value::Str(self.text(n, at)?)
            }
            b's' => {
                let n = self.length(1)?;
                self.take(n)?;
                Value::Other("bytes")
            }
            b'y' => {
                self.take(16)?;
                Value::Other("a complex")
            }
            b'x' => {
                for _ in 0..2 {
                    let n = usize::from(self.byte()?);
                    self.take(n)?;
                }
                Value::Other("a complex")
            }
            b'.' | b'S' => Value::Other("a constant"),
            b'c' => self.code(depth)?,
            b')' => {
                let n = usize::from(self.byte()?);
                Value::Tuple(self.items(n, depth)?.into())
            }
            // Lists and sets are tuples here: nothing in a stats file needs
            // them to be told apart.
            b'(' | b'[' | b'<' | b'>' => {
                let n = self.length(1)?;
                Value::Tuple(self.items(n, depth)?.into())
            }
            b'{' => {
                let mut entries = Vec::new();
                loop {
                    if self.bytes.get(self.position) == Some(&b'0') {
                        self.position += 1;
                        break;
                    }
                    let key = self.value(depth + 1)?;
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                }
                Value::Dict(entries.into())
            }
            b'r' => {
                let index = self.i32()?;
                // A shared pointer, not a copy: references to references
                // would otherwise grow exponentially (issue 11, case 1).
                match usize::try_from(index).ok().and_then(|i| self.refs.get(i)) {
                    Some(Some(value)) => value.clone(),
                    _ => {
                        return Err(MarshalError::BadReference {
                            index: i64::from(index),
                            offset: at,
                        });
                    }
                }
            }
            other => {
                return Err(MarshalError::UnknownType {
                    code: char::from(other),
                    offset: at,
                });
            }
        };
        match reserved {
            Some(slot) => self.refs[slot] = Some(value.clone()),
            None if flagged && code & !FLAG_REF != b'r' => self.refs.push(Some(value.clone())),
            None => {}
        }
        Ok(value)
    }

    /// A code object as CPython 3.11 to 3.14 marshal it (earlier versions
    /// lay it out otherwise, and CPython reads only its own), turned into
    /// its `repr`, `<code object NAME at 0x…, file "FILE", line N>`. The
    /// address is not in the file: it prints as twelve zeros, as wide as a
    /// 64-bit Linux address, so columns line up as CPython's do.
    fn code(&mut self, depth: usize) -> Result<Value, MarshalError> {
        // argcount, posonlyargcount, kwonlyargcount, stacksize, flags.
        for _ in 0..5 {
            self.i32()?;
        }
        // code, consts, names, localsplusnames, localspluskinds.
        for _ in 0..5 {
            self.value(depth + 1)?;
        }
        let file = self.value(depth + 1)?;
        let name = self.value(depth + 1)?;
        let _qualname = self.value(depth + 1)?;
        let line = self.i32()?;
        // linetable, exceptiontable.
        for _ in 0..2 {
            self.value(depth + 1)?;
        }
        let name = match name {
            Value::Str(name) => name,
            other => {
                return Err(not_stats(format!(
                    "a code object's name is {}",
                    other.kind()
                )));
            }
        };
        let file = match file {
            Value::Str(file) => format!("\"{file}\""),
            _ => "???".to_owned(),
        };
        Ok(Value::Code(Rc::from(format!(
            "<code object {name} at 0x000000000000, file {file}, line {line}>"
        ))))
    }

    fn items(&mut self, n: usize, depth: usize) -> Result<Vec<Value>, MarshalError> {
        (0..n).map(|_| self.value(depth + 1)).collect()
    }

    fn long(&mut self, at: usize) -> Result<Value, MarshalError> {
        let signed_digits = self.i32()?;
        let digits = signed_digits.unsigned_abs() as usize;
        if digits > 4 {
            return Err(MarshalError::BadInteger { offset: at });
        }
        let mut magnitude: i64 = 0;
        for shift in 0..digits {
            let bytes = self.take(2)?;
            let digit = i64::from(u16::from_le_bytes([bytes[0], bytes[1]]));
            if digit >= 1 << 15 {
                return Err(MarshalError::BadInteger { offset: at });
            }
            magnitude |= digit << (15 * shift);
        }
        Ok(Value::Int(if signed_digits < 0 {
            -magnitude
        } else {
            magnitude
        }))
    }
}

/// Python's `time.ctime` of a file time: local time, by the system's time
/// zone rules and `TZ` as C's `localtime` reads them, e.g.
/// `Tue Nov 24 22:23:18 2026`.
fn ctime(time: std::time::SystemTime) -> String {
    ctime_in(time, &jiff::tz::TimeZone::system())
}

fn ctime_in(time: std::time::SystemTime, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::try_from(time) {
        Ok(timestamp) => timestamp
            .to_zoned_datetime(zone.clone())
            .strftime("%a %b %e %H:%M:%S %Y")
            .to_string(),
        // Outside jiff's years -9999..=9999, far beyond any file's time.
        Err(_) => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Stats {
        let main = FunctionKey {
            file: "src/main.rs".into(),
            line: 1,
            name: "main".into(),
        };
        let work = FunctionKey {
            file: "src/work.rs".into(),
            line: 12,
            name: "work".into(),
        };
        let edge = CallerStats {
            calls: 3_000_000_000,
            primitive_calls: 2,
            tottime: 0.25,
            cumtime: 0.5,
            count_only: false,
        };
        Stats::from_entries([
            (
                main.clone(),
                FunctionStats {
                    primitive_calls: 1,
                    calls: 1,
                    tottime: 0.1,
                    cumtime: 0.6,
                    ..FunctionStats::default()
                },
            ),
            (
                work,
                FunctionStats {
                    primitive_calls: 2,
                    calls: 3_000_000_000,
                    tottime: 0.25,
                    cumtime: 0.5,
                    callers: [(main, edge)].into_iter().collect(),
                    ..FunctionStats::default()
                },
            ),
        ])
    }

    #[test]
    fn writing_then_reading_gives_the_same_statistics() {
        let stats = sample();
        assert_eq!(
            Stats::from_marshal(&stats.to_marshal()).expect("valid"),
            stats
        );
    }

    /// Issue 35, item 19: a line number of -1 was "a call count is negative".
    #[test]
    fn a_negative_line_number_is_named_as_one() {
        let mut bytes = sample().to_marshal();
        let twelve = b"i\x0c\x00\x00\x00";
        let at = bytes
            .windows(twelve.len())
            .position(|w| w == twelve)
            .expect("work's line");
        bytes[at + 1..at + 5].copy_from_slice(&(-1i32).to_le_bytes());
        let error = Stats::from_marshal(&bytes).unwrap_err().to_string();
        assert!(
            error.contains("line number -1 is not a line number"),
            "{error}"
        );
    }

    #[test]
    fn bare_counts_of_the_profile_module_are_written_back_as_bare_counts() {
        let mut stats = sample();
        let first = stats.entries().keys().next().expect("main").clone();
        let mut entries = stats.entries().clone();
        entries[1].callers[&first] = CallerStats {
            calls: 7,
            primitive_calls: 7,
            count_only: true,
            ..CallerStats::default()
        };
        stats = Stats::from_entries(entries);
        let bytes = stats.to_marshal();
        assert_eq!(Stats::from_marshal(&bytes).expect("valid"), stats);
        // The caller's value is `i` 7, not a tuple.
        let caller_end = bytes.len() - 2 - 5;
        assert_eq!(&bytes[caller_end..caller_end + 5], &[b'i', 7, 0, 0, 0]);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample().to_marshal();
        for end in 0..bytes.len() {
            assert!(
                Stats::from_marshal(&bytes[..end]).is_err(),
                "prefix of {end} bytes accepted"
            );
        }
    }

    #[test]
    fn every_single_byte_corruption_is_handled() {
        let bytes = sample().to_marshal();
        for position in 0..bytes.len() {
            for replacement in [0u8, 0x80, b'r', b'{', b'(', 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[position] = replacement;
                // Some corruptions still parse (a changed digit); none may panic.
                let _ = Stats::from_marshal(&corrupt);
            }
        }
    }

    #[test]
    fn back_references_and_other_string_codes_are_read() {
        // {("f.py", 1, "f"): (1, 1, 0.5, 0.5, {})} with the key's file name
        // interned and flagged, then referenced from a caller entry.
        let mut bytes = vec![b'{', b')', 3, b'Z' | FLAG_REF, 4];
        bytes.extend_from_slice(b"f.py");
        bytes.extend_from_slice(&[b'i', 1, 0, 0, 0, b'a', 1, 0, 0, 0, b'f']);
        bytes.extend_from_slice(&[b')', 5, b'i', 1, 0, 0, 0, b'i', 2, 0, 0, 0]);
        bytes.push(b'f');
        bytes.push(3);
        bytes.extend_from_slice(b"0.5");
        bytes.push(b'g');
        bytes.extend_from_slice(&0.5f64.to_le_bytes());
        bytes.extend_from_slice(&[
            b'{', b')', 3, b'r', 0, 0, 0, 0, b'i', 9, 0, 0, 0, b'u', 1, 0, 0, 0, b'g',
        ]);
        bytes.extend_from_slice(&[
            b')', 4, b'i', 2, 0, 0, 0, b'i', 1, 0, 0, 0, b'i', 0, 0, 0, 0, b'i', 0, 0, 0, 0,
        ]);
        bytes.extend_from_slice(b"00");
        let stats = Stats::from_marshal(&bytes).expect("valid");
        let (key, entry) = stats.function("f").expect("f");
        assert_eq!(&*key.file, "f.py");
        assert_eq!(
            (entry.primitive_calls, entry.calls, entry.tottime),
            (1, 2, 0.5)
        );
        let caller = entry.callers.keys().next().expect("one caller");
        assert_eq!(
            (&*caller.file, caller.line, &*caller.name),
            ("f.py", 9, "g")
        );
    }

    /// Issue 11, case 1, byte for byte: `{(None, None): None}` then 39 keys,
    /// each a tuple of two back-references to the previous key. Copied, the
    /// last key is a tree of 2^39 leaves; shared, it is 39 small tuples.
    fn references_to_references() -> Vec<u8> {
        let mut bytes = b"{\xa9\x02NNN".to_vec();
        for i in 0..39i32 {
            bytes.extend_from_slice(b"\xa9\x02r");
            bytes.extend_from_slice(&i.to_le_bytes());
            bytes.push(b'r');
            bytes.extend_from_slice(&i.to_le_bytes());
            bytes.push(b'N');
        }
        bytes.push(b'0');
        bytes
    }

    #[test]
    fn references_to_references_are_shared_not_copied() {
        let bytes = references_to_references();
        assert_eq!(bytes.len(), 514);
        let started = std::time::Instant::now();
        let error = Stats::from_marshal(&bytes).unwrap_err();
        assert!(
            matches!(&error, MarshalError::NotStats { what } if what.contains("(file, line, name)")),
            "{error}"
        );
        // Copying would take minutes and all memory before failing.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    fn push_int(bytes: &mut Vec<u8>, n: i32) {
        bytes.push(b'i');
        bytes.extend_from_slice(&n.to_le_bytes());
    }

    fn push_key(bytes: &mut Vec<u8>, flag: u8, file: &str, line: i32, name: &str) {
        bytes.extend_from_slice(&[b')' | flag, 3, b'u']);
        bytes.extend_from_slice(&u32::try_from(file.len()).expect("short").to_le_bytes());
        bytes.extend_from_slice(file.as_bytes());
        push_int(bytes, line);
        bytes.push(b'u');
        bytes.extend_from_slice(&u32::try_from(name.len()).expect("short").to_le_bytes());
        bytes.extend_from_slice(name.as_bytes());
    }

    #[test]
    fn a_large_key_repeated_by_reference_is_shared_not_copied() {
        // Two functions whose callers tables name a key with a 60 kB file
        // name 2000 times, by reference: copied, that is 240 MB, and the
        // pointers compared below tell shared from copied at any count.
        // (20 000 times took 12 s of an unoptimized test build.)
        let mut bytes = vec![b'{'];
        push_key(&mut bytes, FLAG_REF, &"x".repeat(60_000), 1, "f");
        for line in [2, 3] {
            if line == 3 {
                push_key(&mut bytes, 0, "g.py", line, "g");
            }
            bytes.extend_from_slice(&[b')', 5]);
            push_int(&mut bytes, 1);
            push_int(&mut bytes, 1);
            for _ in 0..2 {
                bytes.push(b'g');
                bytes.extend_from_slice(&0.5f64.to_le_bytes());
            }
            bytes.push(b'{');
            for caller_line in 0..2000 {
                bytes.extend_from_slice(&[b'r', 0, 0, 0, 0]);
                push_int(&mut bytes, caller_line);
            }
            bytes.push(b'0');
        }
        bytes.push(b'0');
        // The first entry names itself as its caller; the second is g.
        let stats = Stats::from_marshal(&bytes).expect("valid");
        let (f, f_stats) = stats.entries().get_index(0).expect("f");
        let (_, g_stats) = stats.entries().get_index(1).expect("g");
        let caller = g_stats.callers.keys().next().expect("a caller");
        assert!(Arc::ptr_eq(&f.file, &caller.file));
        assert!(Arc::ptr_eq(
            &f.file,
            &f_stats.callers.keys().next().expect("a caller").file
        ));
    }

    #[test]
    fn a_callers_table_shared_by_many_functions_is_refused() {
        // 2000 callers in one table that 20 000 functions name by
        // reference: 40 million caller entries from 0.5 MB of file.
        let mut bytes = vec![b'{'];
        push_key(&mut bytes, 0, "f.py", 0, "f");
        bytes.extend_from_slice(&[b')' | FLAG_REF, 5]);
        push_int(&mut bytes, 1);
        push_int(&mut bytes, 1);
        push_int(&mut bytes, 0);
        push_int(&mut bytes, 0);
        bytes.push(b'{');
        for line in 0..2000 {
            push_key(&mut bytes, 0, "c.py", line, "c");
            bytes.extend_from_slice(&[b')', 4]);
            for _ in 0..4 {
                push_int(&mut bytes, 1);
            }
        }
        bytes.push(b'0');
        let one_function = bytes.len();
        for line in 1..20_000 {
            push_key(&mut bytes, 0, "f.py", line, "f");
            bytes.extend_from_slice(&[b'r', 0, 0, 0, 0]);
        }
        bytes.push(b'0');
        let error = Stats::from_marshal(&bytes).unwrap_err();
        assert!(matches!(error, MarshalError::TooLarge { .. }), "{error}");
        // The same table named by a hundred functions is fine.
        let mut small = bytes[..one_function].to_vec();
        for line in 1..100 {
            push_key(&mut small, 0, "f.py", line, "f");
            small.extend_from_slice(&[b'r', 0, 0, 0, 0]);
        }
        small.push(b'0');
        assert_eq!(
            Stats::from_marshal(&small).expect("valid").entries().len(),
            100
        );
    }

    #[test]
    fn errors_are_typed_and_name_the_offset() {
        assert_eq!(
            Stats::from_marshal(b"{)\x03r\x05\x00\x00\x00").unwrap_err(),
            MarshalError::BadReference {
                index: 5,
                offset: 3
            }
        );
        assert_eq!(
            Stats::from_marshal(b"{0x").unwrap_err(),
            MarshalError::TrailingBytes {
                count: 1,
                offset: 2
            }
        );
        assert_eq!(Stats::from_marshal(b"{0").unwrap_err(), MarshalError::Empty);
        assert!(matches!(
            Stats::from_marshal(b"N").unwrap_err(),
            MarshalError::NotStats { .. }
        ));
    }

    #[test]
    fn ctime_matches_python_in_any_zone() {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_559_000 - 2);
        let utc = jiff::tz::TimeZone::UTC;
        assert_eq!(ctime_in(time, &utc), "Tue Nov 24 22:23:18 2026");
        assert_eq!(
            ctime_in(std::time::UNIX_EPOCH, &utc),
            "Thu Jan  1 00:00:00 1970"
        );
        // time.ctime under TZ=Asia/Kolkata (UTC+5:30), into the next day.
        let kolkata = jiff::tz::TimeZone::get("Asia/Kolkata").expect("tzdata");
        assert_eq!(ctime_in(time, &kolkata), "Wed Nov 25 03:53:18 2026");
        let posix = jiff::tz::TimeZone::posix("EST5EDT,M3.2.0,M11.1.0").expect("a rule");
        assert_eq!(ctime_in(time, &posix), "Tue Nov 24 17:23:18 2026");
    }
}
