// proflab track report: draws the model embedded in #data (see timeline.rs
// for its fields). Plain DOM and SVG, no library, nothing fetched.
"use strict";

const DATA = JSON.parse(document.getElementById("data").textContent);
const MODEL = DATA.dashboard;
const SVG = "http://www.w3.org/2000/svg";
// More charts than this on first load would make a long page; the list picks more.
const FIRST_CHARTS = 8;

const state = {
  machine: 0,
  metric: "time_ns",
  scale: "linear",
  search: "",
  group: "",
  chosen: new Set(),
};

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// The units Criterion and callgrind use, written as the tables write them
// (`format_time` of crates/criterion-read, `format_value` of compare/format.rs:
// times to three significant digits, counts to two decimals); the dashboard's
// Chromium test holds the two to the same text.
function formatValue(metric, value) {
  if (value === null || !Number.isFinite(value)) return "–";
  if (metric === "instructions") {
    for (const [size, unit] of [[1e9, "GIr"], [1e6, "MIr"], [1e3, "KIr"]]) {
      if (value >= size) return (value / size).toFixed(2) + " " + unit;
    }
    return value.toFixed(0) + " Ir";
  }
  const rounded = roundSignificant(value, 3);
  for (const [size, unit] of [[1e9, "s"], [1e6, "ms"], [1e3, "µs"]]) {
    if (rounded >= size) return significant(rounded / size, 3) + " " + unit;
  }
  return significant(rounded, 3) + " ns";
}

function roundSignificant(value, digits) {
  if (value === 0 || !Number.isFinite(value)) return value;
  const scale = Math.pow(10, digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

// `value` to `digits` significant digits, without trailing zeros.
function significant(value, digits) {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  const text = value.toFixed(decimals);
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

function percent(ratio) {
  if (ratio === null || !Number.isFinite(ratio)) return "–";
  const p = (ratio - 1) * 100;
  return (p >= 0 ? "+" : "") + p.toFixed(1) + "%";
}

function change(ratio, low, high) {
  return percent(ratio) + " [" + percent(low) + ", " + percent(high) + "]";
}

function shortSha(sha) {
  return /^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 8) : sha;
}

// The commit's page on the forge, when the page knows the forge and `sha` is a SHA.
function commitUrl(sha) {
  if (!DATA.commit_url || !/^[0-9a-f]{7,64}$/.test(sha)) return null;
  return DATA.commit_url.split("{sha}").join(sha);
}

// A commit as shown everywhere: its short SHA, linked to the forge when known.
function commitLink(sha) {
  const code = el("code", { class: "sha", title: sha }, shortSha(sha));
  const href = commitUrl(sha);
  return href ? el("a", { href: href, class: "commit" }, code) : code;
}

function criterionLink(id) {
  const href = DATA.criterion[id];
  return href ? el("a", { href: href, class: "criterion" }, "Criterion") : null;
}

function groupOf(id) {
  const slash = id.indexOf("/");
  return slash < 0 ? id : id.slice(0, slash);
}

function machine() {
  return MODEL.machines[state.machine] || { machine: "", benchmarks: [] };
}

// What a benchmark's badge says: its last step's verdict, and a level shift if any.
function badges(bench) {
  const out = [];
  const last = bench.steps[bench.steps.length - 1];
  if (last && (last.verdict === "regressed" || last.verdict === "improved")) {
    out.push(el("span", { class: "badge " + last.verdict }, percent(last.ratio)));
  }
  if (bench.shifts.length) {
    out.push(el("span", { class: "badge shift", title: "change points on the line" },
      bench.shifts.length + " shift" + (bench.shifts.length > 1 ? "s" : "")));
  }
  return out;
}

function renderHeader() {
  const lead = MODEL.branch
    ? [
      "The first-parent line of ", el("code", {}, MODEL.branch), ": ",
      String(MODEL.commits.length), " recorded commits, oldest first, one line per machine. ",
      "Each point is the commit's median with its 95% interval. A step to the next recorded commit is ",
      "judged by a batch's paired rounds when one measured both (solid), otherwise from independent runs ",
      "(dashed, labelled unpaired). Red: a regression beyond " + (MODEL.threshold * 100).toFixed(1) +
      "% at q < " + MODEL.alpha + ". Purple dashes: change points (E-Divisive, permutation test at " +
      MODEL.change_alpha + ").",
    ]
    : ["No git repository: no branch line to draw. The batches are below."];
  document.body.prepend(
    el("h1", {}, "Benchmark history"),
    el("p", { class: "lead" }, ...lead),
  );
}

function radio(name, value, label, checked, disabled) {
  return el("label", {},
    el("input", { type: "radio", name: name, value: value, checked: checked, disabled: disabled }),
    " " + label);
}

function renderControls(root) {
  const machines = el("select", { id: "machine", "aria-label": "machine" },
    ...MODEL.machines.map((m, i) => el("option", { value: String(i) }, m.machine)));
  const hasMetric = (metric) => MODEL.machines.some(
    (m) => m.benchmarks.some((b) => b.metric === metric));
  if (!hasMetric("time_ns") && hasMetric("instructions")) state.metric = "instructions";
  const controls = el("div", { class: "controls" },
    el("fieldset", {}, el("legend", {}, "machine"), machines),
    el("fieldset", { id: "metric" }, el("legend", {}, "metric"),
      radio("metric", "time_ns", "time", state.metric === "time_ns", !hasMetric("time_ns")),
      " ",
      radio("metric", "instructions", "instructions", state.metric === "instructions",
        !hasMetric("instructions"))),
    el("fieldset", { id: "scale" }, el("legend", {}, "scale"),
      radio("scale", "linear", "linear", true), " ", radio("scale", "log", "log", false)),
  );
  root.append(controls);
  machines.addEventListener("change", () => {
    state.machine = Number(machines.value);
    state.chosen.clear();
    chooseDefaults();
    renderList();
    renderCharts();
  });
  controls.addEventListener("change", (event) => {
    const target = event.target;
    if (target.name === "metric") {
      state.metric = target.value;
      if (!visibleBenchmarks().some((b) => state.chosen.has(b.id))) chooseDefaults();
      renderGroups();
      renderList();
      renderCharts();
    } else if (target.name === "scale") {
      state.scale = target.value;
      renderCharts();
    }
  });
}

function visibleBenchmarks() {
  return machine().benchmarks.filter((b) => b.metric === state.metric);
}

// Charts the benchmarks of the shown metric that moved (a change point, or a
// step judged a change), else the first few.
function chooseDefaults() {
  const benches = visibleBenchmarks();
  const notable = benches.filter((b) => b.shifts.length ||
    b.steps.some((s) => s.verdict === "regressed" || s.verdict === "improved"));
  for (const bench of (notable.length ? notable : benches).slice(0, FIRST_CHARTS)) {
    state.chosen.add(bench.id);
  }
}

function renderGroups() {
  const select = document.getElementById("group");
  const groups = [...new Set(visibleBenchmarks().map((b) => groupOf(b.id)))].sort();
  if (!groups.includes(state.group)) state.group = "";
  select.replaceChildren(el("option", { value: "" }, "all groups"),
    ...groups.map((g) => el("option", { value: g, selected: g === state.group }, g)));
}

function renderList() {
  const list = document.getElementById("benchmarks");
  const needle = state.search.toLowerCase();
  let shown = 0;
  const benches = visibleBenchmarks();
  list.replaceChildren(...benches.map((bench) => {
    const matches = bench.id.toLowerCase().includes(needle) &&
      (!state.group || groupOf(bench.id) === state.group);
    if (matches) shown += 1;
    const box = el("input", { type: "checkbox", checked: state.chosen.has(bench.id) });
    box.addEventListener("change", () => {
      if (box.checked) state.chosen.add(bench.id);
      else state.chosen.delete(bench.id);
      renderCharts();
    });
    return el("li", { "data-id": bench.id, hidden: !matches },
      el("label", {}, box, el("span", { class: "id" }, bench.id), ...badges(bench)));
  }));
  document.getElementById("count").textContent =
    shown + " of " + benches.length + " benchmarks; tick one to chart it";
}

function renderListPanel(root) {
  const search = el("input", {
    type: "search", id: "search", placeholder: "search benchmarks", "aria-label": "search benchmarks",
  });
  const group = el("select", { id: "group", "aria-label": "group" });
  const aside = el("aside", { id: "list" }, search, group,
    el("p", { id: "count", class: "count" }), el("ul", { id: "benchmarks" }));
  search.addEventListener("input", () => {
    state.search = search.value;
    renderList();
  });
  group.addEventListener("change", () => {
    state.group = group.value;
    renderList();
  });
  root.append(aside);
}

function renderCharts() {
  const charts = document.getElementById("charts");
  const chosen = visibleBenchmarks().filter((b) => state.chosen.has(b.id));
  if (!chosen.length) {
    charts.replaceChildren(el("p", { class: "empty" },
      MODEL.commits.length ? "No benchmark chosen: tick one in the list." : "Nothing recorded on this line."));
    return;
  }
  charts.replaceChildren(...chosen.map(chart));
}

// One benchmark along the line: x is the commit's place among the recorded
// commits (shared by every chart), y its value on the chosen scale.
function chart(bench) {
  const width = 760, height = 260, left = 78, right = 48, top = 28, bottom = 44;
  const log = state.scale === "log";
  const lows = bench.points.map((p) => p.low), highs = bench.points.map((p) => p.high);
  let min = Math.min(...lows), max = Math.max(...highs);
  if (log) {
    min = Math.log(min);
    max = Math.log(max);
  }
  if (!(max > min)) {
    const pad = Math.abs(min) * 0.05 || 1;
    min -= pad;
    max += pad;
  }
  const span = max - min;
  const y = (v) => top + (height - top - bottom) * (1 - ((log ? Math.log(v) : v) - min) / span);
  const count = Math.max(MODEL.commits.length, 2);
  const x = (commit) => left + (width - left - right) * commit / (count - 1);
  const byCommit = new Map(bench.points.map((p) => [p.commit, p]));
  const into = new Map(bench.steps.map((s) => [s.to, s]));

  const plot = svg("svg", {
    viewBox: "0 0 " + width + " " + height, width: width, height: height,
    role: "img", "data-scale": state.scale, "aria-label": bench.id,
  });
  const fromValue = (v) => (log ? Math.exp(v) : v);
  plot.append(
    svg("text", { x: 4, y: top + 4, class: "axis-max" }, formatValue(bench.metric, fromValue(max))),
    svg("text", { x: 4, y: height - bottom, class: "axis-min" }, formatValue(bench.metric, fromValue(min))),
    svg("text", { x: 4, y: (top + height - bottom) / 2 }, log ? "log scale" : "linear"),
  );
  for (const step of bench.steps) {
    const a = byCommit.get(step.from), b = byCommit.get(step.to);
    const line = svg("line", {
      x1: x(a.commit), y1: y(a.estimate), x2: x(b.commit), y2: y(b.estimate),
      class: "step " + step.verdict + (step.batch === null ? " unpaired" : " paired"),
    });
    line.append(svg("title", {}, change(step.ratio, step.ci_low, step.ci_high) + " " + step.verdict +
      (step.batch === null ? ", unpaired (independent runs)" : ", paired in batch #" + step.batch)));
    plot.append(line);
    if (step.batch === null) {
      plot.append(svg("text", {
        x: (x(a.commit) + x(b.commit)) / 2, y: Math.min(y(a.estimate), y(b.estimate)) - 6,
        "text-anchor": "middle", class: "unpaired-label",
      }, "unpaired"));
    }
  }
  const labelEvery = Math.ceil(bench.points.length / 16);
  bench.points.forEach((p, i) => {
    const cx = x(p.commit), step = into.get(p.commit);
    plot.append(svg("line", { x1: cx, x2: cx, y1: y(p.low), y2: y(p.high), class: "whisker" }));
    const dot = svg("circle", {
      cx: cx, cy: y(p.estimate), r: 4, class: "point " + (step ? step.verdict : "first"),
      "data-commit": MODEL.commits[p.commit].sha,
    });
    dot.append(svg("title", {}, shortSha(MODEL.commits[p.commit].sha) + " " + MODEL.commits[p.commit].subject +
      ": " + formatValue(bench.metric, p.estimate) + " [" + formatValue(bench.metric, p.low) + ", " +
      formatValue(bench.metric, p.high) + "]"));
    plot.append(dot);
    if (i % labelEvery === 0 || i === bench.points.length - 1) {
      const sha = MODEL.commits[p.commit].sha;
      const label = svg("text", { x: cx, y: height - bottom + 16, "text-anchor": "middle" }, shortSha(sha));
      const href = commitUrl(sha);
      if (href) {
        const link = svg("a", { href: href, class: "commit" });
        link.append(label);
        plot.append(link);
      } else {
        plot.append(label);
      }
    }
  });
  for (const shift of bench.shifts) {
    const at = (x(shift.before) + x(shift.after)) / 2;
    const line = svg("line", { x1: at, x2: at, y1: top - 10, y2: height - bottom, class: "shift" });
    line.append(svg("title", {}, "level shift " + percent(shift.ratio) + " between " +
      shortSha(MODEL.commits[shift.before].sha) + " and " + shortSha(MODEL.commits[shift.after].sha) +
      " (confidence " + shift.confidence.toFixed(3) + ")"));
    plot.append(line, svg("text", { x: at, y: top - 14, "text-anchor": "middle", class: "shift-label" },
      percent(shift.ratio)));
  }
  const caption = el("figcaption", {});
  if (bench.shifts.length) {
    bench.shifts.forEach((shift, i) => caption.append(i ? "; " : "Change points: ",
      percent(shift.ratio) + " in ", commitLink(MODEL.commits[shift.before].sha), "..",
      commitLink(MODEL.commits[shift.after].sha), " (confidence " + shift.confidence.toFixed(3) + ")"));
  } else {
    caption.append("No change point on this line.");
  }
  return el("figure", { class: "chart", "data-id": bench.id },
    el("h3", {}, bench.id, " ", criterionLink(bench.id)), plot, caption);
}

function renderCommits(root) {
  const rows = MODEL.commits.slice().reverse().map((c) => el("tr", { "data-sha": c.sha },
    el("td", {}, commitLink(c.sha)), el("td", { class: "text" }, c.date),
    el("td", { class: "text" }, c.subject)));
  root.append(el("section", { id: "commits" },
    el("h2", {}, "Commits on the line, newest first"),
    rows.length
      ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "commit"), el("th", { class: "text" }, "date"),
        el("th", { class: "text" }, "subject"))), el("tbody", {}, ...rows))
      : el("p", { class: "empty" }, "No recorded commit on this line.")));
}

function idList(title, ids) {
  if (!ids.length) return null;
  return el("div", { class: "ids " + title.split(" ")[0] },
    el("strong", {}, title + " (" + ids.length + ")"),
    el("ul", {}, ...ids.map((id) => el("li", {}, el("code", {}, id), " ", criterionLink(id)))));
}

function batchCard(batch) {
  const report = batch.report;
  const counts = {};
  for (const c of report.benchmarks) counts[c.verdict] = (counts[c.verdict] || 0) + 1;
  const tally = ["regressed", "improved", "inconclusive", "unchanged"]
    .filter((v) => counts[v]).map((v) => el("span", { class: v }, counts[v] + " " + v));
  const summary = el("summary", {}, "Batch #" + batch.id + " ", commitLink(report.a), " → ",
    commitLink(report.b), batch.complete ? "" : " (interrupted)", ": ");
  tally.forEach((t, i) => summary.append(i ? ", " : "", t));
  if (!tally.length) summary.append("nothing compared");
  const when = new Date(batch.time * 1000).toISOString().slice(0, 16).replace("T", " ");
  const rows = report.benchmarks.map((c) => el("tr", { "data-id": c.id, "data-verdict": c.verdict },
    el("td", {}, c.id), el("td", {}, formatValue(c.metric, c.a_median)),
    el("td", {}, formatValue(c.metric, c.b_median)), el("td", {}, change(c.ratio, c.ci_low, c.ci_high)),
    el("td", { class: c.verdict }, c.verdict),
    el("td", {}, String(c.rounds) + (c.set_aside ? " (" + c.set_aside + " set aside)" : "")),
    el("td", {}, criterionLink(c.id))));
  return el("details", { class: "batch", id: "batch-" + batch.id },
    summary,
    el("p", { class: "meta" }, "A ", commitLink(report.a), ", B ", commitLink(report.b),
      "; started " + when + " UTC; layouts: " + (batch.layouts || "not recorded") +
      "; machine: " + (batch.machines.join(", ") || "–")),
    rows.length
      ? el("table", { class: "verdicts" }, el("thead", {}, el("tr", {},
        el("th", {}, "benchmark"), el("th", {}, "A"), el("th", {}, "B"), el("th", {}, "B/A (95% CI)"),
        el("th", {}, "verdict"), el("th", {}, "rounds"), el("th", {}, ""))), el("tbody", {}, ...rows))
      : null,
    idList("added in B", report.added),
    idList("removed in B", report.removed),
    idList("identical code, not measured", report.identical_code));
}

function renderBatches(root) {
  root.append(el("section", { id: "batches" },
    el("h2", {}, "Batches (track run), newest first"),
    MODEL.batches.length
      ? el("div", {}, ...MODEL.batches.map(batchCard))
      : el("p", { class: "empty" }, "No batch recorded.")));
  // A link to #batch-N opens that batch.
  const opened = document.getElementById(location.hash.slice(1));
  if (opened && opened.tagName === "DETAILS") opened.open = true;
}

function main() {
  const root = el("main", {});
  document.body.append(root);
  renderHeader();
  renderControls(root);
  const layout = el("div", { class: "layout" });
  root.append(layout);
  renderListPanel(layout);
  layout.append(el("section", { id: "charts" }));
  renderCommits(root);
  renderBatches(root);
  root.append(el("footer", {}, "Written by proflab track report. Static: it works offline."));
  chooseDefaults();
  renderGroups();
  renderList();
  renderCharts();
}

main();
