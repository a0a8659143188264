"""The weekly performance review as markdown and as one self-contained HTML page (plots inline as
SVG, matplotlib's Agg backend), from the review `triage report weekly` builds (api/cli/report.py):

    review = {"title", "label", "from", "to", "filters", "current": <compute_kpis>, "previous":
              [<trend point>...] (oldest first), "previous_labels", "changes": what_changed(...),
              "weeks": weekly_trend(...), "topics", "undone", "eval_runs"}
    write_review(review, Path("reports/2026-W48"))   # weekly.md, weekly.html, weekly.json

"Volumes, bounce rates, recurring issue patterns and deployment impact": the KPIs against the
previous periods and what changed, the weekly trend, bounces (reopened, handed off, auto-resolutions
undone), the top recurring issues and spikes, SLA breaches by client tier x priority, and the
deployment impact: root causes fixed (new tickets per week before and after the fix) and the last
eval runs side by side.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

KPI_LABELS: dict[str, str] = {
    "tickets_created": "New tickets",
    "ai_triaged_rate": "AI-triaged",
    "auto_resolution_rate": "Auto-resolution rate",
    "durable_auto_resolution_rate": "Durable auto-resolution rate (7 days)",
    "handoff_rate": "Handoff rate",
    "reopen_rate": "Reopen rate",
    "first_contact_resolution_rate": "First-contact resolution",
    "first_response_seconds_p50": "First response p50",
    "first_response_seconds_p90": "First response p90",
    "resolution_seconds_p50": "Resolution p50",
    "resolution_seconds_p90": "Resolution p90",
    "resolution_seconds_mean": "MTTR (mean resolution)",
    "backlog": "Backlog at the end",
    "csat": "CSAT",
    "sla_adherence_rate": "SLA adherence",
}
REASONS = {
    "first_response_late": "first response late",
    "first_response_missing": "no first response, past due",
    "resolution_late": "resolved late",
    "resolution_missing": "unsolved, past due",
}


def is_rate(key: str) -> bool:
    return key.endswith("_rate") or key == "csat"


def fmt_duration(seconds: float | None) -> str:
    """`1.4 h (5,219 s)`: hours (or minutes) to read, the seconds /kpis answers to check."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ({seconds:,.0f} s)"
    return f"{seconds / 3600:.1f} h ({seconds:,.0f} s)"


def fmt(key: str, value: float | None) -> str:
    """A KPI as the review prints it: a rate as a percentage (1 decimal), a time as hours and seconds,
    a count as a number."""
    if value is None:
        return "—"
    if is_rate(key):
        return f"{100 * value:.1f}%"
    if "seconds" in key:
        return fmt_duration(value)
    return f"{value:,.0f}"


def fmt_change(key: str, change: float | None) -> str:
    if change is None:
        return ""
    if is_rate(key):
        return f"{100 * change:+.1f} pts"
    if "seconds" in key:
        return f"{change / 3600:+.1f} h"
    return f"{change:+,.0f}"


def _day(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else str(value or "")[:10]


def _md_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return str("—" if v is None else v).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return out


# ---- the review's sections, as (heading, table head, rows, sentences) ----------------------------------


def headline(review: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = [
        "KPI",
        review["label"],
        review["previous_labels"][-1] if review["previous_labels"] else "before",
        "change",
        f"mean of the {len(review['previous'])} before",
    ]
    rows: list[list[str]] = []
    for c in review["changes"]:
        key = c["kpi"]
        mark = "" if c["better"] is None else (" (better)" if c["better"] else " (worse)")
        change = fmt_change(key, c["change"])
        rows.append(
            [
                str(KPI_LABELS.get(key, key)),
                fmt(key, c["value"]),
                fmt(key, c["previous"]),
                f"{change}{mark}" if change else "",
                fmt(key, c["mean_before"]),
            ]
        )
    return head, rows


def what_changed_lines(review: dict[str, Any], top: int = 6) -> list[str]:
    """The biggest moves against the previous period, worst first, then the spikes."""
    lines: list[str] = []
    moved = [c for c in review["changes"] if c["better"] is not None and c["previous"] not in (None, 0)]

    def size(c: dict[str, Any]) -> float:
        return abs(float(c["change"]) / float(c["previous"])) if c["previous"] else 0.0

    for c in sorted(moved, key=lambda c: (c["better"], -size(c)))[:top]:
        key = c["kpi"]
        verb = "rose" if c["change"] > 0 else "fell"
        lines.append(
            f"{KPI_LABELS.get(key, key)} {verb} from {fmt(key, c['previous'])} to {fmt(key, c['value'])} "
            f"({fmt_change(key, c['change'])}, {'better' if c['better'] else 'worse'})."
        )
    for alert in (review.get("topics") or {}).get("alerts", []):
        lines.append(f"Spike: {alert['message']}" + (f" (root cause {alert['rca']})" if alert.get("rca") else ""))
    undone = review.get("undone") or {}
    if undone.get("total"):
        lines.append(
            f"{undone['total']} auto-resolutions of this period were undone (reopened or taken over by a person)."
        )
    return lines or ["Nothing moved against the previous period."]


def trend_rows(review: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    keys = (
        "tickets_created",
        "backlog",
        "auto_resolution_rate",
        "durable_auto_resolution_rate",
        "handoff_rate",
        "reopen_rate",
        "first_response_seconds_p50",
        "resolution_seconds_p50",
        "csat",
        "sla_adherence_rate",
    )
    head = ["week", *(KPI_LABELS[k] for k in keys)]
    rows = [
        [w["week"] + (" (so far)" if w.get("partial") else ""), *(fmt(k, w.get(k)) for k in keys)]
        for w in review["weeks"]
    ]
    return head, rows


def bounce_rows(review: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    c = review["current"]
    head = ["bounce", "tickets", "of", "rate"]
    rows = [
        [
            "reopened after a solve",
            f"{c['reopened']:,}",
            f"{c['solved']:,} solved",
            fmt("reopen_rate", c["reopen_rate"]),
        ],
        [
            "handed off by the service",
            f"{c['handoffs']:,}",
            f"{c['ai_triaged']:,} triaged",
            fmt("handoff_rate", c["handoff_rate"]),
        ],
        [
            "auto-resolutions undone",
            f"{(review.get('undone') or {}).get('total', 0):,}",
            f"{c['auto_resolved']:,} auto-resolved",
            fmt("undone_rate", (review["undone"]["total"] / c["auto_resolved"]) if c["auto_resolved"] else None),
        ],
    ]
    return head, rows


def topic_rows(review: dict[str, Any], top: int = 10) -> tuple[list[str], list[list[str]]]:
    topics = review.get("topics") or {}
    spiking = {a["cluster"] for a in topics.get("alerts", [])}
    head = ["issue (top terms)", "tickets", "last 7 days", "weekly before", "growth", "root cause"]
    rows = []
    for c in sorted(topics.get("clusters", []), key=lambda c: (-c["score"], c["id"]))[:top]:
        rca = c["rca"]
        root = f"{rca['id']} ({rca['status']})" if rca else "new root-cause candidate"
        growth = f"{c['growth']:.1f}x" + (" SPIKE" if c["id"] in spiking else "")
        rows.append(
            [", ".join(c["terms"][:4]), str(c["size"]), str(c["last_week"]), str(c["baseline_weekly"]), growth, root]
        )
    return head, rows


def sla_rows(review: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    sla = review["current"].get("sla") or {}
    head = ["client tier", "priority", "tickets", "adherence", "met", "breached", "breach reasons"]
    rows = []
    for cell in sla.get("cells", []):
        if not cell["has_target"]:
            continue
        reasons = ", ".join(f"{REASONS[r]} {n}" for r, n in cell["breaches"].items() if n)
        rows.append(
            [
                cell["tier"],
                cell["priority"],
                str(cell["tickets"]),
                fmt("adherence_rate", cell["adherence_rate"]),
                str(cell["met"]),
                str(cell["breached"]),
                reasons or "—",
            ]
        )
    return head, rows


def undone_rows(review: dict[str, Any], top: int = 20) -> tuple[list[str], list[list[str]]]:
    head = ["ticket", "auto-resolved", "undone by", "after", "category", "root cause"]
    rows = [
        [
            f"{i['source']} {i['external_id']}",
            _day(i["auto_resolved_at"]),
            i["how"].replace("_", " "),
            fmt_duration(i["undone_after_seconds"]).split(" (")[0],
            i["category"] or "—",
            i["linked_issue"] or "—",
        ]
        for i in (review.get("undone") or {}).get("items", [])[:top]
    ]
    return head, rows


def root_cause_rows(review: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["root cause", "status", "fixed", "linked (period / ever)", "new per week before -> after the fix"]
    rows = []
    for c in review["current"].get("root_causes", []):
        change = "—"
        if c.get("per_week_before_fix") is not None:
            after = c.get("per_week_after_fix")
            change = f"{c['per_week_before_fix']:.2f} -> {'—' if after is None else f'{after:.2f}'}"
        rows.append(
            [
                f"{c['id']}: {c['title'] or ''}".strip(": "),
                c["status"],
                _day(c.get("fixed_at")) or "—",
                f"{c['tickets_linked_in_period']} / {c['tickets_linked']}",
                change,
            ]
        )
    return head, rows


def eval_rows(review: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    runs = (review.get("eval_runs") or {}).get("runs", [])
    head = ["metric", *(f"{r['name']} ({_day(r['at'])})" for r in runs)]
    rows = [
        [row["label"], *("—" if v is None else _scalar(row["key"], v) for v in row["values"])]
        for row in (review.get("eval_runs") or {}).get("rows", [])
    ]
    return head, rows


def _scalar(key: str, v: float) -> str:  # evals/compare.py's format_scalar
    if key == "tickets_per_s":
        return f"{v:.0f}"
    if key in ("ece", "mrr"):
        return f"{v:.4f}"
    if key.startswith("seconds"):
        return f"{v:.2f} s"
    return f"{100 * v:.2f}%"


SECTIONS = (
    ("Volumes week by week", trend_rows, "No weeks."),
    ("Bounces", bounce_rows, ""),
    ("Top recurring issues", topic_rows, "Too few tickets stored by the service to find recurring issues."),
    ("SLA by client tier and priority", sla_rows, "No SLA targets, or no ticket with a known SLA outcome."),
    ("Auto-resolutions undone", undone_rows, "None."),
    ("Deployment impact: L3 root causes", root_cause_rows, "No RCA documents."),
    (
        "Deployment impact: the last eval runs",
        eval_rows,
        "No eval runs stored (triage eval ... --json <data_dir>/runs/NAME.json).",
    ),
)


def render_markdown(review: dict[str, Any]) -> str:
    c = review["current"]
    lines = [
        f"# {review['title']}",
        "",
        f"Tickets created from {_day(review['from'])} to {_day(review['to'])} (exclusive)"
        + (f", {', '.join(f'{k} {v}' for k, v in review['filters'].items())}" if review["filters"] else "")
        + f"; compared with the {len(review['previous'])} periods before ({', '.join(review['previous_labels'])}).",
        "",
        f"**{c['tickets_created']:,} new tickets**, backlog {c['backlog']:,} at the end, "
        f"auto-resolution {fmt('auto_resolution_rate', c['auto_resolution_rate'])} "
        f"(durable {fmt('durable_auto_resolution_rate', c['durable_auto_resolution_rate'])}, "
        f"{c['auto_resolutions_pending_verification']} still inside their 7 days), "
        f"SLA adherence {fmt('sla_adherence_rate', c['sla_adherence_rate'])}, CSAT {fmt('csat', c['csat'])}.",
        "",
        "## What changed",
        "",
    ]
    lines += [f"- {line}" for line in what_changed_lines(review)]
    head, rows = headline(review)
    lines += ["", "## The KPIs", "", *_md_table(head, rows)]
    for title, builder, empty in SECTIONS:
        head, rows = builder(review)
        lines += ["", f"## {title}", ""]
        lines += _md_table(head, rows) if rows else [empty]
    return "\n".join(lines) + "\n"


# ---- plots -------------------------------------------------------------------------------------------


def _svg(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _legend_below(ax: Any, columns: int) -> None:
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=columns, fontsize=8, frameon=False)


def plots(review: dict[str, Any]) -> dict[str, str]:
    """Inline SVG plots: volume and backlog, rates, times, SLA breach reasons, root causes before/after."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    matplotlib.rcParams["svg.hashsalt"] = "triage-weekly"  # the same ids on every run
    weeks = review["weeks"]
    labels = [w["week"][5:] + ("*" if w.get("partial") else "") for w in weeks]
    x = list(range(len(weeks)))

    def col(key: str, scale: float = 1.0) -> list[float]:
        return [float("nan") if w.get(key) is None else float(w[key]) / scale for w in weeks]

    out: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    ax.bar(x, col("tickets_created"), color="#7aa7e6", label="new tickets")
    ax.plot(x, col("backlog"), color="#a3191c", marker="o", label="backlog at the week's end")
    ax.set_xticks(x, labels)
    ax.set_title("New tickets and backlog per week")
    _legend_below(ax, 2)
    out["Volume"] = _svg(fig)

    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for key, name, color in (
        ("auto_resolution_rate", "auto-resolved", "#0a4fb4"),
        ("durable_auto_resolution_rate", "durable", "#136c2e"),
        ("handoff_rate", "handed off", "#c2410c"),
        ("reopen_rate", "reopened", "#7c3aed"),
        ("sla_adherence_rate", "SLA adherence", "#4a5361"),
    ):
        ax.plot(x, [v * 100 for v in col(key)], marker="o", color=color, label=name)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_xticks(x, labels)
    ax.set_title("Rates per week")
    _legend_below(ax, 5)
    out["Rates"] = _svg(fig)

    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for key, name, color in (
        ("first_response_seconds_p50", "first response p50", "#0a4fb4"),
        ("first_response_seconds_p90", "first response p90", "#7aa7e6"),
        ("resolution_seconds_p50", "resolution p50", "#c2410c"),
        ("resolution_seconds_p90", "resolution p90", "#f0a070"),
    ):
        ax.plot(x, col(key, 3600), marker="o", color=color, label=name)
    ax.set_ylabel("hours")
    ax.set_xticks(x, labels)
    ax.set_title("First response and resolution times per week")
    _legend_below(ax, 4)
    out["Times"] = _svg(fig)

    breaches = (review["current"].get("sla") or {}).get("breaches") or {}
    if any(breaches.values()):
        fig, ax = plt.subplots(figsize=(7.5, 2.4))
        names = [REASONS[r] for r in REASONS]
        ax.barh(names, [breaches.get(r, 0) for r in REASONS], color=["#c2410c", "#a3191c", "#7c3aed", "#4a5361"])
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title("SLA breaches by reason (this period)")
        out["SLA breaches"] = _svg(fig)

    fixed = [c for c in review["current"].get("root_causes", []) if c.get("per_week_before_fix") is not None]
    if fixed:
        fig, ax = plt.subplots(figsize=(7.5, 2.8))
        ids = [c["id"] for c in fixed]
        pos = list(range(len(ids)))
        ax.bar(
            [p - 0.2 for p in pos],
            [c["per_week_before_fix"] for c in fixed],
            0.4,
            color="#c2410c",
            label="before the fix",
        )
        ax.bar(
            [p + 0.2 for p in pos],
            [c.get("per_week_after_fix") or 0 for c in fixed],
            0.4,
            color="#136c2e",
            label="after the fix",
        )
        ax.set_xticks(pos, ids)
        ax.set_xlim(-0.8, max(2, len(ids)) - 0.2)  # one fixed cause is not one wall-wide bar
        ax.set_ylabel("new tickets per week")
        ax.set_title("Root causes fixed: new linked tickets, 28 days before and after")
        ax.legend(fontsize=8)
        out["Root causes"] = _svg(fig)
    return out


def _html_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(review: dict[str, Any]) -> str:
    """One file: the markdown's sections as HTML, the plots inline (SVG); nothing loaded from elsewhere."""
    css = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1b1f24}"
        "table{border-collapse:collapse;margin:0.6em 0;display:block;overflow-x:auto}"
        "td,th{border:1px solid #c9d1da;padding:4px 8px;text-align:left}th{background:#f5f7fa}"
        ".plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,480px),1fr));gap:1em}"
        ".plots figure{margin:0}.plots svg{width:100%;height:auto}li{margin:0.2em 0}"
    )
    md = render_markdown(review).split("\n")
    summary = html.escape(md[2]) + "<p>" + html.escape(md[4]).replace("**", "") + "</p>"
    parts = [f"<h1>{html.escape(review['title'])}</h1>", f"<p>{summary}</p>", "<h2>What changed</h2><ul>"]
    parts += [f"<li>{html.escape(line)}</li>" for line in what_changed_lines(review)]
    parts.append("</ul>")
    figures = "".join(
        f"<figure><figcaption>{html.escape(name)}</figcaption>{svg}</figure>" for name, svg in plots(review).items()
    )
    parts.append(f'<div class="plots">{figures}</div>')
    head, rows = headline(review)
    parts += ["<h2>The KPIs</h2>", _html_table(head, rows)]
    for title, builder, empty in SECTIONS:
        head, rows = builder(review)
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(_html_table(head, rows) if rows else f"<p>{html.escape(empty)}</p>")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(review['title'])}</title><style>{css}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )


def write_review(review: dict[str, Any], directory: Path, encode: Any = None) -> dict[str, Path]:
    """weekly.md, weekly.html and weekly.json (the review's data) in `directory`. `encode` turns the
    review into JSON-able data (fastapi's jsonable_encoder in the CLI); default: str() for datetimes."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": directory / "weekly.md", "html": directory / "weekly.html", "json": directory / "weekly.json"}
    paths["markdown"].write_text(render_markdown(review), encoding="utf-8")
    paths["html"].write_text(render_html(review), encoding="utf-8")
    data = encode(review) if encode is not None else review
    paths["json"].write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return paths
