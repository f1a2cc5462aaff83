// The status page's script: node-status.ts inlines it into page.html, so the page is one response.

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "style") e.style.cssText = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
};
const fmtBytes = (n) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
};
const pct = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(x >= 0.995 || x === 0 ? 0 : 1)}%`);
const fmtDuration = (ms) => {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
};
let self = null;

function bar(parts) {
  const b = el("div", { class: "bar" });
  let left = 0;
  for (const [fraction, cls] of parts) {
    const w = fraction > 0 ? Math.max(0.4, Math.min(1, fraction) * 100) : 0; // a sliver stays visible
    b.append(el("span", { class: cls || "", style: `left:${left}%;width:${w}%` }));
    left += w;
  }
  return b;
}

function renderPeers(report) {
  const body = $("peers");
  body.replaceChildren();
  if (report.peers.length === 0) {
    body.append(
      el("tr", {}, el("td", { colspan: 5, class: "help" }, "A single node without peers: it owns every key.")),
    );
    return;
  }
  for (const p of report.peers) {
    const label = { self: "this node", up: "up", down: "down", unknown: "unknown" }[p.state];
    const title =
      p.state === "unknown"
        ? "metrics are off on this node, so peer failures are not tracked"
        : p.lastErrorAt
          ? `last failure ${new Date(p.lastErrorAt).toLocaleTimeString()}`
          : "no failed request so far";
    body.append(
      el(
        "tr",
        {},
        el("td", { class: "url" }, p.url),
        el("td", { class: "num" }, pct(p.share)),
        el("td", { class: "sharebar", style: "width:25%" }, bar([[p.share]])),
        el("td", {}, el("span", { class: `badge ${p.state}`, title }, label)),
        el("td", { class: "num" }, p.state === "self" ? "–" : p.errors),
      ),
    );
  }
}

function renderSnapshot(report) {
  const s = report.snapshot;
  const run = (what, r) =>
    r
      ? `${what} ${r.entries} entries (${(r.bytes / 1048576).toFixed(1)} MiB) in ${r.ms} ms at ${new Date(r.at).toLocaleTimeString()}`
      : "";
  const text = s ? [run("loaded", s.loaded), run("saved", s.saved)].filter(Boolean).join("; ") : "";
  $("snapshot").textContent = s ? `Snapshot: ${text || "none loaded or saved yet"}.` : "";
}

function renderWorkers(report) {
  const w = report.workers;
  const all = w ? w.reduce((n, x) => n + x.requests, 0) || 1 : 1;
  const each = w
    ? w.map((x) => `#${x.id} ${pct(x.requests / all)}${x.restarts ? ` (${x.restarts} restarts)` : ""}`)
    : [];
  $("workers").textContent = w ? `Workers: ${w.length}; requests by worker: ${each.join(", ")}.` : "";
}

function renderMembership(report) {
  renderSnapshot(report);
  renderWorkers(report);
  const m = report.membership;
  const down = report.peers.filter((p) => p.state === "down").map((p) => p.url);
  $("membership").textContent = !m
    ? ""
    : `${down.length ? `Down: ${down.join(", ")}. ` : "No node is down. "}Membership changes since start: ${m.changes}. Handoff peeks (a new owner asking the previous one before loading): ${m.handoff.peeks}, ${m.handoff.peekHits} found, ${m.handoff.peekErrors} failed.`;
}

let clusterBusy = false; // one /cluster.json at a time: a slow peer must not pile them up
async function refreshCluster() {
  if (clusterBusy) return;
  clusterBusy = true;
  try {
    const res = await fetch("cluster.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`cluster.json answered ${res.status}`);
    const c = await res.json();
    const t = c.totals;
    const cell = (k, v, id) => el("div", {}, el("span", { class: "k" }, k), el("span", { class: "big", id }, v));
    $("totals").replaceChildren(
      cell("Nodes answering", `${c.answered} of ${c.nodes.length}`, "totals-nodes"),
      cell("Gets", String(t.gets), "totals-gets"),
      cell("Hit ratio", pct(t.hitRatio), "totals-ratio"),
      cell("Memory", `${fmtBytes(t.bytes)} of ${fmtBytes(t.budget)}`, "totals-memory"),
      ...(c.groups.length > 1 ? c.groups.map((g) => cell(`group ${g.name}`, `${pct(g.hitRatio)} of ${g.gets}`)) : []),
    );
    const missing = c.nodes.filter((n) => !n.ok);
    $("totals-note").textContent = missing.length
      ? `Not counted: ${missing.map((n) => `${n.url} (${n.error})`).join("; ")}`
      : "";
  } catch (err) {
    $("totals-note").textContent = `cannot gather the cluster: ${err.message}`;
  } finally {
    clusterBusy = false;
  }
}

function renderGroups(report) {
  const box = $("groups");
  box.replaceChildren();
  const select = $("group");
  const chosen = select.value;
  if (select.options.length !== report.groups.length) {
    select.replaceChildren(...report.groups.map((g) => el("option", { value: g.name }, g.name)));
    if (chosen) select.value = chosen;
  }
  for (const g of report.groups) {
    const used = g.bytes.main + g.bytes.hot;
    const budget = g.bytes.budget || 1;
    box.append(
      el(
        "div",
        { class: "group" },
        el("h3", {}, `group `, el("span", { class: "mono" }, g.name)),
        el(
          "div",
          { class: "kv" },
          el("span", { class: "k" }, "Hit ratio"),
          el(
            "span",
            {},
            el("span", { class: "big" }, pct(g.hitRatio)),
            `  ${g.cacheHits} of ${g.gets} gets came from memory`,
          ),
          el("span", { class: "k" }, "Misses"),
          el("span", {}, missText(g)),
          el("span", { class: "k" }, "Memory"),
          el(
            "span",
            {},
            `${fmtBytes(used)} of ${fmtBytes(g.bytes.budget)} (${pct(used / budget)}), ${plural(g.items, "entry", "entries")} — main ${fmtBytes(g.bytes.main)}, hot ${fmtBytes(g.bytes.hot)}`,
          ),
          el("span", {}, ""),
          bar([[g.bytes.main / budget], [g.bytes.hot / budget, "hot"]]),
        ),
      ),
    );
  }
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
function missText(g) {
  if (g.loads === 0) return "no misses yet";
  const other = g.loads - g.peerLoads - g.localLoads;
  const parts = [`${g.peerLoads} fetched from the owning peer`, `${g.localLoads} read from the source by this node`];
  if (other > 0) parts.push(`${other} not found or failed (or waiting on the same load)`);
  return `${plural(g.loads, "load", "loads")}: ${parts.join(", ")}`;
}

function renderChart(report) {
  const svg = $("chart");
  const W = svg.clientWidth || 1000,
    H = 200,
    padL = 40,
    padB = 18,
    padT = 8;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const samples = report.history.samples;
  const full = report.history.intervalMs * 150;
  const span = Math.min(full, Math.max(20_000, report.now - report.startedAt));
  const t1 = report.now,
    t0 = t1 - span;
  const max = Math.max(1, ...samples.map((s) => Math.max(s.getsPerSecond, s.loadsPerSecond)));
  const top = niceCeil(max);
  const x = (t) => padL + ((t - t0) / span) * (W - padL - 4);
  const y = (v) => padT + (1 - v / top) * (H - padT - padB);
  const ns = "http://www.w3.org/2000/svg";
  const s = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  svg.replaceChildren();
  for (const f of [0, 0.5, 1]) {
    svg.append(s("line", { x1: padL, x2: W, y1: y(top * f), y2: y(top * f), stroke: "#e2e6eb" }));
    svg.append(s("text", { x: padL - 6, y: y(top * f) + 4, "text-anchor": "end" }, formatRate(top * f)));
  }
  for (const [label, at] of [
    [`${fmtDuration(span)} ago`, t0],
    ["now", t1],
  ]) {
    svg.append(s("text", { x: at === t0 ? padL : W - 4, y: H - 4, "text-anchor": at === t0 ? "start" : "end" }, label));
  }
  for (const [key, color] of [
    ["getsPerSecond", "#2f6fde"],
    ["loadsPerSecond", "#e08a2e"],
  ]) {
    const shown = samples.filter((p) => p.t >= t0);
    const pts = shown.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`);
    if (pts.length > 1)
      svg.append(
        s("polyline", {
          points: pts.join(" "),
          fill: "none",
          stroke: color,
          "stroke-width": 2,
          "vector-effect": "non-scaling-stroke",
        }),
      );
    const end = shown[shown.length - 1];
    if (end) svg.append(s("circle", { cx: x(end.t), cy: y(end[key]), r: 4, fill: color }));
  }
  const last = samples[samples.length - 1];
  $("chart-note").textContent = last
    ? `latest: ${formatRate(last.getsPerSecond)} gets/s, ${formatRate(last.loadsPerSecond)} loads/s`
    : "waiting for the first samples…";
}
function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
function formatRate(v) {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2).replace(/\.?0+$/, "");
}

async function refresh() {
  try {
    const res = await fetch("status.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`status.json answered ${res.status}`);
    const report = await res.json();
    self = report.self;
    $("self").textContent = report.self || "(no peers configured)";
    const ready = $("ready");
    ready.textContent = report.ready ? "ready" : "not ready";
    ready.className = `badge ${report.ready ? "ready" : "notready"}`;
    $("meta").textContent =
      `up ${fmtDuration(report.now - report.startedAt)} · refreshed ${new Date(report.now).toLocaleTimeString()}`;
    renderPeers(report);
    renderMembership(report);
    void refreshCluster();
    renderGroups(report);
    renderChart(report);
  } catch (err) {
    $("meta").textContent = `cannot reach this node: ${err.message}`;
    $("ready").className = "badge notready";
    $("ready").textContent = "unreachable";
  }
}

const WHERE = {
  main: "in the main cache (keys the node owns)",
  hot: "in the hot cache (a copy of another node's key)",
};
const heldBadge = (h, id) => [
  el(
    "span",
    { class: `badge ${h.cached ? "hit" : h.error ? "error" : "miss"}`, id },
    h.cached ? h.where : h.error ? "unknown" : "not cached",
  ),
  h.cached ? `  ${WHERE[h.where] || ""}` : h.error ? `  ${h.error}` : "",
];

async function lookup(event) {
  event.preventDefault();
  const key = $("key").value;
  const group = $("group").value;
  const out = $("lookup-result");
  out.replaceChildren(el("p", { class: "help" }, "asking…"));
  const rows = [];
  const row = (k, ...v) => rows.push(el("span", { class: "k" }, k), el("span", {}, ...v));
  try {
    const res = await fetch(
      `status/lookup?key=${encodeURIComponent(key)}${group ? `&group=${encodeURIComponent(group)}` : ""}`,
      { cache: "no-store" },
    );
    row("Key", el("span", { class: "mono", id: "lookup-key" }, key));
    if (!res.ok) {
      row(
        "Answer",
        el("span", { class: "badge error", id: "lookup-cache" }, String(res.status)),
        `  ${(await res.text()).trim() || res.statusText}`,
      );
    } else {
      const r = await res.json();
      row(
        "Owner",
        el("span", { class: "mono", id: "lookup-owner" }, r.owner || self || "this node"),
        r.owner && r.owner === self ? "  (this node)" : "",
      );
      row("This node", ...heldBadge(r.here, "lookup-cache"));
      if (r.atOwner) row("The owner", ...heldBadge(r.atOwner, "lookup-owner-cache"));
      const held = [r.here, r.atOwner].find((h) => h?.cached);
      if (held) {
        row(
          "Value",
          el("div", { class: "value mono", id: "lookup-value" }, held.value + (held.truncated ? "…" : "")),
          el("div", { class: "help" }, `${held.bytes} bytes${held.truncated ? ", first 200 characters shown" : ""}`),
        );
        row(
          "Expires",
          held.expiresAt
            ? `${new Date(held.expiresAt).toLocaleString()} (in ${fmtDuration(Math.max(0, held.expiresAt - Date.now()))})`
            : "never: the value has no TTL",
        );
      }
    }
    out.replaceChildren(el("div", { class: "kv" }, ...rows));
  } catch (err) {
    out.replaceChildren(el("p", { class: "error-text" }, `lookup failed: ${err.message}`));
  }
  refresh();
}

$("lookup").addEventListener("submit", lookup);
refresh();
setInterval(refresh, 2000);
