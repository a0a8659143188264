"""What the masking changes in a set of texts: `python -m agent.graph.redaction PATH... [--show N]`.

PATH: a `.jsonl` file of tickets (`subject` and `body`, joined as the redact node joins them), a
markdown / text file, or a folder of them. Prints, per file, how many texts changed and the counts by
kind, then the totals; `--show N` also prints up to N masked spans per kind with their context (the
values themselves: for reviewing false positives on data you may read, never on customer data).
"""

from __future__ import annotations

import argparse
import difflib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from agent.graph.redaction import PLACEHOLDER, redact


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p.suffix in (".md", ".txt", ".jsonl"):
                yield from _texts(p)
        return
    if path.suffix == ".jsonl":
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                text = f"{row.get('subject', '')}\n\n{row.get('body', '')}".strip()
                yield f"{path}:{row.get('id', i)}", text
        return
    yield str(path), path.read_text(encoding="utf-8")


def _masked_spans(text: str, masked: str) -> Iterator[tuple[str, tuple[int, int]]]:
    """Each placeholder in `masked` with the span of `text` it replaced (through a character diff)."""
    ops = difflib.SequenceMatcher(None, text, masked, autojunk=False).get_opcodes()

    def back(b: int, end: bool) -> int:
        for op, a1, a2, b1, b2 in ops:
            if b1 <= b < b2 or (end and b1 < b <= b2):
                return a1 + (b - b1) if op == "equal" else (a2 if end else a1)
        return len(text)

    for m in PLACEHOLDER.finditer(masked):
        yield m.group(0), (back(m.start(), False), back(m.end(), True))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m agent.graph.redaction", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--show", type=int, default=0, help="print up to N masked spans per kind, in context")
    args = ap.parse_args(argv)
    total: Counter[str] = Counter()
    samples: defaultdict[str, list[str]] = defaultdict(list)
    for root in args.paths:
        counts: Counter[str] = Counter()
        n = changed = 0
        for where, text in _texts(root):
            masked, found = redact(text)
            n += 1
            changed += bool(found)
            counts.update(found)
            if args.show and found:
                for kind, (a1, a2) in _masked_spans(text, masked):
                    line = f"{where}: ...{text[max(0, a1 - 40) : a1]}<<{text[a1:a2]}>>{text[a2 : a2 + 20]}..."
                    samples[kind].append(line.replace("\n", " "))
        total.update(counts)
        print(f"{root}: {n} texts, {changed} changed, {dict(sorted(counts.items()))}")
    print(f"total: {dict(sorted(total.items()))}")
    for kind, lines in sorted(samples.items()):
        print(f"\n{kind} ({len(lines)})")
        for line in lines[: args.show]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
