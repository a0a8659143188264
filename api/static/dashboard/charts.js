// Small inline-SVG charts for the dashboard: no library, nothing from elsewhere, text set as text.
//   DashCharts.lines(figure, {labels, series: [{name, values, color, bars?}], format, max?})
//   DashCharts.hbars(figure, {items: [{name, value, color}], format})
// Each chart is an <svg role="img"> with a <title> (its caption) and a <desc> listing the values, so
// a screen reader gets the numbers; every point carries a <title> tooltip. A null value is a gap.
"use strict";

(() => {
  const NS = "http://www.w3.org/2000/svg";
  let W = 640; // the drawing's width in its own units: the figure's width in CSS pixels (320..720), so
  let H = 260; // text stays ~13 px on a phone as on a desktop
  const PAD = { left: 56, right: 14, top: 14, bottom: 46 };
  const PALETTE = ["#0a4fb4", "#c2410c", "#136c2e", "#7c3aed", "#a3191c", "#0f766e"];

  function el(name, attrs = {}, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const exp = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) if (step * exp >= value) return step * exp;
    return 10 * exp;
  }

  function size(figure) {
    const width = figure.clientWidth || 640;
    W = Math.max(300, Math.min(720, Math.round(width - 16)));
    H = W < 480 ? 230 : 260;
  }

  function frame(figure, caption, desc) {
    for (const old of figure.querySelectorAll("svg, .legend, .empty")) old.remove();
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", preserveAspectRatio: "xMidYMid meet" });
    svg.append(el("title", {}, caption), el("desc", {}, desc));
    figure.append(svg);
    return svg;
  }

  function legend(figure, series) {
    const list = document.createElement("ul");
    list.className = "legend";
    for (const s of series) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = s.bars ? "swatch bar" : "swatch";
      swatch.dataset.color = s.color;
      swatch.style.setProperty("--c", s.color); // CSSOM, allowed by style-src 'self'
      item.append(swatch, document.createTextNode(s.name));
      list.append(item);
    }
    figure.append(list);
  }

  function empty(figure, text) {
    for (const old of figure.querySelectorAll("svg, .legend, .empty")) old.remove();
    const p = document.createElement("p");
    p.className = "empty muted";
    p.textContent = text;
    figure.append(p);
  }

  function lines(figure, { labels, series, format, max, emptyText }) {
    size(figure);
    const caption = figure.querySelector("figcaption")?.textContent || "";
    series.forEach((s, i) => (s.color = s.color || PALETTE[i % PALETTE.length]));
    const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
    if (!labels.length || !all.length) return empty(figure, emptyText || "no data");
    const desc = series
      .map((s) => `${s.name}: ${s.values.map((v, i) => `${labels[i]} ${v === null ? "—" : format(v)}`).join(", ")}`)
      .join("; ");
    const svg = frame(figure, caption, desc);
    const top = max !== undefined ? max : niceMax(Math.max(...all));
    const plotW = W - PAD.left - PAD.right;
    const plotH = H - PAD.top - PAD.bottom;
    const n = labels.length;
    const slot = plotW / n;
    const x = (i) => PAD.left + slot * (i + 0.5);
    const y = (v) => PAD.top + plotH * (1 - Math.min(v, top) / top);

    const grid = el("g", { class: "grid-lines" });
    for (let k = 0; k <= 4; k++) {
      const v = (top * k) / 4;
      grid.append(el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
      grid.append(el("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, format(v)));
    }
    svg.append(grid);
    const every = Math.max(1, Math.ceil(n / Math.max(3, Math.floor(W / 70))));
    const axis = el("g", { class: "axis" });
    labels.forEach((label, i) => {
      if ((n - 1 - i) % every !== 0) return; // counted from the newest week, which always has its label
      axis.append(el("text", { x: x(i), y: H - PAD.bottom + 18, "text-anchor": "middle", class: "tick" }, label));
    });
    svg.append(axis);

    const barSeries = series.filter((s) => s.bars);
    const barW = Math.max(2, (slot * 0.7) / Math.max(1, barSeries.length));
    barSeries.forEach((s, b) => {
      const g = el("g", { class: "series bars", "data-series": s.name });
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const left = x(i) - (barW * barSeries.length) / 2 + b * barW;
        const rect = el("rect", { x: left, y: y(v), width: barW - 1, height: Math.max(0, y(0) - y(v)), fill: s.color });
        rect.append(el("title", {}, `${s.name} ${labels[i]}: ${format(v)}`));
        g.append(rect);
      });
      svg.append(g);
    });
    for (const s of series.filter((s) => !s.bars)) {
      const g = el("g", { class: "series line", "data-series": s.name });
      let d = "";
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const prev = i > 0 ? s.values[i - 1] : null;
        d += `${prev === null || prev === undefined || !d ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      });
      if (d) g.append(el("path", { d: d.trim(), fill: "none", stroke: s.color, "stroke-width": 2.5 }));
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const dot = el("circle", { cx: x(i), cy: y(v), r: 4, fill: s.color });
        dot.append(el("title", {}, `${s.name} ${labels[i]}: ${format(v)}`));
        g.append(dot);
      });
      svg.append(g);
    }
    legend(figure, series);
    return svg;
  }

  function hbars(figure, { items, format, emptyText }) {
    size(figure);
    const caption = figure.querySelector("figcaption")?.textContent || "";
    const shown = items.filter((i) => i.value > 0);
    if (!shown.length) return empty(figure, emptyText || "no data");
    const stacked = W < 480; // a phone: each label above its bar
    const rowH = stacked ? 46 : 34;
    const height = rowH * shown.length + 10;
    for (const old of figure.querySelectorAll("svg, .legend, .empty")) old.remove();
    const svg = el("svg", { viewBox: `0 0 ${W} ${height}`, role: "img", preserveAspectRatio: "xMidYMid meet" });
    svg.append(el("title", {}, caption), el("desc", {}, shown.map((i) => `${i.name}: ${format(i.value)}`).join("; ")));
    const top = niceMax(Math.max(...shown.map((i) => i.value)));
    const left = stacked ? 0 : Math.min(250, Math.round(W * 0.45));
    const plotW = W - left - 60;
    shown.forEach((item, r) => {
      const yy = 6 + r * rowH + (stacked ? 16 : 0);
      if (stacked) svg.append(el("text", { x: 0, y: yy - 2, class: "tick" }, item.name));
      else svg.append(el("text", { x: left - 8, y: yy + 19, "text-anchor": "end", class: "tick" }, item.name));
      const width = Math.max(2, (plotW * item.value) / top);
      const rect = el("rect", { x: left, y: yy + 4, width, height: rowH - (stacked ? 22 : 10),
                                fill: item.color || PALETTE[r % PALETTE.length] });
      rect.append(el("title", {}, `${item.name}: ${format(item.value)}`));
      svg.append(rect);
      svg.append(el("text", { x: left + width + 6, y: yy + (stacked ? 18 : 19), class: "tick value" }, format(item.value)));
    });
    figure.append(svg);
    return svg;
  }

  // rows x cols of coloured cells: cell(r, c) -> {value 0..1 | null, text, sub, title} or null (no cell)
  function heat(figure, { rows, cols, cell, emptyText }) {
    size(figure);
    const caption = figure.querySelector("figcaption")?.textContent || "";
    if (!rows.length || !cols.length) return empty(figure, emptyText || "no data");
    for (const old of figure.querySelectorAll("svg, .legend, .empty")) old.remove();
    const labelW = Math.min(130, Math.round(W * 0.28));
    const cellW = (W - labelW) / cols.length;
    const cellH = 48;
    const height = 24 + cellH * rows.length;
    const svg = el("svg", { viewBox: `0 0 ${W} ${height}`, role: "img", preserveAspectRatio: "xMidYMid meet" });
    const desc = [];
    cols.forEach((c, j) => svg.append(el("text", { x: labelW + cellW * (j + 0.5), y: 16, "text-anchor": "middle", class: "tick" }, c)));
    rows.forEach((r, i) => {
      const y0 = 24 + i * cellH;
      svg.append(el("text", { x: labelW - 8, y: y0 + cellH / 2 + 5, "text-anchor": "end", class: "tick" }, r));
      cols.forEach((c, j) => {
        const got = cell(r, c);
        if (!got) return;
        const v = got.value;
        const fill = v === null ? "#eef1f4" : v >= 0.9 ? "#cdebd5" : v >= 0.75 ? "#fbe3a6" : "#f6b8b8";
        const x0 = labelW + j * cellW;
        const rect = el("rect", { x: x0 + 1, y: y0 + 1, width: cellW - 2, height: cellH - 2, fill, rx: 4,
                                  class: "cell", "data-value": v === null ? "" : v });
        rect.append(el("title", {}, got.title));
        svg.append(rect);
        svg.append(el("text", { x: x0 + cellW / 2, y: y0 + 21, "text-anchor": "middle", class: "cell-text" }, got.text));
        svg.append(el("text", { x: x0 + cellW / 2, y: y0 + 38, "text-anchor": "middle", class: "tick" }, got.sub));
        desc.push(got.title);
      });
    });
    svg.prepend(el("title", {}, caption), el("desc", {}, desc.join("; ")));
    figure.append(svg);
    return svg;
  }

  window.DashCharts = { lines, hbars, heat, PALETTE };
})();
