//! Text from files we did not write (benchmark ids, function names in a
//! profile) as a terminal, a log or a line-based format may carry it.

use std::borrow::Cow;

/// `text` with its control characters (a newline, a terminal escape, NUL)
/// written as Rust escapes (`\n`, `\u{1b}`, `\0`), so stored text cannot fake
/// a line, end a record of a line-based format or recolour a terminal.
#[must_use]
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_is_kept() {
        assert_eq!(
            printable("g/a\nrecorded run 999: \x1b[31mfake\0"),
            "g/a\\nrecorded run 999: \\u{1b}[31mfake\\u{0}"
        );
        assert_eq!(printable("ünïcode \\ \"quoted\""), "ünïcode \\ \"quoted\"");
        assert!(matches!(printable("plain"), Cow::Borrowed("plain")));
    }
}
