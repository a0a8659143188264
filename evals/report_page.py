"""The report page every eval writes: one self-contained HTML file (plots inlined), its tables."""

from __future__ import annotations

import base64
import html
from pathlib import Path


def html_img(path: Path) -> str:
    """A PNG inlined into the page, so the report is one self-contained file."""
    return f'<img alt="{path.stem}" src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'


def html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def html_page(
    title: str, facts: list[tuple[str, str]], summary: list[tuple[str, str]], body: str, extra_css: str = ""
) -> str:
    """The report page every eval writes: title, run facts, the metric table, then `body`."""
    css = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}"
        f"{extra_css}.plots img{{max-width:100%;margin:0.5em;border:1px solid #eee}}"
    )
    items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in facts)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{css}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<ul>{items}</ul>
{html_table(["metric", "value"], [[k, v] for k, v in summary])}
{body}
</body></html>
"""
