//! The one way proflab prints a time Criterion measured.

/// A time in nanoseconds to three significant digits, without trailing
/// zeros (Python's `%.3g`, as `timeit` prints), in the largest unit it
/// reaches: the precision a median's 95% interval on a shared machine
/// supports, and narrow enough for a table column. Rounded before the unit
/// is chosen, so 999.7 ns reads `1 µs`, not `1000 ns`.
///
/// ```
/// assert_eq!(proflab_criterion_read::format_time(1234.5), "1.23 µs");
/// assert_eq!(proflab_criterion_read::format_time(0.5), "0.5 ns");
/// ```
#[must_use]
pub fn format_time(ns: f64) -> String {
    let rounded = round_significant(ns, 3);
    let (scale, unit) = [(1e9, "s"), (1e6, "ms"), (1e3, "µs")]
        .into_iter()
        .find(|(scale, _)| rounded >= *scale)
        .unwrap_or((1.0, "ns"));
    format!("{} {unit}", significant(rounded / scale, 3))
}

/// `value` rounded to `digits` significant digits.
fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

/// `value` written to `digits` significant digits, without trailing zeros.
fn significant(value: f64, digits: i32) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn three_significant_digits_in_every_unit() {
        assert_eq!(format_time(12.345), "12.3 ns");
        assert_eq!(format_time(101.72), "102 ns");
        assert_eq!(format_time(999.0), "999 ns");
        assert_eq!(format_time(1_500.0), "1.5 µs");
        assert_eq!(format_time(12_345_678.0), "12.3 ms");
        assert_eq!(format_time(2.5e9), "2.5 s");
        assert_eq!(format_time(1234.0e9), "1230 s");
    }

    #[test]
    fn trailing_zeros_are_dropped_and_small_times_keep_their_digits() {
        assert_eq!(format_time(1000.0), "1 µs");
        assert_eq!(format_time(0.5), "0.5 ns");
        assert_eq!(format_time(0.012_345), "0.0123 ns");
    }

    #[test]
    fn rounding_up_to_the_next_unit_takes_that_unit() {
        assert_eq!(format_time(999.7), "1 µs");
        assert_eq!(format_time(999_960.0), "1 ms");
        assert_eq!(format_time(1e9 - 1.0), "1 s");
    }
}
