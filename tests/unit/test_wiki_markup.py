"""Jira wiki markup -> plain text (tools.ticketing.wiki), as Jira webhooks send descriptions.

Expected texts are written by hand from the markup, following Atlassian's text-formatting notation.
"""

from __future__ import annotations

import pytest

from tools.ticketing.wiki import wiki_to_text

# A Jira Cloud bug report as a webhook carries it: Cloud writes mentions as [~accountid:...], smart
# links with a third part, {*}bold{*} where bold touches other text, and colours as {color:#hex}.
BUG_REPORT = (
    "h2. Problem\n"
    "After the {*}2.14{*} release the payroll run for *Acme Ltd* stays in _processing_. "
    "[~accountid:5b10a2844c20165700ede21g] can reproduce it; see "
    "[the runbook|https://wiki.acme.example/x/runbook_v2|smart-link].\n"
    "\n"
    "h3. Steps to reproduce\n"
    "# Open {{Payroll > Runs}}\n"
    "# Start the October run\n"
    "#* wait 10 minutes\n"
    "#* refresh\n"
    "# See the error below\n"
    "\n"
    "{code:java}\n"
    "for (Employee e : run.employees()) {\n"
    "    bank.submit(e); // *never* [retried|http://x]\n"
    "}\n"
    "{code}\n"
    "\n"
    "||Run||Employees||State||\n"
    "|October|312|{color:#de350b}STUCK{color}|\n"
    "|September|309|done|\n"
    "\n"
    "!stuck-run.png|width=600,height=400! [^payroll.log]\n"
    "Thanks (y)"
)


def test_a_bug_report_with_a_code_block_a_table_and_a_mention() -> None:
    assert wiki_to_text(BUG_REPORT) == "\n".join(
        [
            "## Problem",
            "",
            "After the 2.14 release the payroll run for Acme Ltd stays in processing. "
            "@5b10a2844c20165700ede21g can reproduce it; see the runbook (https://wiki.acme.example/x/runbook_v2).",
            "",
            "### Steps to reproduce",
            "",
            "1. Open `Payroll > Runs`",
            "2. Start the October run",
            "  - wait 10 minutes",
            "  - refresh",
            "3. See the error below",
            "",
            "```java",
            "for (Employee e : run.employees()) {",
            "    bank.submit(e); // *never* [retried|http://x]",
            "}",
            "```",
            "",
            "| Run | Employees | State |",
            "| --- | --- | --- |",
            "| October | 312 | STUCK |",
            "| September | 309 | done |",
            "",
            "[image: stuck-run.png] [attachment: payroll.log]",
            "Thanks (y)",
        ]
    )


def test_a_server_description_with_windows_line_endings() -> None:
    markup = "h3. Steps\r\n* Open the report\r\n* Export it\r\n\r\nIt fails with {{ERR 42}}."
    assert wiki_to_text(markup) == "### Steps\n\n- Open the report\n- Export it\n\nIt fails with `ERR 42`."


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("*bold* _italic_ -strike- +under+ ^sup^ ~sub~ ??cite??", "bold italic strike under sup sub cite"),
        ("*_bold italic_* and {_}glued{_}on", "bold italic and gluedon"),
        ("{{mono}} and {{{}x{}}}y", "`mono` and `x`y"),
        ("h1. One", "# One"),
        ("h6. Six *bold*", "###### Six bold"),
        ("bq. quoted *text*", "> quoted text"),
        ("{quote}first\nsecond{quote}\nafter", "> first\n> second\n\nafter"),
        ("{panel:title=Note|borderStyle=dashed}Keep it{panel}", "Note\nKeep it"),
        ("{color:red}red{color} text", "red text"),
        ("[Acme|https://acme.example]", "Acme (https://acme.example)"),
        ("[https://acme.example]", "https://acme.example"),
        ("[https://acme.example|https://acme.example]", "https://acme.example"),
        ("[mailto:help@acme.example]", "help@acme.example"),
        ("[write us|mailto:help@acme.example]", "write us (help@acme.example)"),
        ("[~jsmith] and [~accountid:557058:f58131cb]", "@jsmith and @557058:f58131cb"),
        ("[#anchor] [^report.pdf]", "anchor [attachment: report.pdf]"),
        ("!diagram.png! !https://x.example/a.gif!", "[image: diagram.png] [image: https://x.example/a.gif]"),
        ("!Screen Shot 2024-01-08.png|thumbnail!", "[image: Screen Shot 2024-01-08.png]"),
        ("* one\n** two\n*** three\n* four", "- one\n  - two\n    - three\n- four"),
        ("# a\n# b\n## b1\n## b2\n# c", "1. a\n2. b\n  1. b1\n  2. b2\n3. c"),
        ("# a\n\n# restarts", "1. a\n\n1. restarts"),
        ("- dash item\n- another", "- dash item\n- another"),
        ("||a||b||\n|1|2|", "| a | b |\n| --- | --- |\n| 1 | 2 |"),
        ("||Name|Maria|\n||Role|Admin|", "| Name | Maria |\n| Role | Admin |"),
        ("|[x|http://x.example]|{{a|b}}|", "| x (http://x.example) | `a|b` |"),
        ("|one\\\\two|three|", "| one two | three |"),
        ("line one\\\\line two", "line one\nline two"),
        ("above\n----\nbelow", "above\n\n---\n\nbelow"),
        ("\\*not bold\\* \\[not a link\\] \\{{not mono}}", "*not bold* [not a link] {{not mono}}"),
        ("{noformat}*raw* [x|y] {{m}}{noformat}", "```\n*raw* [x|y] {{m}}\n```"),
        ("{code}\nx = *1*", "```\nx = *1*\n```"),
        ("{code:title=Run.java|borderStyle=solid}\nrun();\n{code}", "```\nrun();\n```"),
        ("{quote}\n{code:sql}\nselect *\n{code}\n{quote}", "> ```sql\n> select *\n> ```"),
        (
            '{adf:display=block}{"type":"expand","attrs":{"title":"Details"},'
            '"content":[{"type":"paragraph","content":[{"type":"text","text":"inside"}]}]}{adf}',
            "Details\ninside",
        ),
    ],
)
def test_constructs(markup: str, expected: str) -> None:
    assert wiki_to_text(markup) == expected


@pytest.mark.parametrize(
    "text",
    [
        ":) :( (y) (!) ;) (on) :D",  # emoticons are left as typed
        "[ERROR] Help! It failed! a * b * c",  # brackets and bangs that are not links or images
        "snake_case_name and 2024-01-08 - 2024-01-09, C++ and a + b",
        "see https://x.example/_a_/b-c- now",  # a bare URL keeps its underscores and dashes
        "price ~5 EUR, ^ caret, x^2",
    ],
)
def test_plain_text_survives_unchanged(text: str) -> None:
    assert wiki_to_text(text) == text


@pytest.mark.parametrize("value", [None, "", 42, {"type": "doc"}, ["*x*"]])
def test_non_text_renders_empty(value: object) -> None:
    assert wiki_to_text(value) == ""


N = 50_000


@pytest.mark.parametrize(
    "markup",
    [
        "*a " * N,
        "_" * N,
        "{{a " * N,
        "[a " * N,
        "[" * N + "]",
        "[a|" * N + "]",
        "!a " * N,
        "!a.png|" * N,
        "{code}" * N,
        "{quote}" * N,
        "{panel:title=x}" * N,
        "*" * N + " deep list",
        "# x\n" * N,
        "|" * N,
        "||a" * N,
        "\\" * N,
        "{adf}" + "[" * N + "{adf}",
        '{adf}{"content":' * 2000 + "{adf}",
        "http://" + "a_" * N,
        "-a- " * N,
        "{*}" * N,
        "\ue000" * 10 + "*x*",  # our own placeholder character in the input
    ],
)
def test_pathological_markup_never_raises_and_stays_bounded(markup: str) -> None:
    out = wiki_to_text(markup)
    assert isinstance(out, str)
    assert len(out) <= 5 * len(markup) + 100


def test_deep_list_markers_indent_no_further_than_eight_levels() -> None:
    out = wiki_to_text("* top\n" + "*" * 500 + " deep")
    assert out == "- top\n" + "  " * 7 + "- deep"
