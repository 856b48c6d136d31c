// nextedit dashboard: fetches /dashboard/api/* and draws uPlot charts (vendored, no CDN).
// After each render, window.nexteditDashboard holds what was drawn (the browser test reads it).
"use strict";
(function () {
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  const $ = (s) => document.querySelector(s);
  const form = $("#filters");
  const state = { charts: {}, plots: {}, rendered: 0 };
  window.nexteditDashboard = state;

  const fmt = (v, digits = 3) => (v === null || v === undefined ? "–" :
    (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : +v.toFixed(digits)));
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + " %");
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const toLocal = (t) => { const d = new Date(t * 1000); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 16); };
  const fromLocal = (s) => (s ? new Date(s).getTime() / 1000 : null);

  function query() {
    const p = new URLSearchParams();
    for (const el of form.elements) {
      if (!el.name || !el.value) continue;
      p.set(el.name, el.name === "since" || el.name === "until" ? fromLocal(el.value) : el.value);
    }
    return p.toString();
  }

  const TOKEN_KEY = "nextedit-dashboard-token";
  class Unauthorized extends Error {}

  async function get(panel, q) {
    const headers = { Accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(`/dashboard/api/${panel}?${q}`, { headers });
    if (r.status === 401) throw new Unauthorized(token ? "that token was refused" : "this server needs its bearer token");
    const body = await r.json();
    if (!r.ok) throw new Error(body.error ? body.error.message : `${panel}: HTTP ${r.status}`);
    return body;
  }

  function draw(id, xs, series, opts = {}) {
    const el = document.getElementById(id);
    if (state.plots[id]) state.plots[id].destroy();
    el.innerHTML = `<div class="title">${esc(el.dataset.title)}</div>`;
    const names = Object.keys(series);
    const data = [xs, ...names.map((n) => series[n])];
    state.charts[id] = { x: xs, series };
    const width = Math.max(el.clientWidth - 12, 300);
    const plot = new uPlot({
      width, height: 220,
      scales: { x: { time: opts.time !== false } , y: opts.rate ? { range: [0, 1] } : {} },
      axes: [{}, { values: opts.rate || opts.pct ? (u, v) => v.map((x) => +(100 * x).toFixed(1) + "%") : undefined, size: 60 }],
      series: [{ label: opts.xlabel || "time" }, ...names.map((n, i) => ({
        label: n, stroke: COLORS[i % COLORS.length], width: 2, dash: n.endsWith("(inferred)") ? [6, 4] : undefined,
        fill: opts.bars ? COLORS[i % COLORS.length] + "55" : undefined,
        paths: opts.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined, spanGaps: false,
      }))],
    }, data, el);
    state.plots[id] = plot;
  }

  function summary(ts) {
    const rows = Object.entries(ts.totals);
    $("#summary").innerHTML = `<tr><th class="l">${esc(ts.group.replace("_", " "))}</th><th>requests</th><th>shown</th>
      <th>shown rate</th><th>accepted</th><th>acceptance</th><th>settled</th><th>kept</th><th>recall</th><th title="settled outcomes the server inferred">settled inf.</th><th>kept inf.</th><th>recall inf.</th>
      <th>errors</th><th>cancel</th><th>429</th><th>deadline</th><th>prompt tok</th><th>compl. tok</th><th>spec. acc.</th></tr>` +
      rows.map(([g, t]) => `<tr data-group="${esc(g)}"><td class="l">${esc(g)}</td><td class="requests">${fmt(t.requests)}</td>
      <td>${fmt(t.shown)}</td><td>${pct(t.shown_rate)}</td><td>${fmt(t.accepted)}</td><td class="acceptance">${pct(t.acceptance_rate)}</td>
      <td>${fmt(t.settled)}</td><td>${pct(t.kept_rate)}</td><td>${pct(t.recall)}</td>
      <td>${fmt(t.settled_inferred)}</td><td>${pct(t.kept_rate_inferred)}</td><td>${pct(t.recall_inferred)}</td><td>${pct(t.error_rate)}</td>
      <td>${pct(t.cancel_rate)}</td><td>${pct(t.overloaded_rate)}</td><td>${pct(t.deadline_rate)}</td>
      <td>${fmt(t.prompt_tokens)}</td><td>${fmt(t.completion_tokens)}</td><td>${pct(t.spec_acceptance)}</td></tr>`).join("");
    $("#sources").textContent = "Settled outcomes: " + ts.outcome_sources + ". Outcomes count in the bucket they were reported in.";
  }

  function pick(ts, key) {
    const out = {};
    for (const [g, s] of Object.entries(ts.series)) out[g] = s[key];
    return out;
  }

  function latencyPanel(lat) {
    const groups = Object.keys(lat.percentiles);
    const edges = lat.histogram.edges_ms;
    const xs = edges.slice(0, -1).map((e, i) => Math.sqrt(Math.max(e, edges[1] / 2) * edges[i + 1]));
    const series = {};
    for (const g of groups) series[g] = lat.histogram[g];
    if (xs.length) draw("chart-latency", xs, series, { time: false, bars: groups.length === 1, xlabel: "ms" });
    let html = `<tr><th class="l">${esc(lat.group.replace("_", " "))}</th><th class="l">stage</th><th>p50</th><th>p95</th><th>p99</th></tr>`;
    for (const g of groups) for (const s of lat.stages) {
      const p = lat.percentiles[g][s];
      html += `<tr><td class="l">${esc(g)}</td><td class="l">${s}</td><td>${fmt(p.p50, 1)}</td><td>${fmt(p.p95, 1)}</td><td>${fmt(p.p99, 1)}</td></tr>`;
    }
    $("#latency").innerHTML = html;
  }

  function abPanel(ab) {
    const el = $("#ab");
    if (ab.unavailable) { el.innerHTML = `<p class="note">${esc(ab.unavailable)}</p>`; return; }
    const metric = (m) => (m && m.value !== null ? `${fmt(m.value)} [${fmt(m.ci[0])}, ${fmt(m.ci[1])}]` : "–");
    const names = Object.keys(ab.arms[0].metrics);
    let html = `<p class="decision">${esc(ab.decision.action)}${ab.decision.arm ? " " + esc(ab.decision.arm) : ""}: ${esc(ab.decision.why)}</p>
      <table class="numbers"><tr><th class="l">arm</th><th>users</th><th>requests</th>${names.map((n) => `<th>${esc(n)} (95 % CI)</th>`).join("")}</tr>` +
      ab.arms.map((a) => `<tr><td class="l">${esc(a.name)}</td><td>${fmt(a.users)}</td><td>${fmt(a.requests)}</td>${names.map((n) => `<td>${metric(a.metrics[n])}</td>`).join("")}</tr>`).join("") +
      `</table><table class="numbers"><tr><th class="l">arm vs control</th><th class="l">metric</th><th>diff</th><th>CI</th><th>p-value</th></tr>` +
      ab.comparisons.map((c) => `<tr><td class="l">${esc(c.arm)} vs ${esc(c.control)}</td><td class="l">${esc(c.metric)}</td><td>${fmt(c.diff, 4)}</td>
        <td>[${fmt(c.ci[0], 4)}, ${fmt(c.ci[1], 4)}]</td><td>${fmt(c.p_value, 4)}</td></tr>`).join("") + "</table>" +
      `<p class="note">SRM p-value: ${fmt(ab.srm.p_value, 4)}. Method: docs/ab.md.</p>`;
    el.innerHTML = html;
  }

  function recentPanel(rec) {
    $("#recent").innerHTML = `<tr><th class="l">time</th><th class="l">model version</th><th class="l">experiment</th><th class="l">API</th>
      <th class="l">status</th><th>total ms</th><th>tokens in/out</th><th class="l">outcome</th><th class="l">output</th></tr>` +
      rec.rows.map((r) => `<tr><td class="l">${new Date(r.created_at * 1000).toISOString().replace("T", " ").slice(0, 19)}</td>
      <td class="l">${esc(r.model_version)}</td><td class="l">${esc(r.experiment)}</td><td class="l">${esc(r.api)}</td><td class="l">${esc(r.status)}</td>
      <td>${fmt(r.total_ms, 1)}</td><td>${fmt(r.prompt_tokens)}/${fmt(r.completion_tokens)}</td><td class="l">${esc(r.outcome)}</td>
      <td class="l">${r.output === null ? '<span class="note">not collected</span>' : esc(String(r.output).slice(0, 120))}</td></tr>`).join("");
  }

  async function render() {
    const q = query();
    $("#status").textContent = "loading…";
    const t0 = performance.now();
    try {
      const [ts, lat, rec] = await Promise.all([get("timeseries", q), get("latency", q), get("recent", q)]);
      summary(ts);
      const xs = ts.buckets;
      draw("chart-requests", xs, pick(ts, "requests"));
      draw("chart-acceptance", xs, pick(ts, "acceptance_rate"), { rate: true });
      draw("chart-shown", xs, pick(ts, "shown_rate"), { rate: true });
      const kept = pick(ts, "kept_rate");
      for (const [g, v] of Object.entries(pick(ts, "kept_rate_inferred"))) if (v.some((x) => x !== null)) kept[g + " (inferred)"] = v;
      draw("chart-kept", xs, kept, { rate: true });
      draw("chart-errors", xs, pick(ts, "error_rate"), { pct: true });
      draw("chart-tokens", xs, pick(ts, "completion_tokens"));
      latencyPanel(lat);
      recentPanel(rec);
      state.firstRenderMs = state.firstRenderMs ?? performance.now() - t0;
      $("#status").textContent = `${Object.keys(ts.totals).length} groups, ${xs.length} buckets; rendered in ${Math.round(performance.now() - t0)} ms`;
      state.rendered += 1;
      get("ab", q).then(abPanel, (e) => { $("#ab").innerHTML = `<p class="error">${esc(e.message)}</p>`; })
        .finally(() => { state.abRendered = (state.abRendered || 0) + 1; });
    } catch (e) {
      $("#status").innerHTML = `<span class="error">${esc(e.message)}</span>`;
      state.error = e.message;
    }
  }

  async function init() {
    try {
      const o = await get("options", "");
      for (const [key, values] of [["model_version", o.model_versions], ["experiment", o.experiments], ["api", o.apis], ["file_ext", o.file_exts]]) {
        form.elements[key].innerHTML = '<option value="">all</option>' + values.map((v) => `<option>${esc(v)}</option>`).join("");
      }
      if (o.span[1]) {
        form.elements.until.value = toLocal(o.span[1] + 60);
        form.elements.since.value = toLocal(Math.max(o.span[0], o.span[1] - 7 * 86400));
      }
    } catch (e) {
      $("#status").innerHTML = `<span class="error">${esc(e.message)}</span>`;
      if (e instanceof Unauthorized) $("#login").hidden = false;
      return;
    }
    $("#login").hidden = true;
    render();
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); render(); });
  $("#login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, ev.target.elements.token.value.trim());
    init();
  });
  init();
})();
