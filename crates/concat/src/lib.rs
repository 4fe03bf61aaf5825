//! Ways to build one string out of many pieces, as compared by the
//! `string_concat` benchmark group.
//!
//! The tutorial times `s += str(x)` against `"".join(...)` in CPython; this
//! crate holds the Rust strategies for both of its experiments: formatting
//! each number inside the loop ([`Formatting`] strategies, taking the numbers)
//! and joining pieces prepared beforehand (the `pieces_*` functions, taking
//! the strings). Every function returns the same string for the same input,
//! which the tests check, so the benchmarks compare cost only. It is not a
//! general string library.

use std::fmt::Write as _;

/// A strategy that formats each number and appends it.
pub type Formatting = fn(&[u64]) -> String;

/// A strategy that concatenates pieces prepared beforehand.
pub type Joining = fn(&[String]) -> String;

/// Formats into a temporary `String` per number, then copies it in:
/// one allocation per piece plus amortized growth of the result.
#[must_use]
pub fn format_push_str(numbers: &[u64]) -> String {
    let mut s = String::new();
    for x in numbers {
        s.push_str(&x.to_string());
    }
    s
}

/// [`format_push_str`] into a buffer sized up front: no regrowth of the result,
/// but still one temporary allocation per piece.
#[must_use]
pub fn format_push_str_with_capacity(numbers: &[u64]) -> String {
    let mut s = String::with_capacity(formatted_len(numbers));
    for x in numbers {
        s.push_str(&x.to_string());
    }
    s
}

/// Formats straight into the result with `write!`: no temporary per piece,
/// only amortized growth of the result.
#[must_use]
pub fn format_write(numbers: &[u64]) -> String {
    let mut s = String::new();
    for x in numbers {
        // Writing into a String cannot fail.
        let _ = write!(s, "{x}");
    }
    s
}

/// [`format_write`] into a buffer sized up front: no allocation at all after
/// the first.
#[must_use]
pub fn format_write_with_capacity(numbers: &[u64]) -> String {
    let mut s = String::with_capacity(formatted_len(numbers));
    for x in numbers {
        let _ = write!(s, "{x}");
    }
    s
}

/// `s = s + &x.to_string()`: `+` takes `s` by value and appends in place, so
/// despite its look this is the same amortized growth as `push_str`.
#[must_use]
pub fn format_add(numbers: &[u64]) -> String {
    let mut s = String::new();
    for x in numbers {
        s = s + &x.to_string();
    }
    s
}

/// `s = format!("{s}{x}")`: builds a fresh string each step and copies all of
/// `s` into it, O(n²) bytes moved, the true analogue of CPython's immutable
/// `str +=` when its in-place resize trick does not apply.
#[must_use]
pub fn format_copy_each_step(numbers: &[u64]) -> String {
    let mut s = String::new();
    for x in numbers {
        s = format!("{s}{x}");
    }
    s
}

/// Collects every formatted piece into a `Vec<String>`, then `join("")`:
/// one allocation per piece plus the vector, then one exact-size result,
/// like Python's `"".join([str(x) for x in ...])`.
#[must_use]
pub fn format_collect_join(numbers: &[u64]) -> String {
    numbers
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("")
}

/// Every formatting strategy with its stable benchmark name.
pub const FORMATTING: &[(&str, Formatting)] = &[
    ("push_str", format_push_str),
    ("push_str_with_capacity", format_push_str_with_capacity),
    ("write", format_write),
    ("write_with_capacity", format_write_with_capacity),
    ("add", format_add),
    ("format_copy", format_copy_each_step),
    ("collect_join", format_collect_join),
];

/// Appends each piece with `push_str`: amortized doubling, about 2n bytes
/// copied in all.
#[must_use]
pub fn pieces_push_str(pieces: &[String]) -> String {
    let mut s = String::new();
    for piece in pieces {
        s.push_str(piece);
    }
    s
}

/// Appends each piece with `s = s + piece`: the same amortized growth as
/// [`pieces_push_str`], since `+` reuses the left operand's buffer.
#[must_use]
pub fn pieces_add(pieces: &[String]) -> String {
    let mut s = String::new();
    for piece in pieces {
        s = s + piece;
    }
    s
}

/// `s = format!("{s}{piece}")`: a fresh string and a full copy each step,
/// O(n²) bytes moved.
#[must_use]
pub fn pieces_format_copy(pieces: &[String]) -> String {
    let mut s = String::new();
    for piece in pieces {
        s = format!("{s}{piece}");
    }
    s
}

/// `concat()`: measures the total first, then one allocation and one copy
/// of each piece.
#[must_use]
pub fn pieces_concat(pieces: &[String]) -> String {
    pieces.concat()
}

/// `join("")`: the same single exact allocation as [`pieces_concat`], plus
/// the (empty) separator handling.
#[must_use]
pub fn pieces_join(pieces: &[String]) -> String {
    pieces.join("")
}

/// `collect::<String>()` over `&str`: grows like `push_str`, as the iterator
/// cannot know the total length up front.
#[must_use]
pub fn pieces_collect(pieces: &[String]) -> String {
    pieces.iter().map(String::as_str).collect()
}

/// `push_str` into a buffer sized up front: one allocation, each byte copied
/// once, the floor for this experiment.
#[must_use]
pub fn pieces_push_str_with_capacity(pieces: &[String]) -> String {
    let mut s = String::with_capacity(pieces.iter().map(String::len).sum());
    for piece in pieces {
        s.push_str(piece);
    }
    s
}

/// Every strategy over precomputed pieces with its stable benchmark name.
pub const JOINING: &[(&str, Joining)] = &[
    ("push_str", pieces_push_str),
    ("add", pieces_add),
    ("format_copy", pieces_format_copy),
    ("concat", pieces_concat),
    ("join", pieces_join),
    ("collect", pieces_collect),
    ("push_str_with_capacity", pieces_push_str_with_capacity),
];

/// The tutorial's input: the numbers `0..n`.
#[must_use]
pub fn numbers(n: u64) -> Vec<u64> {
    (0..n).collect()
}

/// The tutorial's setup string list, `[str(x) for x in range(n)]`.
#[must_use]
pub fn pieces(n: u64) -> Vec<String> {
    (0..n).map(|x| x.to_string()).collect()
}

/// The exact length of all numbers written in decimal, so buffers can be
/// sized before formatting.
fn formatted_len(numbers: &[u64]) -> usize {
    numbers
        .iter()
        .map(|&x| x.checked_ilog10().map_or(1, |digits| digits as usize + 1))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formatting_strategy_matches_the_plain_one() {
        for n in [0, 1, 10, 1000] {
            let input = numbers(n);
            let expected = format_push_str(&input);
            for (name, strategy) in FORMATTING {
                assert_eq!(strategy(&input), expected, "{name} at n={n}");
            }
        }
    }

    #[test]
    fn every_joining_strategy_matches_the_plain_one() {
        for n in [0, 1, 10, 1000] {
            let input = pieces(n);
            let expected = pieces_push_str(&input);
            for (name, strategy) in JOINING {
                assert_eq!(strategy(&input), expected, "{name} at n={n}");
            }
        }
    }

    #[test]
    fn formatted_len_counts_digits_exactly() {
        let input = [0, 9, 10, 99, 100, u64::MAX];
        let written: usize = input.iter().map(|x| x.to_string().len()).sum();
        assert_eq!(formatted_len(&input), written);
    }

    #[test]
    fn the_tutorial_input_reads_as_expected() {
        assert_eq!(format_collect_join(&numbers(12)), "01234567891011");
    }
}
