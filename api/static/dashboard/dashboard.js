// The dashboard for the Head of Support and the AI Operations Lead: one call to GET /dashboard/data
// (agent key, kept in sessionStorage) and everything drawn from it. Plain JS, no build step; data from
// the API only ever enters the page as text (textContent), never as HTML. The filters live in the URL
// (?from=&to=&weeks=&tier=&queue=&category=), so a view can be bookmarked or sent.
"use strict";

(() => {
  const KEY_STORE = "triage.dashboard.key";
  const $ = (id) => document.getElementById(id);
  const T = (key, vars) => window.DashI18n.t(key, vars);
  const FILTERS = ["from", "to", "weeks", "tier", "queue", "category"];
  const TILES = [
    "tickets_created", "ai_triaged_rate", "auto_resolution_rate", "durable_auto_resolution_rate", "handoff_rate",
    "reopen_rate", "first_contact_resolution_rate", "first_response_seconds_p50", "first_response_seconds_p90",
    "resolution_seconds_p50", "resolution_seconds_p90", "resolution_seconds_mean", "backlog", "csat",
    "sla_adherence_rate",
  ];
  const REASONS = ["first_response_late", "first_response_missing", "resolution_late", "resolution_missing"];
  let last = null; // the last answer, redrawn on a language switch

  // ---- formats ---------------------------------------------------------------------------------
  const lang = () => window.DashI18n.lang();
  const isRate = (key) => key.endsWith("_rate") || key === "csat";
  const isSeconds = (key) => key.includes("seconds");
  function num(v, digits = 0) {
    return new Intl.NumberFormat(lang(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v);
  }
  function pct(v, digits = 1) {
    return v === null || v === undefined ? "—" : `${num(100 * v, digits)}%`;
  }
  function duration(s) {
    if (s === null || s === undefined) return "—";
    if (s < 90) return `${num(s)} ${T("seconds")}`;
    if (s < 3600) return `${num(s / 60)} ${T("minutes")}`;
    return `${num(s / 3600, 1)} ${T("hours")}`;
  }
  function kpiText(key, v) {
    if (v === null || v === undefined) return "—";
    if (isRate(key)) return pct(v);
    if (isSeconds(key)) return duration(v);
    return num(v);
  }
  function evalText(key, v) {
    // evals/compare.py's format_scalar
    if (v === null || v === undefined) return "—";
    if (key === "tickets_per_s") return num(v);
    if (key === "ece" || key === "mrr") return num(v, 4);
    if (key.startsWith("seconds")) return `${num(v, 2)} ${T("seconds")}`;
    return pct(v, 2);
  }
  const day = (iso) => (iso ? String(iso).slice(0, 10) : "");
  const short = (label) => String(label).replace(/^\d{4}-/, "");

  // ---- DOM helpers -----------------------------------------------------------------------------
  function node(tag, text, attrs = {}) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) n.setAttribute(k, String(v));
    return n;
  }
  function table(target, head, rows) {
    const thead = node("thead");
    const tr = node("tr");
    for (const h of head) tr.append(node("th", h, { scope: "col" }));
    thead.append(tr);
    const tbody = node("tbody");
    for (const row of rows) {
      const r = node("tr");
      row.forEach((cell, i) => {
        const c = node(i === 0 ? "th" : "td", null, { scope: i === 0 ? "row" : undefined, "data-label": head[i] });
        if (cell instanceof Node) c.append(cell);
        else c.textContent = cell === null || cell === undefined ? "—" : String(cell);
        r.append(c);
      });
      tbody.append(r);
    }
    target.replaceChildren(thead, tbody);
  }
  function say(message, kind = "info") {
    const box = $("status");
    box.textContent = message;
    box.dataset.kind = kind;
  }

  // ---- API -------------------------------------------------------------------------------------
  function describe(body, status) {
    const detail = body && body.detail;
    if (typeof detail === "string") return detail;
    if (detail && Array.isArray(detail.errors)) {
      return detail.errors.map((e) => (e.field ? `${e.field}: ${e.problem}` : e.problem)).join("; ");
    }
    return T("server_answered", { status });
  }
  async function api(path) {
    const key = sessionStorage.getItem(KEY_STORE) || "";
    let response;
    try {
      response = await fetch(path, { headers: { Accept: "application/json", Authorization: `Bearer ${key}` } });
    } catch (err) {
      throw new Error(T("unreachable", { error: err.message }));
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message = `${response.status}: ${describe(body, response.status)}`;
      if (response.status === 401) signOut(message);
      throw new Error(message);
    }
    return body;
  }

  // ---- sign in / out ---------------------------------------------------------------------------
  function showSignIn(message) {
    $("app").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    if (message) say(message, "error");
    $("api-key").focus();
  }
  function signOut(message) {
    sessionStorage.removeItem(KEY_STORE);
    last = null;
    showSignIn(message || T("signed_out"));
  }

  // ---- filters ---------------------------------------------------------------------------------
  function isoDay(d) {
    return d.toISOString().slice(0, 10);
  }
  function defaults() {
    const to = new Date();
    to.setUTCHours(0, 0, 0, 0);
    to.setUTCDate(to.getUTCDate() + 1); // through today
    const from = new Date(to);
    from.setUTCDate(from.getUTCDate() - 28);
    return { from: isoDay(from), to: isoDay(to), weeks: "12" };
  }
  function readUrl() {
    const params = new URLSearchParams(location.search);
    const base = defaults();
    for (const name of FILTERS) {
      const value = params.get(name);
      const input = $(`f-${name}`);
      const v = value !== null ? value : base[name] || "";
      if (input.tagName === "SELECT" && v && ![...input.options].some((o) => o.value === v)) input.add(new Option(v, v));
      input.value = v;
    }
  }
  function query() {
    const params = new URLSearchParams();
    for (const name of FILTERS) {
      const value = $(`f-${name}`).value;
      if (value) params.set(name, value);
    }
    return params;
  }
  function fillChoices(choices) {
    for (const name of ["tier", "queue", "category"]) {
      const select = $(`f-${name}`);
      const chosen = select.value;
      const values = new Set(choices[name] || []);
      if (chosen) values.add(chosen);
      const all = node("option", T("all"), { value: "", "data-i18n": "all" });
      select.replaceChildren(all);
      for (const v of [...values].sort()) select.add(new Option(v, v));
      select.value = chosen;
    }
  }

  async function load() {
    const params = query();
    if (params.get("from") && params.get("to") && params.get("from") >= params.get("to")) {
      say(T("bad_period"), "error");
      return;
    }
    history.replaceState(null, "", `?${params}`);
    say(T("loading"));
    document.body.setAttribute("aria-busy", "true");
    try {
      last = await api(`/dashboard/data?${params}`);
      render(last);
      say(T("loaded", { time: new Date().toLocaleTimeString(lang()) }), "ok");
    } catch (err) {
      say(err.message, "error");
    } finally {
      document.body.removeAttribute("aria-busy");
    }
  }

  // ---- drawing ---------------------------------------------------------------------------------
  function render(data) {
    const p = data.period;
    const given = Object.entries(data.filters || {}).map(([k, v]) => `${T(k)} ${v}`);
    $("period-line").textContent = T("period", {
      from: day(data.from), to: day(data.to), weeks: data.weeks.length,
      filters: given.length ? ` · ${given.join(", ")}` : "",
    });
    fillChoices(data.choices || {});
    renderAlerts(data.topics);
    renderTiles(p);
    renderTrend(data.weeks);
    renderSla(p.sla);
    renderTopics(data.topics);
    renderRootCauses(p.root_causes || []);
    renderUndone(data.undone);
    renderEvals(data.eval_runs);
  }

  function renderTiles(p) {
    const tiles = TILES.map((key) => {
      const box = node("div", null, { class: "tile", "data-kpi": key, "data-value": p[key] === null ? "" : p[key] });
      box.append(node("dt", T(`k_${key}`)), node("dd", kpiText(key, p[key]), { class: "value" }));
      let sub = null;
      if (key === "ai_triaged_rate" || key === "auto_resolution_rate" || key === "handoff_rate") {
        const n = { ai_triaged_rate: p.ai_triaged, auto_resolution_rate: p.auto_resolved, handoff_rate: p.handoffs }[key];
        const of = key === "handoff_rate" ? p.ai_triaged : p.tickets_created;
        sub = `${num(n)} ${T("of", { n: num(of) })}`;
      } else if (key === "durable_auto_resolution_rate") {
        sub = T("pending_verification", { n: num(p.auto_resolutions_pending_verification) });
      } else if (key === "reopen_rate" || key === "first_contact_resolution_rate") {
        const n = key === "reopen_rate" ? p.reopened : p.first_contact_resolved;
        sub = `${num(n)} ${T("of", { n: num(p.solved) })}`;
      } else if (key === "csat") {
        sub = T("responses", { n: num(p.csat_responses) });
      } else if (key === "sla_adherence_rate" && p.sla) {
        sub = `${num(p.sla.met || 0)} ${T("of", { n: num((p.sla.met || 0) + (p.sla.breached || 0)) })}`;
      }
      if (sub) box.append(node("dd", sub, { class: "sub" }));
      return box;
    });
    $("kpis").replaceChildren(...tiles);
  }

  function renderTrend(weeks) {
    const labels = weeks.map((w) => short(w.week) + (w.partial ? "*" : ""));
    const col = (key, scale = 1) => weeks.map((w) => (w[key] === null || w[key] === undefined ? null : w[key] / scale));
    const C = window.DashCharts;
    const noData = T("no_data");
    C.lines($("chart-volume"), {
      labels,
      series: [
        { name: T("series_new"), values: col("tickets_created"), bars: true, color: "#7aa7e6" },
        { name: T("series_backlog"), values: col("backlog"), color: "#a3191c" },
      ],
      format: (v) => num(v),
      emptyText: noData,
    });
    C.lines($("chart-rates"), {
      labels,
      series: [
        { name: T("series_auto"), values: col("auto_resolution_rate"), color: "#0a4fb4" },
        { name: T("series_durable"), values: col("durable_auto_resolution_rate"), color: "#136c2e" },
        { name: T("series_handoff"), values: col("handoff_rate"), color: "#c2410c" },
        { name: T("series_reopen"), values: col("reopen_rate"), color: "#7c3aed" },
      ],
      format: (v) => pct(v, 0),
      max: 1,
      emptyText: noData,
    });
    C.lines($("chart-times"), {
      labels,
      series: [
        { name: T("series_fr50"), values: col("first_response_seconds_p50", 3600), color: "#0a4fb4" },
        { name: T("series_fr90"), values: col("first_response_seconds_p90", 3600), color: "#7aa7e6" },
        { name: T("series_res50"), values: col("resolution_seconds_p50", 3600), color: "#c2410c" },
        { name: T("series_res90"), values: col("resolution_seconds_p90", 3600), color: "#f0a070" },
      ],
      format: (v) => `${num(v, v < 10 ? 1 : 0)} ${T("hours")}`,
      emptyText: noData,
    });
    C.lines($("chart-quality"), {
      labels,
      series: [
        { name: T("series_csat"), values: col("csat"), color: "#136c2e" },
        { name: T("series_sla"), values: col("sla_adherence_rate"), color: "#0a4fb4" },
      ],
      format: (v) => pct(v, 0),
      max: 1,
      emptyText: noData,
    });
    const keys = TILES;
    table(
      $("trend-table"),
      [T("week"), ...keys.map((k) => T(`k_${k}`))],
      weeks.map((w) => [`${w.week}${w.partial ? ` ${T("partial")}` : ""}`, ...keys.map((k) => kpiText(k, w[k]))]),
    );
  }

  function renderSla(sla) {
    const known = sla ? (sla.met || 0) + (sla.breached || 0) : 0;
    $("sla-summary").textContent = sla && known
      ? T("sla_summary", { rate: pct(sla.adherence_rate), known: num(known), breached: num(sla.breached) })
      : T("sla_none");
    const cells = (sla && sla.cells) || [];
    const byCell = new Map(cells.filter((c) => c.has_target).map((c) => [`${c.tier}|${c.priority}`, c]));
    const order = ["urgent", "high", "normal", "low"];
    const priorities = [...new Set(cells.filter((c) => c.has_target).map((c) => c.priority))]
      .sort((a, b) => (order.indexOf(a) + 10 * (order.indexOf(a) < 0)) - (order.indexOf(b) + 10 * (order.indexOf(b) < 0)));
    window.DashCharts.heat($("chart-sla"), {
      rows: [...new Set([...byCell.values()].map((c) => c.tier))].sort(),
      cols: priorities,
      cell: (tier, priority) => {
        const c = byCell.get(`${tier}|${priority}`);
        if (!c) return null;
        return {
          value: c.adherence_rate,
          text: pct(c.adherence_rate, 0),
          sub: `${num(c.met)}/${num(c.met + c.breached)}`,
          title: T("sla_cell", { tier, priority, rate: pct(c.adherence_rate), met: c.met, breached: c.breached,
                                 open: c.in_progress }),
        };
      },
      emptyText: T("sla_none"),
    });
    const breaches = (sla && sla.breaches) || {};
    window.DashCharts.hbars($("chart-breaches"), {
      items: REASONS.map((r, i) => ({ name: T(`r_${r}`), value: breaches[r] || 0,
                                      color: ["#c2410c", "#a3191c", "#7c3aed", "#4a5361"][i] })),
      format: (v) => num(v),
      emptyText: T("none"),
    });
    table(
      $("sla-table"),
      [T("th_tier"), T("th_priority"), T("th_tickets"), T("th_adherence"), T("th_met"), T("th_breached"),
       T("th_in_progress"), T("th_reasons")],
      cells.map((c) => {
        const rate = node("span", pct(c.adherence_rate), {
          class: c.adherence_rate === null ? "pill" : c.adherence_rate >= 0.9 ? "pill good" : c.adherence_rate >= 0.75 ? "pill warn" : "pill bad",
        });
        const reasons = REASONS.filter((r) => c.breaches[r]).map((r) => `${T(`r_${r}`)} ${c.breaches[r]}`).join(", ");
        return [c.tier, c.priority, num(c.tickets), rate, num(c.met), num(c.breached), num(c.in_progress), reasons || "—"];
      }),
    );
  }

  function renderAlerts(topics) {
    const alerts = (topics && topics.alerts) || [];
    const text = (a) =>
      T("alert", {
        n: num(a.last_week), terms: (a.terms || []).slice(0, 3).join(", "), base: num(a.baseline_weekly, 1),
        growth: num(a.growth, 1), rca: a.rca ? T("alert_rca", { id: a.rca }) : "",
      });
    $("alerts").replaceChildren(...alerts.map((a) => node("li", text(a), { class: "alert", "data-cluster": a.cluster })));
  }

  function renderTopics(topics) {
    const clusters = (topics && topics.clusters) || [];
    $("topics-summary").textContent = clusters.length
      ? T("topics_summary", { tickets: num(topics.tickets), from: day(topics.from), to: day(topics.to), clusters: clusters.length })
      : T("topics_none");
    const spiking = new Set(((topics && topics.alerts) || []).map((a) => a.cluster));
    const top = Math.max(1, ...clusters.map((c) => c.size));
    table(
      $("topics-table"),
      [T("th_cluster"), T("th_terms"), T("th_size"), T("th_last_week"), T("th_baseline"), T("th_growth"), T("th_root_cause")],
      clusters.slice(0, 20).map((c) => {
        const size = node("span", null, { class: "sizebar" });
        const bar = node("span", null, { class: "bar" });
        bar.style.setProperty("--w", `${Math.round((100 * c.size) / top)}%`);
        size.append(bar, node("span", num(c.size)));
        const growth = node("span", c.growth === null ? "—" : `${num(c.growth, 1)}×`);
        if (spiking.has(c.id)) {
          growth.className = "pill bad";
          growth.textContent += ` ${T("spike")}`;
        }
        const root = c.rca ? `${c.rca.id}: ${c.rca.title} (${T(`status_${c.rca.status}`)})` : T("candidate");
        return [`#${c.id}`, c.terms.slice(0, 5).join(", "), size, c.last_week, c.baseline_weekly, growth, root];
      }),
    );
  }

  function renderRootCauses(causes) {
    const open = causes.filter((c) => !c.fixed && c.status !== "unknown").length;
    const fixed = causes.filter((c) => c.fixed).length;
    $("rca-summary").textContent = causes.length ? T("rca_summary", { open, fixed }) : T("rca_none");
    table(
      $("rca-table"),
      [T("th_rca"), T("th_status"), T("th_fixed_at"), T("th_linked"), T("th_before_after")],
      causes.map((c) => {
        const status = node("span", T(`status_${c.status}`) || c.status, { class: c.fixed ? "pill good" : "pill warn" });
        let change = "—";
        if (c.per_week_before_fix !== undefined) {
          change = node("span", null, { class: "beforeafter" });
          const top = Math.max(0.01, c.per_week_before_fix || 0, c.per_week_after_fix || 0);
          for (const [cls, v] of [["before", c.per_week_before_fix], ["after", c.per_week_after_fix]]) {
            const b = node("span", null, { class: `bar ${cls}` });
            b.style.setProperty("--w", `${Math.round((100 * (v || 0)) / top)}%`);
            change.append(b);
          }
          change.append(node("span", `${num(c.per_week_before_fix, 1)} → ${c.per_week_after_fix === null ? "—" : num(c.per_week_after_fix, 1)}`));
        }
        return [`${c.id}${c.title ? `: ${c.title}` : ""}`, status, day(c.fixed_at) || "—",
                `${num(c.tickets_linked_in_period)} / ${num(c.tickets_linked)}`, change];
      }),
    );
  }

  function renderUndone(undone) {
    const items = (undone && undone.items) || [];
    $("undone-summary").textContent = T("undone_summary", { total: num(undone ? undone.total : 0),
                                                           within: num(undone ? undone.within_durable_days : 0) });
    table(
      $("undone-table"),
      [T("th_ticket"), T("th_auto_at"), T("th_how"), T("th_after"), T("category")],
      items.map((i) => [`${i.source} ${i.external_id}`, day(i.auto_resolved_at), T(`how_${i.how}`),
                        duration(i.undone_after_seconds), i.category]),
    );
  }

  function renderEvals(evals) {
    const runs = (evals && evals.runs) || [];
    const dir = evals ? evals.directory : "";
    $("evals-summary").textContent = runs.length ? T("evals_summary", { n: runs.length, dir }) : T("evals_none", { dir });
    if (!runs.length) {
      $("evals-table").replaceChildren();
      return;
    }
    table(
      $("evals-table"),
      [T("th_metric"), ...runs.map((r) => `${r.name} (${day(r.at)})`)],
      evals.rows.map((row) => [
        row.label,
        ...row.values.map((v, i) => {
          const prev = row.values[i + 1]; // runs are newest first: compare with the one before
          const cell = node("span", evalText(row.key, v));
          if (v !== null && v !== undefined && prev !== null && prev !== undefined && Math.abs(v - prev) > 1e-12) {
            const good = (v > prev) === row.higher_is_better;
            cell.className = good ? "delta good" : "delta bad";
            cell.title = T(good ? "better" : "worse");
          }
          return cell;
        }),
      ]),
    );
  }

  // ---- wiring ----------------------------------------------------------------------------------
  function start() {
    window.DashI18n.apply();
    readUrl();
    $("ui-lang").addEventListener("change", (e) => window.DashI18n.setLang(e.target.value));
    document.addEventListener("langchange", () => {
      if (last) render(last);
    });
    $("sign-in-form").addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY_STORE, $("api-key").value.trim());
      $("api-key").value = "";
      $("sign-in").hidden = true;
      $("app").hidden = false;
      $("sign-out").hidden = false;
      load();
    });
    $("sign-out").addEventListener("click", () => signOut());
    let resized = null; // the charts are drawn for their width: draw them again when it changes
    let width = window.innerWidth;
    window.addEventListener("resize", () => {
      clearTimeout(resized);
      resized = setTimeout(() => {
        if (last && Math.abs(window.innerWidth - width) > 40) render(last);
        width = window.innerWidth;
      }, 150);
    });
    $("filters").addEventListener("submit", (e) => {
      e.preventDefault();
      load();
    });
    $("last-week").addEventListener("click", () => {
      const monday = new Date();
      monday.setUTCHours(0, 0, 0, 0);
      monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
      const before = new Date(monday);
      before.setUTCDate(before.getUTCDate() - 7);
      $("f-from").value = isoDay(before);
      $("f-to").value = isoDay(monday);
      load();
    });
    if (sessionStorage.getItem(KEY_STORE)) {
      $("app").hidden = false;
      $("sign-out").hidden = false;
      load();
    } else {
      showSignIn();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
