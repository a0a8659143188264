"""`triage tune`: choose the auto-resolve thresholds that maximise auto-resolution on a dev set
subject to a wrong-resolution budget, and write them into the policy file.

What moves: each category's `auto_threshold` (category confidence), `retrieval.auto_at_least`
(match score of the best document) and `retrieval.suggest_at_least` (below it a ticket is handed
off instead of drafted). What never moves: risk rules, out-of-scope and open-known-issue handoffs,
the ground check; a ticket those stop is never a candidate, whatever the thresholds.

Search: for each candidate `auto_at_least` (the scores seen on dev), a greedy allocation over the
categories: repeatedly lower the category threshold whose next step adds auto-resolutions at the
lowest share of wrong ones, as long as wrong <= max_wrong x auto-resolved. The best allocation
(most auto-resolutions, then fewest wrong, then the stricter match score) wins.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from agent.policy import Policy, load_policy
from evals.resolve import Trace, outcome_metrics, permissive

MAX_GRID = 60


@dataclass
class Candidate:
    category: str
    confidence: float
    score: float
    wrong: bool


@dataclass
class TuneResult:
    policy: Policy
    auto_at_least: float
    suggest_at_least: float
    thresholds: dict[str, float]
    untouched: list[str]  # categories with no candidate on dev: base threshold kept
    dev: dict[str, Any]
    base_dev: dict[str, Any]
    notes: list[str] = field(default_factory=list[str])


def candidates(traces: list[Trace], base: Policy) -> list[Candidate]:
    """Tickets that some threshold setting would auto-resolve, with whether that would be wrong."""
    open_policy = permissive(base)
    out: list[Candidate] = []
    for t in traces:
        d = t.decide(open_policy)
        if d.action == "auto_resolve" and t.hits:
            out.append(Candidate(t.triage.category.value, t.triage.category.confidence, t.hits[0].score, t.is_wrong(d)))
    return out


def _allocate(cands: list[Candidate], max_wrong: float) -> tuple[dict[str, int], int, int, dict[str, list[Candidate]]]:
    by_cat: dict[str, list[Candidate]] = {}
    for c in sorted(cands, key=lambda c: -c.confidence):
        by_cat.setdefault(c.category, []).append(c)
    taken = dict.fromkeys(by_cat, 0)
    auto = wrong = 0
    while True:
        best: tuple[float, int, str, int, int] | None = None  # (wrong share, -added, cat, new index, added wrong)
        for cat, lst in by_cat.items():
            i = taken[cat]
            w = 0
            for j in range(i + 1, len(lst) + 1):
                w += lst[j - 1].wrong
                if j < len(lst) and lst[j].confidence == lst[j - 1].confidence:
                    continue  # a threshold cannot split equal confidences
                added = j - i
                if wrong + w > max_wrong * (auto + added) + 1e-9:
                    continue
                key = (w / added, -added, cat, j, w)
                if best is None or key < best:
                    best = key
        if best is None:
            return taken, auto, wrong, by_cat
        _, neg_added, cat, j, w = best
        taken[cat] = j
        auto += -neg_added
        wrong += w


def _between(hi: float, lo: float | None) -> float:
    """A threshold that keeps `hi` and drops `lo`: the midpoint, rounded down to 3 decimals."""
    if lo is None:
        return round(max(0.0, hi - 0.005), 3)
    mid = (hi + lo) / 2
    t = int(mid * 1000) / 1000
    return t if lo < t <= hi else hi


def tune(
    traces: list[Trace], base: Policy, max_wrong: float = 0.01, min_handoff_recall: float | None = 0.8
) -> TuneResult:
    if not 0 <= max_wrong < 1:
        raise ValueError("--max-wrong is a share of auto-resolved tickets, between 0 and 1 (e.g. 0.01)")
    cands = candidates(traces, base)
    scores = sorted({c.score for c in cands}, reverse=True)
    if len(scores) > MAX_GRID:
        step = len(scores) / MAX_GRID
        scores = sorted({scores[int(i * step)] for i in range(MAX_GRID)} | {scores[-1]}, reverse=True)
    best: tuple[int, int, float, dict[str, int], dict[str, list[Candidate]]] | None = None
    for r in scores:
        taken, auto, wrong, by_cat = _allocate([c for c in cands if c.score >= r], max_wrong)
        key = (auto, -wrong, r)
        if best is None or key > (best[0], -best[1], best[2]):
            best = (auto, wrong, r, taken, by_cat)
    thresholds = {n: rule.auto_threshold for n, rule in base.categories.items()}
    untouched = sorted(n for n in base.categories if n != "other" and not any(c.category == n for c in cands))
    notes: list[str] = []
    if best is None or best[0] == 0:
        auto_at_least = base.retrieval.auto_at_least
        r_all = sorted({c.score for c in cands})
        auto_at_least = max(auto_at_least, (r_all[-1] + 0.01) if r_all else auto_at_least)
        for n in base.categories:
            if n != "other" and n not in untouched:
                thresholds[n] = 1.01
        notes.append("no threshold setting meets the budget on this dev set: auto-resolution is switched off")
    else:
        _, _, r, taken, by_cat = best
        lower = [c.score for c in cands if c.score < r]
        auto_at_least = _between(r, max(lower) if lower else None)
        for cat, lst in by_cat.items():
            j = taken[cat]
            if j == 0:
                thresholds[cat] = min(1.01, round(lst[0].confidence + 0.001, 3))
            else:
                thresholds[cat] = _between(lst[j - 1].confidence, lst[j].confidence if j < len(lst) else None)
        for cat in base.categories:  # a category with candidates only below the chosen match score
            if cat not in by_cat and cat not in untouched and cat != "other":
                thresholds[cat] = base.categories[cat].auto_threshold
    tuned = _with(base, thresholds, auto_at_least, base.retrieval.suggest_at_least)
    suggest_at_least = base.retrieval.suggest_at_least
    if min_handoff_recall is not None:
        suggest_at_least, note = _tune_suggest(traces, tuned, min_handoff_recall, auto_at_least)
        if note:
            notes.append(note)
        tuned = _with(base, thresholds, auto_at_least, suggest_at_least)
    return TuneResult(
        policy=tuned,
        auto_at_least=auto_at_least,
        suggest_at_least=suggest_at_least,
        thresholds=thresholds,
        untouched=untouched,
        dev=outcome_metrics(traces, tuned),
        base_dev=outcome_metrics(traces, base),
        notes=notes,
    )


def _with(base: Policy, thresholds: dict[str, float], auto_at_least: float, suggest_at_least: float) -> Policy:
    cats = {n: r.model_copy(update={"auto_threshold": thresholds[n]}) for n, r in base.categories.items()}
    retrieval = base.retrieval.model_copy(update={"auto_at_least": auto_at_least, "suggest_at_least": suggest_at_least})
    return base.model_copy(update={"categories": cats, "retrieval": retrieval})


def _tune_suggest(traces: list[Trace], policy: Policy, target: float, cap: float) -> tuple[float, str | None]:
    """The lowest `suggest_at_least` (so the fewest answerable tickets lose their draft) that hands
    off at least `target` of the tickets that should go to a human; never above `cap`."""
    base_value = policy.retrieval.suggest_at_least
    m = outcome_metrics(traces, policy)
    if m["handoff_recall"] is None or m["handoff_recall"] >= target:
        return base_value, None
    grid = sorted({t.hits[0].score for t in traces if t.hits and base_value < t.hits[0].score <= cap})
    for s in grid:
        value = math.floor(s * 1000) / 1000 + 0.001  # hands off the ticket scoring s
        p = policy.model_copy(update={"retrieval": policy.retrieval.model_copy(update={"suggest_at_least": value})})
        got = outcome_metrics(traces, p)
        if (got["handoff_recall"] or 0.0) >= target:
            return value, None
    return base_value, (
        f"handoff recall {m['handoff_recall']:.0%} cannot reach {target:.0%} by the match score alone "
        "without handing off the tickets it auto-resolves; left suggest_at_least as it was"
    )


# ---- writing the policy file ------------------------------------------------------------------


def _fmt(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v < 1.01 else "1.01"


def render_policy(base_text: str | None, base: Policy, result: TuneResult, figures: dict[str, Any]) -> str:
    """The policy file with the tuned thresholds and a `tuned:` section holding the dev figures.

    When the base file has the same categories, its text is edited in place so its comments stay;
    otherwise (a dataset's own categories) the whole policy is written out."""
    version = f"{datetime.now(UTC):%Y-%m-%d}.tuned-{figures['dev_sha256'][:8]}"
    tuned_block = yaml.safe_dump({"tuned": figures}, sort_keys=False, allow_unicode=True, width=110)
    if base_text is not None and list(base.categories) == list(result.policy.categories):
        text = base_text
        text = re.sub(r"(?ms)^# --- tuned by `triage tune`.*\Z", "", text).rstrip() + "\n"
        text = re.sub(r"(?m)^version:.*$", f'version: "{version}"', text, count=1)
        for name, value in result.thresholds.items():
            pat = re.compile(rf"(?m)^(  {re.escape(name)}:\n(?:    .*\n)*?    auto_threshold: )([0-9.]+)")
            text, n = pat.subn(lambda m, v=value: m.group(1) + _fmt(v), text, count=1)
            if n != 1:
                break
        else:
            for key, value in (
                ("auto_at_least", result.auto_at_least),
                ("suggest_at_least", result.suggest_at_least),
            ):
                text, n = re.subn(
                    rf"(?m)^(  {key}: )(-?[0-9.]+)", lambda m, v=value: m.group(1) + _fmt(v), text, count=1
                )
                if n != 1:
                    break
            else:
                return (
                    text + "\n# --- tuned by `triage tune` (dev-set figures; do not edit by hand) ---\n" + tuned_block
                )
    data = result.policy.model_dump(mode="json", exclude={"tuned"})
    data["version"] = version
    head = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    return (
        "# Written by `triage tune` from the base policy; see agent/policy.yaml for what each field means.\n"
        + head
        + "\n# --- tuned by `triage tune` (dev-set figures; do not edit by hand) ---\n"
        + tuned_block
    )


def write_policy(path: Path, text: str, expect: TuneResult) -> Policy:
    """Write, then read back and check every tuned value landed (a hand-edited file can defeat the
    in-place edit; better to fail loudly than to run with thresholds nobody chose)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    got = load_policy(tmp)
    problems = [
        n for n, v in expect.thresholds.items() if abs(got.categories[n].auto_threshold - float(_fmt(v))) > 1e-9
    ]
    if abs(got.retrieval.auto_at_least - float(_fmt(expect.auto_at_least))) > 1e-9:
        problems.append("retrieval.auto_at_least")
    if abs(got.retrieval.suggest_at_least - float(_fmt(expect.suggest_at_least))) > 1e-9:
        problems.append("retrieval.suggest_at_least")
    if problems:
        tmp.unlink()
        raise ValueError(f"writing {path}: tuned values did not land for {', '.join(problems)}")
    tmp.replace(path)
    return got
