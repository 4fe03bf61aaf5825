//! Values as the printed reports show them, with the unit that keeps them readable.

use proflab_criterion_read::format_time;

use crate::Metric;

/// Formats a value of `metric` with the unit that keeps it readable.
pub(crate) fn format_value(metric: Metric, value: f64) -> String {
    match metric {
        Metric::TimeNs => format_time(value),
        Metric::Instructions => format_instructions(value),
    }
}

/// Instruction counts with an SI prefix, `Ir` as callgrind names the event.
fn format_instructions(count: f64) -> String {
    match count {
        n if n < 1e3 => format!("{n:.0} Ir"),
        n if n < 1e6 => format!("{:.2} KIr", n / 1e3),
        n if n < 1e9 => format!("{:.2} MIr", n / 1e6),
        n => format!("{:.2} GIr", n / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::format_instructions;

    #[test]
    fn counts_pick_a_readable_prefix() {
        assert_eq!(format_instructions(812.0), "812 Ir");
        assert_eq!(format_instructions(41_250.0), "41.25 KIr");
        assert_eq!(format_instructions(3.5e9), "3.50 GIr");
    }
}
