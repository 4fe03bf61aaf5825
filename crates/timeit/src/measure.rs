//! timeit's protocol: autorange, repeat, and CPython's report line.

/// Runs the statement `number` times and says how long that took, in seconds.
pub trait Timer {
    /// The error a run can fail with.
    type Error;
    /// Seconds taken by `number` executions of the statement.
    ///
    /// # Errors
    /// When the timed program fails.
    fn time(&mut self, number: u64) -> Result<f64, Self::Error>;
}

/// What [`measure`] found: the loop count and each repetition's total time.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Executions per repetition.
    pub number: u64,
    /// Seconds per repetition (for `number` executions).
    pub raw_timings: Vec<f64>,
}

impl Measurement {
    /// Seconds per execution in the best repetition.
    #[must_use]
    pub fn best(&self) -> f64 {
        self.per_loop().fold(f64::INFINITY, f64::min)
    }

    /// Seconds per execution in the worst repetition.
    #[must_use]
    pub fn worst(&self) -> f64 {
        self.per_loop().fold(0.0, f64::max)
    }

    fn per_loop(&self) -> impl Iterator<Item = f64> + '_ {
        self.raw_timings.iter().map(|t| t / self.number as f64)
    }
}

/// CPython's `Timer.autorange`: loop counts 1, 2, 5, 10, 20, 50, ... until
/// one run takes at least 0.2 seconds.
///
/// # Errors
/// The timer's first error.
pub fn autorange<T: Timer>(timer: &mut T) -> Result<u64, T::Error> {
    let mut scale = 1u64;
    loop {
        for factor in [1, 2, 5] {
            let number = scale * factor;
            if timer.time(number)? >= 0.2 {
                return Ok(number);
            }
        }
        scale = scale.saturating_mul(10);
    }
}

/// `python -m timeit`'s measurement: `number` loops (or autorange's when
/// `None`), repeated `repeat` times.
///
/// # Errors
/// The timer's first error.
pub fn measure<T: Timer>(
    timer: &mut T,
    number: Option<u64>,
    repeat: usize,
) -> Result<Measurement, T::Error> {
    let number = match number {
        Some(number) => number,
        None => autorange(timer)?,
    };
    let raw_timings = (0..repeat)
        .map(|_| timer.time(number))
        .collect::<Result<_, _>>()?;
    Ok(Measurement {
        number,
        raw_timings,
    })
}

/// Where [`measure_side_by_side`] has got to, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Each statement's loop count is being chosen (autorange).
    ChoosingLoopCounts,
    /// Repetition `number` of `of` is being timed, for every statement.
    Repetition { number: usize, of: usize },
}

/// Several statements timed together, as `timeit --compare` does: each gets
/// its own loop count (`number`, or autorange's), then the repetitions take
/// turns between the statements, so that a change in the machine's speed
/// during the run touches them all alike. One statement is plain
/// [`measure`].
///
/// # Errors
/// The first timer error.
pub fn measure_side_by_side<T: Timer>(
    timers: &mut [T],
    number: Option<u64>,
    repeat: usize,
    mut progress: impl FnMut(Progress),
) -> Result<Vec<Measurement>, T::Error> {
    progress(Progress::ChoosingLoopCounts);
    let mut measurements = timers
        .iter_mut()
        .map(|timer| measure(timer, number, 0))
        .collect::<Result<Vec<_>, _>>()?;
    for round in 0..repeat {
        progress(Progress::Repetition {
            number: round + 1,
            of: repeat,
        });
        for (timer, measurement) in timers.iter_mut().zip(&mut measurements) {
            measurement
                .raw_timings
                .push(timer.time(measurement.number)?);
        }
    }
    Ok(measurements)
}

/// The best time per loop of the fastest statement: what `--compare`'s
/// ratios divide by.
#[must_use]
pub fn fastest_best(measurements: &[Measurement]) -> f64 {
    measurements
        .iter()
        .map(Measurement::best)
        .fold(f64::INFINITY, f64::min)
}

/// CPython's `format_time`: the largest unit the time reaches, 3
/// significant digits (`%.3g`).
#[must_use]
pub fn format_time(seconds: f64) -> String {
    const UNITS: [(&str, f64); 4] = [("sec", 1.0), ("msec", 1e-3), ("usec", 1e-6), ("nsec", 1e-9)];
    let (unit, scale) = UNITS
        .iter()
        .find(|(_, scale)| seconds >= *scale)
        .copied()
        .unwrap_or(UNITS[3]);
    format!("{} {unit}", format_g(seconds / scale, 3))
}

/// The report line: `20000 loops, best of 5: 10.3 usec per loop`.
#[must_use]
pub fn format_report(measurement: &Measurement) -> String {
    let plural = if measurement.number == 1 { "" } else { "s" };
    format!(
        "{} loop{plural}, best of {}: {} per loop",
        measurement.number,
        measurement.raw_timings.len(),
        format_time(measurement.best())
    )
}

/// timeit's warning when the worst repetition is over four times the best.
#[must_use]
pub fn unreliable_warning(measurement: &Measurement) -> Option<String> {
    let (best, worst) = (measurement.best(), measurement.worst());
    (worst >= best * 4.0).then(|| {
        format!(
            "The test results are likely unreliable. The worst time ({}) was more than four times slower than the best time ({}).",
            format_time(worst),
            format_time(best)
        )
    })
}

/// C's `%.{precision}g`, as Python formats it.
fn format_g(x: f64, precision: usize) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    let scientific = format!("{:.*e}", precision.saturating_sub(1), x);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("{:e} always has an exponent");
    let exponent: i32 = exponent.parse().expect("the exponent is an integer");
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_fraction(mantissa), exponent.abs())
    } else {
        let decimals = usize::try_from(precision as i32 - 1 - exponent).unwrap_or(0);
        trim_fraction(&format!("{x:.decimals$}"))
    }
}

fn trim_fraction(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_formatting_matches_c() {
        // Expected values are Python's "%.3g" % x.
        for (x, expected) in [
            (10.3, "10.3"),
            (10.0, "10"),
            (1.0, "1"),
            (999.4, "999"),
            (999.6, "1e+03"),
            (0.5, "0.5"),
            (0.000_123_4, "0.000123"),
            (0.000_012_34, "1.23e-05"),
            (123.456, "123"),
            (12.345, "12.3"),
        ] {
            assert_eq!(format_g(x, 3), expected, "{x}");
        }
    }

    #[test]
    fn times_use_the_largest_unit_reached() {
        assert_eq!(format_time(10.3e-6), "10.3 usec");
        assert_eq!(format_time(1.5), "1.5 sec");
        assert_eq!(format_time(2.5e-3), "2.5 msec");
        assert_eq!(format_time(4.2e-9), "4.2 nsec");
        assert_eq!(format_time(4.2e-10), "0.42 nsec");
    }

    /// A statement that takes a fixed time per loop.
    struct Constant {
        per_loop: f64,
        calls: Vec<u64>,
    }

    impl Timer for Constant {
        type Error = ();
        fn time(&mut self, number: u64) -> Result<f64, ()> {
            self.calls.push(number);
            Ok(self.per_loop * number as f64)
        }
    }

    #[test]
    fn autorange_steps_one_two_five_until_a_fifth_of_a_second() {
        let mut timer = Constant {
            per_loop: 1e-5,
            calls: Vec::new(),
        };
        let measurement = measure(&mut timer, None, 5).expect("no error");
        assert_eq!(measurement.number, 20_000);
        assert_eq!(
            timer.calls[..12],
            [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
        );
        assert_eq!(timer.calls.len(), 14 + 5);
        assert_eq!(
            format_report(&measurement),
            "20000 loops, best of 5: 10 usec per loop"
        );
        assert_eq!(unreliable_warning(&measurement), None);
    }

    #[test]
    fn a_given_number_skips_autorange_and_one_loop_is_singular() {
        let mut timer = Constant {
            per_loop: 2.0,
            calls: Vec::new(),
        };
        let measurement = measure(&mut timer, Some(1), 3).expect("no error");
        assert_eq!(timer.calls, [1, 1, 1]);
        assert_eq!(
            format_report(&measurement),
            "1 loop, best of 3: 2 sec per loop"
        );
    }

    #[test]
    fn statements_side_by_side_take_turns_after_their_own_loop_counts() {
        let mut timers = [
            Constant {
                per_loop: 1e-5,
                calls: Vec::new(),
            },
            Constant {
                per_loop: 1e-3,
                calls: Vec::new(),
            },
        ];
        let mut seen = Vec::new();
        let measurements =
            measure_side_by_side(&mut timers, None, 2, |progress| seen.push(progress))
                .expect("no error");
        assert_eq!(
            seen,
            [
                Progress::ChoosingLoopCounts,
                Progress::Repetition { number: 1, of: 2 },
                Progress::Repetition { number: 2, of: 2 },
            ]
        );
        let numbers: Vec<u64> = measurements.iter().map(|m| m.number).collect();
        assert_eq!(numbers, [20_000, 200]);
        assert!(measurements.iter().all(|m| m.raw_timings.len() == 2));
        // After autorange, each timer ran its own count once per repetition.
        assert_eq!(
            timers[0].calls[timers[0].calls.len() - 2..],
            [20_000, 20_000]
        );
        assert_eq!(timers[1].calls[timers[1].calls.len() - 2..], [200, 200]);
        assert!((fastest_best(&measurements) - 1e-5).abs() < 1e-12);
    }

    #[test]
    fn a_widely_spread_run_is_flagged_unreliable() {
        let measurement = Measurement {
            number: 10,
            raw_timings: vec![1e-3, 5e-3],
        };
        let warning = unreliable_warning(&measurement).expect("flagged");
        assert!(
            warning.contains("worst time (500 usec)") && warning.contains("best time (100 usec)"),
            "{warning}"
        );
    }
}
