// Review page for support agents: the queue of suggested replies, one ticket, approve / edit / reject.
// Plain JS, no build step. Every API call sends the key kept in sessionStorage; data is only ever
// put into the page as text (textContent / value), never as HTML.
"use strict";

(() => {
  const KEY_STORE = "triage.review.key";
  const $ = (id) => document.getElementById(id);
  const T = (key, vars) => window.ReviewI18n.t(key, vars); // the page's language (i18n.js)

  const state = {
    items: [], // the queue as last loaded (GET /reviews)
    selected: -1, // index in items that j/k move and o/Enter open
    current: null, // the open ticket (GET /reviews/{id})
    busy: false, // a verdict is being sent
  };

  // ---- API -------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function describe(body, status) {
    // The API answers {error, detail}; detail is a sentence, or {errors: [{field, problem}]} for 422.
    const detail = body && body.detail;
    if (typeof detail === "string") return detail;
    if (detail && Array.isArray(detail.errors)) {
      return detail.errors.map((e) => (e.field ? `${e.field}: ${e.problem}` : e.problem)).join("; ");
    }
    return T("server_answered", { status });
  }

  async function api(path, options = {}) {
    const key = sessionStorage.getItem(KEY_STORE) || "";
    const headers = { Accept: "application/json", Authorization: `Bearer ${key}` };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method: options.method || "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (err) {
      throw new ApiError(0, T("unreachable", { error: err.message }));
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      const error = new ApiError(response.status, `${response.status}: ${describe(body, response.status)}`);
      if (response.status === 401) signOut(error.message);
      throw error;
    }
    return body;
  }

  // ---- status line -----------------------------------------------------------------------------
  function say(message, kind = "info") {
    const box = $("status");
    box.textContent = message;
    box.dataset.kind = kind;
  }

  // ---- sign in / out ---------------------------------------------------------------------------
  function showSignIn(message) {
    $("app").hidden = true;
    $("sign-out").hidden = true;
    $("who").textContent = "";
    $("sign-in").hidden = false;
    if (message) say(message, "error");
    $("api-key").focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORE);
    state.items = [];
    state.current = null;
    state.selected = -1;
    showSignIn(message || T("signed_out"));
  }

  async function signIn(key) {
    sessionStorage.setItem(KEY_STORE, key);
    $("sign-in").hidden = true;
    $("app").hidden = false;
    $("sign-out").hidden = false;
    $("who").textContent = T("signed_in");
    return loadQueue({ openFirst: false });
  }

  // ---- the queue -------------------------------------------------------------------------------
  function filters() {
    const form = new FormData($("filters"));
    const params = new URLSearchParams();
    for (const [name, value] of form.entries()) if (value) params.set(name, String(value));
    return params;
  }

  function fillOptions(all) {
    // Filter choices come from what is waiting (the API has no list of values); a chosen value stays.
    for (const field of ["queue", "category", "language", "priority"]) {
      const select = $(`f-${field}`);
      const chosen = select.value;
      const values = new Set(all.map((i) => i[field]).filter(Boolean));
      if (chosen) values.add(chosen);
      select.replaceChildren(new Option(T("all"), ""));
      for (const value of [...values].sort()) select.add(new Option(value, value));
      select.value = chosen;
    }
  }

  async function loadQueue({ openFirst = false, keepIndex = null } = {}) {
    const params = filters();
    params.set("limit", "500");
    let items;
    try {
      if ([...filters().keys()].length) {
        const [all, some] = await Promise.all([api("/reviews?limit=500"), api(`/reviews?${params}`)]);
        fillOptions(all);
        items = some;
      } else {
        items = await api(`/reviews?${params}`);
        fillOptions(items);
      }
    } catch (err) {
      say(T("queue_failed", { error: err.message }), "error");
      return;
    }
    state.items = items;
    renderQueue();
    if (!items.length) {
      state.selected = -1;
      return;
    }
    let index = 0;
    if (keepIndex !== null) index = Math.min(keepIndex, items.length - 1);
    else if (state.current) {
      const at = items.findIndex((i) => i.ticket_id === state.current.ticket_id);
      index = at >= 0 ? at : 0;
    }
    select(index, false);
    if (openFirst) await openSelected();
  }

  // Long labels (account_access, nearest_doc) may wrap after an underscore (<wbr>) rather than overflow.
  function breakable(text) {
    const parts = String(text).split("_");
    return parts.flatMap((part, i) =>
      i < parts.length - 1 ? [document.createTextNode(`${part}_`), document.createElement("wbr")] : [part],
    );
  }

  function percent(confidence) {
    return typeof confidence === "number" ? `${Math.round(confidence * 100)}%` : "–";
  }

  function renderQueue() {
    const list = $("queue-list");
    list.replaceChildren();
    state.items.forEach((item, index) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "queue-item";
      button.dataset.index = String(index);
      const subject = document.createElement("span");
      subject.className = "subject";
      subject.textContent = item.subject || T("no_subject");
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [
        item.external_id,
        item.category ? `${item.category} ${percent(item.category_confidence)}` : null,
        item.priority,
        item.language,
        item.queue,
      ]
        .filter(Boolean)
        .join(" · ");
      button.append(subject, meta);
      button.addEventListener("click", () => {
        select(index, false);
        openSelected();
      });
      li.append(button);
      list.append(li);
    });
    $("queue-count").textContent = `(${state.items.length})`;
    $("queue-empty").hidden = state.items.length > 0;
    markQueue();
  }

  function markQueue() {
    const open = state.current && state.current.ticket_id;
    for (const button of $("queue-list").querySelectorAll("button")) {
      const index = Number(button.dataset.index);
      button.classList.toggle("selected", index === state.selected);
      const item = state.items[index];
      if (item && item.ticket_id === open) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  function select(index, focus = true) {
    if (!state.items.length) return;
    state.selected = Math.max(0, Math.min(index, state.items.length - 1));
    markQueue();
    const button = $("queue-list").querySelector(`button[data-index="${state.selected}"]`);
    if (button) {
      button.scrollIntoView({ block: "nearest" });
      if (focus) button.focus();
    }
  }

  // ---- one ticket ------------------------------------------------------------------------------
  async function openSelected() {
    const item = state.items[state.selected];
    if (!item) return;
    let detail;
    try {
      detail = await api(`/reviews/${encodeURIComponent(item.ticket_id)}`);
    } catch (err) {
      say(T("open_failed", { id: item.external_id, error: err.message }), "error");
      return;
    }
    state.current = detail;
    renderTicket(detail);
    markQueue();
    $("ticket-title").focus();
  }

  function fact(list, term, value) {
    if (value === null || value === undefined || value === "") return;
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = String(value);
    list.append(dt, dd);
  }

  function when(iso) {
    if (!iso) return null;
    const time = document.createElement("time");
    time.dateTime = iso;
    const date = new Date(iso);
    time.textContent = Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
    return time;
  }

  function docButton(docId, title, extra) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.textContent = `${docId}${title ? ` — ${title}` : ""}${extra ? ` (${extra})` : ""}`;
    button.setAttribute("aria-haspopup", "dialog");
    button.addEventListener("click", () => openDoc(docId, title));
    return button;
  }

  function renderTicket(t) {
    $("ticket-none").hidden = true;
    $("ticket-view").hidden = false;
    $("ticket-title").textContent = t.subject || T("no_subject");
    const customer = t.customer || {};
    const created = new Date(t.created_at);
    $("ticket-meta").textContent = [
      `${t.source} ${t.external_id}`,
      customer.name ? `${customer.name}${customer.tier ? ` (${customer.tier})` : ""}` : null,
      t.requester,
      Number.isNaN(created.getTime()) ? null : T("received", { when: created.toLocaleString() }),
      t.status === "awaiting_review" ? null : T("status", { status: t.status }),
    ]
      .filter(Boolean)
      .join(" · ");
    $("ticket-body").textContent = t.body || "";

    const draft = $("draft");
    draft.value = t.draft || "";
    draft.dataset.original = t.draft || "";
    $("restore").hidden = true;
    $("draft-info").textContent = [
      t.review ? T("already_reviewed", { action: t.review.action, who: t.review.reviewer || t.review.by }) : null,
      t.draft_language ? T("draft_language", { language: t.draft_language }) : null,
      t.grounded === false ? T("not_grounded") : t.grounded ? T("grounded") : null,
    ]
      .filter(Boolean)
      .join(" · ");
    hideReject(false);
    $("reject-reason").value = "";
    const reviewed = Boolean(t.review) || t.status !== "awaiting_review";
    for (const id of ["approve", "send-edit", "reject"]) $(id).disabled = reviewed;
    draft.readOnly = reviewed;

    const rows = $("triage-rows");
    rows.replaceChildren();
    const triage = t.triage || {};
    const sources = triage.sources || {};
    for (const field of ["category", "priority", "language", "sentiment", "risk"]) {
      const scored = triage[field];
      if (!scored) continue;
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = T(`field_${field}`);
      const value = Array.isArray(scored.value) ? scored.value.join(", ") || T("none") : scored.value;
      const cells = [value, percent(scored.confidence), sources[field] || (field === "category" ? triage.decided_by : "")];
      tr.append(th);
      cells.forEach((text, i) => {
        const td = document.createElement("td");
        td.append(...breakable(text || ""));
        if (i === 1) {
          td.className = "num";
          if (typeof scored.confidence === "number" && scored.confidence < 0.5) td.classList.add("low");
        }
        tr.append(td);
      });
      rows.append(tr);
    }

    const decision = t.decision || {};
    $("decision-reason").textContent = decision.reason || "";
    const facts = $("decision-facts");
    facts.replaceChildren();
    fact(facts, T("fact_action"), decision.action);
    if (decision.rules && decision.rules.length) {
      const ul = document.createElement("ul");
      ul.className = "rules";
      for (const rule of decision.rules) {
        const li = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = rule;
        li.append(code);
        ul.append(li);
      }
      fact(facts, T("fact_rules"), ul);
    }
    fact(facts, T("fact_queue"), decision.queue);
    if (decision.linked_issue) fact(facts, T("fact_known_issue"), docButton(decision.linked_issue, null));

    const routing = t.routing;
    $("routing").hidden = !routing;
    const rf = $("routing-facts");
    rf.replaceChildren();
    if (routing) {
      fact(rf, T("fact_queue"), routing.queue && `${routing.queue}${routing.tier ? ` (${routing.tier})` : ""}`);
      fact(rf, T("fact_engineer"), routing.engineer);
      fact(rf, T("fact_client_tier"), routing.client_tier);
      fact(rf, T("fact_first_response_due"), when(routing.first_response_due));
      fact(rf, T("fact_resolution_due"), when(routing.resolution_due));
      fact(rf, T("fact_why"), routing.why);
    }

    const cited = $("cited");
    cited.replaceChildren();
    const citedIds = new Set();
    for (const c of t.citations || []) {
      citedIds.add(c.doc_id);
      const li = document.createElement("li");
      li.append(docButton(c.doc_id, c.title));
      cited.append(li);
    }
    if (!citedIds.size) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = T("no_citation");
      cited.append(li);
    }
    const retrieved = $("retrieved");
    retrieved.replaceChildren();
    const others = (t.retrieved || []).filter((d) => !citedIds.has(d.doc_id));
    for (const d of others) {
      const li = document.createElement("li");
      const score =
        typeof d.score === "number" ? T("score", { type: d.type || "doc", score: d.score.toFixed(2) }) : d.type;
      li.append(docButton(d.doc_id, d.title, score));
      retrieved.append(li);
    }
    $("retrieved-box").hidden = others.length === 0;
  }

  function clearTicket() {
    state.current = null;
    $("ticket-view").hidden = true;
    $("ticket-none").hidden = false;
  }

  // ---- documents -------------------------------------------------------------------------------
  async function openDoc(docId, title) {
    const dialog = $("doc-dialog");
    $("doc-title").textContent = title ? `${docId} — ${title}` : docId;
    $("doc-text").textContent = T("loading");
    if (!dialog.open) dialog.showModal();
    try {
      const doc = await api(`/kb/docs/${encodeURIComponent(docId)}`);
      $("doc-text").textContent = doc.text;
    } catch (err) {
      $("doc-text").textContent = T("open_failed", { id: docId, error: err.message });
    }
  }

  // ---- verdicts --------------------------------------------------------------------------------
  function edited() {
    const draft = $("draft");
    return draft.value.trim() !== (draft.dataset.original || "").trim();
  }

  async function verdict(body, done) {
    const t = state.current;
    if (!t || state.busy) return;
    state.busy = true;
    const index = Math.max(0, state.items.findIndex((i) => i.ticket_id === t.ticket_id));
    say(T("sending", { id: t.external_id }));
    try {
      await api(`/reviews/${encodeURIComponent(t.ticket_id)}`, { method: "POST", body });
    } catch (err) {
      say(T("verdict_failed", { action: T(`action_${body.action}`), id: t.external_id, error: err.message }), "error");
      state.busy = false;
      if (err.status === 409) {
        // someone else was first: show the ticket as it is now (its buttons off) and the queue without it
        await loadQueue({ keepIndex: index });
        try {
          renderTicket(await api(`/reviews/${encodeURIComponent(t.ticket_id)}`));
        } catch {
          clearTicket();
        }
      }
      return;
    }
    state.busy = false;
    clearTicket();
    await loadQueue({ keepIndex: index });
    const next = state.items[state.selected];
    say(`${done} ${t.external_id}. ${next ? T("next", { id: next.external_id }) : T("no_more")}`, "ok");
    if (next) await openSelected();
    else $("queue-title").focus();
  }

  function approve() {
    if (!state.current) return;
    if (edited()) {
      say(T("changed_draft"), "error");
      return;
    }
    verdict({ action: "approve" }, T("approved"));
  }

  function sendEdited() {
    if (!state.current) return;
    const text = $("draft").value.trim();
    if (!text) {
      say(T("empty_draft"), "error");
      $("draft").focus();
      return;
    }
    if (!edited()) verdict({ action: "approve" }, T("unchanged"));
    else verdict({ action: "edit", text }, T("edit_sent"));
  }

  function showReject() {
    if (!state.current || $("reject").disabled) return;
    $("reject-form").hidden = false;
    $("reject").setAttribute("aria-expanded", "true");
    $("reject-form").scrollIntoView({ block: "nearest" }); // its submit button too, not only the box
    $("reject-reason").focus({ preventScroll: true });
  }

  function hideReject(focusBack = true) {
    $("reject-form").hidden = true;
    $("reject").setAttribute("aria-expanded", "false");
    if (focusBack) $("reject").focus();
  }

  function reject() {
    const reason = $("reject-reason").value.trim();
    if (!reason) {
      say(T("need_reason"), "error");
      $("reject-reason").focus();
      return;
    }
    verdict({ action: "reject", reason }, T("rejected"));
  }

  // ---- keyboard --------------------------------------------------------------------------------
  function typing(el) {
    if (!el || !(el instanceof HTMLElement)) return false;
    return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
  }

  function openDialog() {
    return document.querySelector("dialog[open]");
  }

  function onKey(event) {
    if (event.defaultPrevented || event.isComposing || !$("sign-in").hidden) return;
    const target = event.target;
    if (openDialog()) return; // a dialog closes itself on Esc; no shortcut fires under it

    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      if (target === $("reject-reason")) reject();
      else sendEdited();
      return;
    }
    if (event.key === "Escape") {
      if (!$("reject-form").hidden) {
        event.preventDefault();
        hideReject();
      } else if (typing(target)) {
        event.preventDefault();
        target.blur();
        $("ticket-title").focus();
      }
      return;
    }
    if (typing(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const onControl = target instanceof HTMLElement && target.matches("button, a[href], summary");

    switch (event.key) {
      case "j":
        select(state.selected + 1);
        break;
      case "k":
        select(state.selected - 1);
        break;
      case "o":
        openSelected();
        break;
      case "Enter":
        if (onControl) return; // the focused button or link does its own thing
        openSelected();
        break;
      case "a":
        approve();
        break;
      case "e":
        if (!state.current) return;
        $("draft").focus();
        break;
      case "r":
        showReject();
        break;
      case "?":
        $("help-dialog").showModal();
        break;
      default:
        return;
    }
    event.preventDefault(); // e.g. the "e" that moved focus must not land in the draft
  }

  // ---- wiring ----------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    // the page's language: remembered per browser (i18n.js); a switch re-renders what the script wrote
    window.ReviewI18n.apply(window.ReviewI18n.initial());
    $("ui-lang").addEventListener("change", (event) => window.ReviewI18n.set(event.target.value));
    document.addEventListener("review:language", () => {
      if (!$("app").hidden) {
        $("who").textContent = T("signed_in");
        for (const field of ["queue", "category", "language", "priority"]) $(`f-${field}`).options[0].text = T("all");
        renderQueue();
        if (state.current) {
          // re-render in the new language without losing what the agent is typing
          const draft = $("draft").value;
          const reason = $("reject-reason").value;
          const rejecting = !$("reject-form").hidden;
          renderTicket(state.current);
          $("draft").value = draft;
          $("restore").hidden = !edited();
          $("reject-reason").value = reason;
          if (rejecting) $("reject-form").hidden = false;
        }
      }
    });
    $("sign-in-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) return;
      $("api-key").value = "";
      say(T("signing_in"));
      await signIn(key);
      if (sessionStorage.getItem(KEY_STORE)) {
        say(T("signed_in_waiting", { n: state.items.length }), "ok");
        const first = $("queue-list").querySelector("button");
        (first || $("queue-title")).focus();
      }
    });
    $("sign-out").addEventListener("click", () => signOut());
    $("refresh").addEventListener("click", () => loadQueue());
    $("filters").addEventListener("change", () => {
      clearTicket();
      loadQueue();
    });
    $("approve").addEventListener("click", approve);
    $("send-edit").addEventListener("click", sendEdited);
    $("reject").addEventListener("click", showReject);
    $("reject-cancel").addEventListener("click", () => hideReject());
    $("reject-form").addEventListener("submit", (event) => {
      event.preventDefault();
      reject();
    });
    $("restore").addEventListener("click", () => {
      $("draft").value = $("draft").dataset.original || "";
      $("restore").hidden = true;
      $("draft").focus();
    });
    $("draft").addEventListener("input", () => {
      $("restore").hidden = !edited();
    });
    $("help-open").addEventListener("click", () => $("help-dialog").showModal());
    for (const dialog of document.querySelectorAll("dialog")) {
      dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
      dialog.addEventListener("click", (event) => {
        if (event.target === dialog) dialog.close(); // a click on the backdrop
      });
    }
    document.addEventListener("keydown", onKey);
    $("queue-title").tabIndex = -1;

    if (sessionStorage.getItem(KEY_STORE)) signIn(sessionStorage.getItem(KEY_STORE));
    else showSignIn();
  });
})();
