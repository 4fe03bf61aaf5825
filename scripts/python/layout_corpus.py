"""Layout-only changes for scripts/track-layout-corpus, and the table of its trials.

`layout_corpus.py inject REPO NAME`: applies change NAME to the checkout at REPO. Each change
edits or adds a function that none of the measured benchmarks runs (the script's FILTER), so
every flag on a measured benchmark is false: it can only come from where the linker moved the
untouched code, or from the machine.

`layout_corpus.py table OUT`: one table of the trials in OUT, per rule.
"""
import json
import pathlib
import re
import sys

# name: (file, function whose body gets extra statements, or None to add a new function
# after `after`)
EXTRA = """    for step in 0..std::hint::black_box(3u64) {
        std::hint::black_box(step.wrapping_mul(0x9e37_79b9));
    }
"""
NEW_FUNCTION = """
/// Added by a layout-only change: nothing calls it, yet every function after it moves.
#[inline(never)]
pub fn layout_only_change(values: &[u64]) -> u64 {
    values.iter().fold(0u64, |acc, v| acc.rotate_left(5) ^ v.wrapping_mul(0x9e37_79b9))
}
"""
CHANGES = {
    "concat-add": ("crates/concat/src/lib.rs", "format_add"),
    "concat-collect": ("crates/concat/src/lib.rs", "pieces_collect"),
    "concat-new-fn": ("crates/concat/src/lib.rs", None, "format_push_str"),
    "vecmath-powf": ("crates/vecmath/src/lib.rs", "powf_range"),
    "vecmath-in-place": ("crates/vecmath/src/lib.rs", "in_place"),
    "vecmath-new-fn": ("crates/vecmath/src/lib.rs", None, "map_collect"),
    "sqrt-exp-ln": ("crates/sqrt/src/lib.rs", "exp_half_ln"),
    "sqrt-new-fn": ("crates/sqrt/src/lib.rs", None, "hardware"),
    "perceptron-score": ("crates/perceptron/src/model_selection.rs", "mean_and_std"),
}


def inject(repo, name):
    spec = CHANGES[name]
    path = pathlib.Path(repo) / spec[0]
    source = path.read_text()
    if spec[1] is not None:
        pattern = re.compile(r"(\npub fn " + spec[1] + r"\b[^{]*\{\n)")
        changed, count = pattern.subn(lambda m: m.group(1) + EXTRA, source)
    else:
        # After the whole function `after`: its closing brace is the first "\n}\n" past it.
        start = source.index("\npub fn " + spec[2])
        end = source.index("\n}\n", start) + 3
        changed, count = source[:end] + NEW_FUNCTION + source[end:], 1
    if count != 1:
        sys.exit(f"{name}: expected one match in {path}, found {count}")
    path.write_text(changed)


def table(out):
    out = pathlib.Path(out)
    rules = {}
    for report in sorted(out.glob("track-*-*.json")):
        _, rule, trial = report.stem.rsplit("-", 2)
        try:
            data = json.loads(report.read_text())
        except json.JSONDecodeError:
            continue
        flags = [b["id"] for b in data["benchmarks"] if b["verdict"] in ("regressed", "improved")]
        rules.setdefault(rule, []).append((int(trial), flags, len(data.get("identical_code", []))))
    criterion = []
    for path in sorted(out.glob("criterion-*.txt")):
        flags, current = [], None
        for line in path.read_text().splitlines():
            name = re.match(r"(\S+/\S+)", line)
            current = name.group(1) if name else current
            if "Performance has regressed" in line or "Performance has improved" in line:
                flags.append(current)
        criterion.append((int(path.stem.rsplit("-", 1)[1]), flags, 0))
    if criterion:
        rules["criterion"] = criterion
    changes = {}
    for line in (out / "changes").read_text().splitlines():
        trial, change = line.split()
        changes[int(trial)] = change
    print("| rule | trials | trials with a false flag | false flags | benchmarks not measured (identical code) |")
    print("|---|---:|---:|---:|---:|")
    for rule, trials in rules.items():
        with_flag = sum(1 for _, flags, _ in trials if flags)
        print(f"| {rule} | {len(trials)} | {with_flag} | {sum(len(f) for _, f, _ in trials)} | "
              f"{sum(i for _, _, i in trials)} |")
    print()
    print("| trial | change | " + " | ".join(rules) + " |")
    print("|---:|---|" + "---|" * len(rules))
    for trial in sorted(changes):
        cells = []
        for trials in rules.values():
            found = [flags for t, flags, _ in trials if t == trial]
            cells.append(", ".join(found[0]) or "none" if found else "-")
        print(f"| {trial} | {changes[trial]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if sys.argv[1] == "inject":
        inject(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit("usage: layout_corpus.py inject REPO NAME | table OUT")
