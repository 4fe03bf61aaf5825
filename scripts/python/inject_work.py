"""Makes real strategies of this repository do more of their own work, for
scripts/track-sensitivity's real mode: `inject_work.py REPO NAME:PERCENT ...`.

Each injection repeats PERCENT% of the strategy's own loop (formatting more
numbers, taking more square roots) and then undoes its effect on the result,
so the output is unchanged and only the cost moves: no spin loops. An
injection that does not match the source exactly once stops the script.
"""
import pathlib
import sys

# name: (file, the function's original tail, the tail with the extra work; {p} is the percent)
INJECTIONS = {
    # Allocation-heavy: one temporary String per extra number, and the result may regrow.
    "format_push_str": (
        "crates/concat/src/lib.rs",
        """pub fn format_push_str(numbers: &[u64]) -> String {
    let mut s = String::new();
    for x in numbers {
        s.push_str(&x.to_string());
    }
    s
}""",
        """pub fn format_push_str(numbers: &[u64]) -> String {
    let mut s = String::new();
    for x in numbers {
        s.push_str(&x.to_string());
    }
    let len = s.len();
    // The last numbers: as many digits as most (the first ones are shorter and cheaper).
    for x in &numbers[numbers.len() - numbers.len() * {p} / 1000..] {
        s.push_str(&x.to_string());
    }
    s.truncate(len);
    s
}""",
    ),
    # Compute-bound: the square-root unit's throughput, in cache.
    "zip_into": (
        "crates/vecmath/src/lib.rs",
        """pub fn zip_into(input: &[f64], output: &mut [f64]) {
    for (out, x) in output.iter_mut().zip(input) {
        *out = x.sqrt();
    }
}""",
        """pub fn zip_into(input: &[f64], output: &mut [f64]) {
    for (out, x) in output.iter_mut().zip(input) {
        *out = x.sqrt();
    }
    let output = std::hint::black_box(output);
    for (out, x) in output.iter_mut().zip(input).take(input.len() * {p} / 1000) {
        *out = x.sqrt();
    }
}""",
    ),
    # Memory-bound: ten million values read and written back.
    "in_place": (
        "crates/vecmath/src/lib.rs",
        """pub fn in_place(values: &mut [f64]) {
    for x in values.iter_mut() {
        *x = x.sqrt();
    }
}""",
        """pub fn in_place(values: &mut [f64]) {
    for x in values.iter_mut() {
        *x = x.sqrt();
    }
    let extra = values.len() * {p} / 1000;
    let values = std::hint::black_box(values);
    // The first values: long evicted from cache, so each costs what the others did.
    for x in values[..extra].iter_mut() {
        *x = x.sqrt();
    }
}""",
    ),
}


def main():
    repo = pathlib.Path(sys.argv[1])
    for spec in sys.argv[2:]:
        name, percent = spec.split(":")
        path, before, after = INJECTIONS[name]
        file = repo / path
        text = file.read_text()
        if text.count(before) != 1:
            sys.exit(f"inject_work: `{name}` does not match {path} exactly once; update INJECTIONS")
        # Tenths of a percent, so 2.5 works too.
        permille = round(float(percent) * 10)
        file.write_text(text.replace(before, after.replace("{p}", str(permille))))


main()
