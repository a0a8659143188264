"""`triage tune`: choose the auto-resolve thresholds that maximise auto-resolution on a dev set
subject to a wrong-resolution budget, and write them into the policy file.

What moves: each category's `auto_threshold` (category confidence), `retrieval.auto_at_least`
(match score of the best document), `retrieval.auto_min_margin` (how much the best document must
beat the next), `retrieval.auto_min_answerability` (the calibrated chance that the reply resolves
the ticket, `agent.graph.answerability`), and, for a handoff-recall target,
`retrieval.suggest_min_answerability` then `retrieval.suggest_at_least` (below them a ticket is
handed off instead of drafted). What never moves: risk rules, out-of-scope and open-known-issue
handoffs, the ground check, the answerability model itself; a ticket those stop is never a
candidate, whatever the thresholds.

Search: for each candidate triple (`auto_min_answerability`, `auto_at_least`, `auto_min_margin`)
from the values seen on dev, a greedy allocation over the categories: repeatedly lower the category
threshold whose next step adds auto-resolutions at the lowest share of wrong ones, as long as
wrong <= max_wrong x auto-resolved. The best allocation (most auto-resolutions, then fewest wrong,
then the stricter answerability, match score and margin) wins.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from agent.domain import Decision
from agent.graph.nodes.classify import nearest_doc_category
from agent.graph.policy import Policy, load_policy, match_margin
from evals.resolve.metrics import outcome_metrics
from evals.resolve.replay import Trace, permissive

MAX_GRID = 40  # match-score values tried
MAX_MARGIN_GRID = 15
# with an answerability model the search has a third axis: fewer score and margin values per P value
MAX_P_GRID = 24
MAX_GRID_WITH_P = 12
MAX_MARGIN_GRID_WITH_P = 6


@dataclass
class Candidate:
    category: str
    confidence: float
    score: float
    margin: float
    wrong: bool
    p: float | None = None  # P(resolves) under the base policy's answerability model


@dataclass
class TuneResult:
    policy: Policy
    auto_at_least: float
    auto_min_margin: float
    suggest_at_least: float
    thresholds: dict[str, float]
    auto_min_answerability: float
    suggest_min_answerability: float
    untouched: list[str]  # categories with no candidate on dev: base threshold kept
    dev: dict[str, Any]
    base_dev: dict[str, Any]
    notes: list[str] = field(default_factory=list[str])
    cv: dict[str, Any] | None = None  # cross-validated estimate (see cross_validate)


def candidates(traces: list[Trace], base: Policy) -> list[Candidate]:
    """Tickets that some threshold setting would auto-resolve, with whether that would be wrong."""
    open_policy = permissive(base)
    out: list[Candidate] = []
    for t in traces:
        d = t.decide(open_policy)
        if d.action == "auto_resolve" and t.hits:
            out.append(
                Candidate(
                    t.triage.category.value,
                    t.triage.category.confidence,
                    t.hits[0].score,
                    match_margin(t.hits),
                    t.is_wrong(d),
                    t.answerability(base),
                )
            )
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
    traces: list[Trace],
    base: Policy,
    max_wrong: float = 0.01,
    min_handoff_recall: float | None = 0.8,
    cv_folds: int = 0,
) -> TuneResult:
    if not 0 <= max_wrong < 1:
        raise ValueError("--max-wrong is a share of auto-resolved tickets, between 0 and 1 (e.g. 0.01)")
    cands = candidates(traces, base)
    known = sorted({c.p for c in cands if c.p is not None}, reverse=True)
    with_p = bool(known)
    p_grid = [0.0, *sorted(_grid(known, MAX_P_GRID))] if with_p else [0.0]
    scores = _grid(sorted({c.score for c in cands}, reverse=True), MAX_GRID_WITH_P if with_p else MAX_GRID)
    margins = _grid(sorted({c.margin for c in cands} | {-1.0}), MAX_MARGIN_GRID_WITH_P if with_p else MAX_MARGIN_GRID)
    # (auto, wrong, a, r, m, taken, by_cat): a = auto_min_answerability, r = auto_at_least, m = auto_min_margin
    best: tuple[int, int, float, float, float, dict[str, int], dict[str, list[Candidate]]] | None = None
    for a in p_grid:
        by_p = [c for c in cands if c.p is None or c.p >= a]
        for r in scores:
            pool = [c for c in by_p if c.score >= r]
            for m in margins:
                chosen = [c for c in pool if c.margin >= m]
                if best is not None and len(chosen) < best[0]:
                    continue  # cannot auto-resolve more than the best so far
                taken, auto, wrong, by_cat = _allocate(chosen, max_wrong)
                key = (auto, -wrong, a, r, m)
                if best is None or key > (best[0], -best[1], best[2], best[3], best[4]):
                    best = (auto, wrong, a, r, m, taken, by_cat)
    thresholds = {n: rule.auto_threshold for n, rule in base.categories.items()}
    untouched = sorted(n for n in base.categories if n != "other" and not any(c.category == n for c in cands))
    notes: list[str] = []
    auto_min_margin = base.retrieval.auto_min_margin
    auto_min_p = base.retrieval.auto_min_answerability
    if best is None or best[0] == 0:
        auto_at_least = base.retrieval.auto_at_least
        r_all = sorted({c.score for c in cands})
        auto_at_least = max(auto_at_least, (r_all[-1] + 0.01) if r_all else auto_at_least)
        for n in base.categories:
            if n != "other" and n not in untouched:
                thresholds[n] = 1.01
        notes.append("no threshold setting meets the budget on this dev set: auto-resolution is switched off")
    else:
        _, _, a, r, m, taken, by_cat = best
        below_p = [c.p for c in cands if c.p is not None and c.p < a]
        auto_min_p = 0.0 if a <= 0.0 else _between(a, max(below_p) if below_p else None)
        lower = [c.score for c in cands if c.score < r]
        auto_at_least = _between(r, max(lower) if lower else None)
        below = [c.margin for c in cands if c.margin < m]
        auto_min_margin = -1.0 if m <= -1.0 else _between(m, max(below) if below else None)
        for cat, lst in by_cat.items():
            j = taken[cat]
            if j == 0:
                thresholds[cat] = min(1.01, round(lst[0].confidence + 0.001, 3))
            else:
                thresholds[cat] = _between(lst[j - 1].confidence, lst[j].confidence if j < len(lst) else None)
        for cat in base.categories:  # a category with candidates only below the chosen match score
            if cat not in by_cat and cat not in untouched and cat != "other":
                thresholds[cat] = base.categories[cat].auto_threshold
    suggest_at_least = base.retrieval.suggest_at_least
    suggest_min_p = min(base.retrieval.suggest_min_answerability, auto_min_p)
    tuned = _with(base, thresholds, auto_at_least, auto_min_margin, suggest_at_least, auto_min_p, suggest_min_p)
    if min_handoff_recall is not None:
        suggest_min_p, suggest_at_least, note = _tune_suggest(
            traces, tuned, min_handoff_recall, auto_at_least, auto_min_p
        )
        if note:
            notes.append(note)
        tuned = _with(base, thresholds, auto_at_least, auto_min_margin, suggest_at_least, auto_min_p, suggest_min_p)
    cv = cross_validate(traces, base, max_wrong, min_handoff_recall, cv_folds) if cv_folds >= 2 else None
    if cv is not None and cv["wrong_resolution_rate"] > max_wrong:
        notes.append(
            f"cross-validated, {cv['wrong_resolution_rate']:.1%} of auto-resolutions were wrong (budget "
            f"{max_wrong:.1%}): this dev set is too small or too hard to hold the budget on unseen tickets"
        )
    return TuneResult(
        cv=cv,
        policy=tuned,
        auto_at_least=auto_at_least,
        auto_min_margin=auto_min_margin,
        suggest_at_least=suggest_at_least,
        thresholds=thresholds,
        auto_min_answerability=auto_min_p,
        suggest_min_answerability=suggest_min_p,
        untouched=untouched,
        dev=outcome_metrics(traces, tuned),
        base_dev=outcome_metrics(traces, base),
        notes=notes,
    )


def _grid(values: list[float], n: int) -> list[float]:
    """At most n of the values, evenly spread, keeping both ends."""
    if len(values) <= n:
        return values
    step = (len(values) - 1) / (n - 1)
    return sorted({values[round(i * step)] for i in range(n)}, reverse=values[0] > values[-1])


def _with(
    base: Policy,
    thresholds: dict[str, float],
    auto_at_least: float,
    auto_min_margin: float,
    suggest_at_least: float,
    auto_min_answerability: float | None = None,
    suggest_min_answerability: float | None = None,
) -> Policy:
    cats = {n: r.model_copy(update={"auto_threshold": thresholds[n]}) for n, r in base.categories.items()}
    r = base.retrieval
    retrieval = r.model_copy(
        update={
            "auto_at_least": auto_at_least,
            "auto_min_margin": auto_min_margin,
            "suggest_at_least": suggest_at_least,
            "auto_min_answerability": r.auto_min_answerability
            if auto_min_answerability is None
            else auto_min_answerability,
            "suggest_min_answerability": r.suggest_min_answerability
            if suggest_min_answerability is None
            else suggest_min_answerability,
        }
    )
    return base.model_copy(update={"categories": cats, "retrieval": retrieval})


def _tune_suggest(
    traces: list[Trace], policy: Policy, target: float, cap: float, cap_p: float
) -> tuple[float, float, str | None]:
    """The handoff thresholds (`suggest_min_answerability`, `suggest_at_least`) that hand off at least
    `target` of the tickets that should go to a human while the fewest answerable tickets lose their
    draft: the lowest answerability threshold that does it (never above the auto one, `cap_p`), else
    the lowest match score (never above `cap`)."""
    r = policy.retrieval
    base_p, base_value = r.suggest_min_answerability, r.suggest_at_least
    m = outcome_metrics(traces, policy)
    if m["handoff_recall"] is None or m["handoff_recall"] >= target:
        return base_p, base_value, None
    ps = sorted({p for t in traces if (p := t.answerability(policy)) is not None and base_p < p <= cap_p})
    for s in ps:
        value = min(1.0, math.floor(s * 10000) / 10000 + 0.0001)  # hands off the ticket at P = s
        p = policy.model_copy(update={"retrieval": r.model_copy(update={"suggest_min_answerability": value})})
        if (outcome_metrics(traces, p)["handoff_recall"] or 0.0) >= target:
            return value, base_value, None
    grid = sorted({t.hits[0].score for t in traces if t.hits and base_value < t.hits[0].score <= cap})
    for s in grid:
        value = math.floor(s * 1000) / 1000 + 0.001  # hands off the ticket scoring s
        p = policy.model_copy(update={"retrieval": r.model_copy(update={"suggest_at_least": value})})
        got = outcome_metrics(traces, p)
        if (got["handoff_recall"] or 0.0) >= target:
            return base_p, value, None
    return (
        base_p,
        base_value,
        f"handoff recall {m['handoff_recall']:.0%} cannot reach {target:.0%} by the answerability or the match "
        "score without handing off the tickets it auto-resolves; left the handoff thresholds as they were",
    )


def cross_validate(
    traces: list[Trace], base: Policy, max_wrong: float, min_handoff_recall: float | None, folds: int = 5
) -> dict[str, Any]:
    """The honest estimate: tune on k-1 folds, decide the held-out fold with those thresholds.
    In-sample dev figures flatter the tuner (it picks exactly the thresholds that avoid the dev
    set's wrong answers); these are what to expect on tickets it has not seen."""
    k = max(2, min(folds, len(traces)))
    fold_of = [int(hashlib.sha256(t.case.id.encode()).hexdigest(), 16) % k for t in traces]
    decisions: list[Decision | None] = [None] * len(traces)
    for f in range(k):
        train = [t for t, g in zip(traces, fold_of, strict=True) if g != f]
        if not train:
            continue
        policy = tune(train, base, max_wrong, min_handoff_recall, cv_folds=0).policy
        for i, (t, g) in enumerate(zip(traces, fold_of, strict=True)):
            if g == f:
                decisions[i] = t.decide(policy)
    got = [d if d is not None else t.decide(base) for t, d in zip(traces, decisions, strict=True)]
    return {"folds": k, **{key: v for key, v in outcome_metrics(traces, None, got).items() if key != "wrong_ids"}}


# ---- the nearest-document category vote's temperature ------------------------------------------

# candidate `retrieval.vote_temperature` values (cosine): multilingual e5's scale up to MiniLM's
VOTE_GRID = (0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.0125, 0.015, 0.02, 0.03, 0.05, 0.08)


@dataclass
class VoteFit:
    """The log-loss of the gold category under the nearest-document vote at each candidate
    temperature, on the dev tickets the vote decides (`fit_vote_temperature`)."""

    best: float | None  # the temperature of the lowest log-loss (None: no ticket to fit on)
    tickets: int
    log_loss: dict[float, float]
    accuracy: dict[float, float]


def fit_vote_temperature(traces: list[Trace], policy: Policy, grid: tuple[float, ...] = VOTE_GRID) -> VoteFit:
    """Fit `retrieval.vote_temperature` by the log-loss of the gold category (`Case.intent`, when it
    is one of the policy's categories other than 'other') under the nearest-document vote, over the
    dev tickets whose category the vote decided (no classifier) and whose best match is in scope. The
    vote's share is the category confidence the per-category `auto_threshold`s compare, so a
    temperature with a lower log-loss makes those confidences calibrated rather than merely sharp.
    Changing it changes the confidences every threshold and the answerability model were chosen on:
    retrain (`triage answerability train`) and re-tune after setting it."""
    cases = [
        t
        for t in traces
        if t.hits
        and t.triage.sources.get("category") == "nearest_doc"
        and t.case.intent in policy.categories
        and t.case.intent != "other"
        and t.hits[0].score >= policy.retrieval.out_of_scope_below
    ]
    losses: dict[float, float] = {}
    accuracy: dict[float, float] = {}
    for temp in grid:
        loss = right = 0.0
        for t in cases:
            cat, _conf, share = nearest_doc_category(t.hits, policy, temp)
            loss -= math.log(max(share.get(t.case.intent or "", 0.0), 1e-4))
            right += cat == t.case.intent
        if cases:
            losses[temp] = round(loss / len(cases), 4)
            accuracy[temp] = round(right / len(cases), 4)
    best = min(losses, key=lambda k: (losses[k], -k)) if losses else None
    return VoteFit(best, len(cases), losses, accuracy)


def format_vote_fit(fit: VoteFit, policy: Policy) -> str:
    """The line `triage tune` prints about the vote temperature."""
    now = policy.retrieval.vote_temperature
    if fit.best is None:
        return f"vote temperature: no dev ticket with a gold category the vote decides; kept {now}"
    at_now = fit.log_loss.get(now)
    shown = f"{at_now:.3f}" if at_now is not None else "n/a"
    return (
        f"vote temperature: log-loss of the gold category on {fit.tickets} dev tickets is lowest at "
        f"{fit.best} ({fit.log_loss[fit.best]:.3f}, accuracy {fit.accuracy[fit.best]:.0%}); the policy has {now} "
        f"({shown}). Set retrieval.vote_temperature by hand, then `triage answerability train` and re-tune"
    )


# ---- what `triage tune` prints and records -----------------------------------------------------


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def format_tune(result: TuneResult, base: Policy, dev: Path) -> str:
    """What `triage tune` prints: each threshold before -> after, the dev figures before, after and
    cross-validated, and the notes."""
    before, after = result.base_dev, result.dev
    lines = [
        f"dev {dev}: {after['tickets']} tickets, {after['answerable']} answerable",
        "threshold                      before -> after",
        f"  retrieval.auto_at_least      {base.retrieval.auto_at_least:.3f} -> {result.auto_at_least:.3f}",
        f"  retrieval.auto_min_margin    {base.retrieval.auto_min_margin:.3f} -> {result.auto_min_margin:.3f}",
        f"  retrieval.suggest_at_least   {base.retrieval.suggest_at_least:.3f} -> {result.suggest_at_least:.3f}",
        f"  retrieval.auto_min_answerability    {base.retrieval.auto_min_answerability:.3f} -> "
        f"{result.auto_min_answerability:.3f}",
        f"  retrieval.suggest_min_answerability {base.retrieval.suggest_min_answerability:.3f} -> "
        f"{result.suggest_min_answerability:.3f}",
    ]
    for name, value in result.thresholds.items():
        old = base.categories[name].auto_threshold
        mark = "  (no dev tickets: kept)" if name in result.untouched else ""
        lines.append(f"  {name + '.auto_threshold':29}{old:.3f} -> {value:.3f}{mark}")
    rows = [("before", before), ("after", after)]
    if result.cv is not None:
        rows.append((f"cross-validated ({result.cv['folds']} folds, unseen tickets)", result.cv))
    for label, m in rows:
        lines.append(
            f"{label}: auto-resolution {_pct(m['auto_resolution_rate'])} "
            f"(answerable {_pct(m['auto_resolution_rate_answerable'])}), wrong {m['wrong_resolutions']} = "
            f"{_pct(m['wrong_resolution_rate'])} of auto (95% upper bound {_pct(m['wrong_resolution_upper95'])}), "
            f"handoff recall {_pct(m['handoff_recall'])}"
        )
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines)


FIGURES = (
    "auto_resolution_rate",
    "auto_resolution_rate_answerable",
    "wrong_resolutions",
    "wrong_resolution_rate",
    "wrong_resolution_upper95",
    "handoff_recall",
)


def tuned_figures(
    result: TuneResult, base: Policy, dev: Path, facts: dict[str, Any], max_wrong: float, min_handoff_recall: float
) -> dict[str, Any]:
    """The policy file's `tuned:` section: the dev set (path, sha256), the run's KB, LLM and
    classifier (`facts` of the resolve run), the base version, the budget, the figures on dev after
    tuning and cross-validated, and the notes."""
    after = result.dev
    model = base.answerability_model()
    return {
        "dev": str(dev),
        "dev_sha256": hashlib.sha256(dev.read_bytes()).hexdigest(),
        "half": facts.get("half"),
        "kb": str(facts["kb"]),
        "llm": facts["llm"],
        "classifier": facts["classifier"],
        "base_version": base.version,
        "max_wrong": max_wrong,
        "min_handoff_recall": min_handoff_recall,
        "answerability_model": {"version": model.version, "sha256": model.sha256} if model is not None else None,
        "auto_min_answerability": result.auto_min_answerability,
        "suggest_min_answerability": result.suggest_min_answerability,
        "tickets": after["tickets"],
        "answerable": after["answerable"],
        **{k: after[k] for k in FIGURES},
        "cross_validated": {k: result.cv[k] for k in ("folds", *FIGURES)} if result.cv is not None else None,
        "notes": result.notes,
    }


def save_tuned(target: Path, base_path: Path, base: Policy, result: TuneResult, figures: dict[str, Any]) -> Policy:
    """Write the tuned policy to `target`: the base file's text edited in place when it exists (see
    `render_policy`), checked after writing (`write_policy`). Raises ValueError or OSError."""
    base_text = base_path.read_text(encoding="utf-8") if base_path.exists() else None
    return write_policy(target, render_policy(base_text, base, result, figures), result)


# ---- writing the policy file ------------------------------------------------------------------


def _fmt(v: float) -> str:
    """4 decimals: scores are rounded to 4, so a threshold written with fewer could move a ticket."""
    return f"{v:.4f}".rstrip("0").rstrip(".") if v < 1.01 else "1.01"


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
            for key in ("auto_min_margin", "auto_min_answerability", "suggest_min_answerability"):
                if not re.search(rf"(?m)^  {key}: ", text):
                    text = re.sub(r"(?m)^(  auto_at_least: .*\n)", rf"\g<1>  {key}: 0\n", text, count=1)
            for key, value in (
                ("auto_at_least", result.auto_at_least),
                ("auto_min_margin", result.auto_min_margin),
                ("suggest_at_least", result.suggest_at_least),
                ("auto_min_answerability", result.auto_min_answerability),
                ("suggest_min_answerability", result.suggest_min_answerability),
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
    if abs(got.retrieval.auto_min_margin - float(_fmt(expect.auto_min_margin))) > 1e-9:
        problems.append("retrieval.auto_min_margin")
    if abs(got.retrieval.suggest_at_least - float(_fmt(expect.suggest_at_least))) > 1e-9:
        problems.append("retrieval.suggest_at_least")
    for key in ("auto_min_answerability", "suggest_min_answerability"):
        if abs(getattr(got.retrieval, key) - float(_fmt(getattr(expect, key)))) > 1e-9:
            problems.append(f"retrieval.{key}")
    if problems:
        tmp.unlink()
        raise ValueError(f"writing {path}: tuned values did not land for {', '.join(problems)}")
    tmp.replace(path)
    return got
