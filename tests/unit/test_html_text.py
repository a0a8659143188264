"""HTML -> plain text (tools.ticketing.html_text): Freshdesk's {{ticket.description}} and the like.

Expected texts are written by hand from the HTML, the way a browser lays it out.
"""

from __future__ import annotations

import pytest

from tools.ticketing.html_text import html_to_text, looks_like_html

# Freshdesk's editor writes one <div> per line and <div><br></div> for an empty line.
FRESHDESK = (
    "<div>Hi,</div><div><br></div><div>the PDF of my <b>November</b> payslip opens blank&nbsp;&amp; empty.</div>"
    "<div>Steps I tried:</div><ul><li>Chrome and Firefox</li><li>re-downloading from "
    '<a href="https://portal.beta.example/payslips">the portal</a></li></ul><div><br></div>'
    "<div>Regards,<br>Tom Becker</div>"
)


def test_freshdesk_description_keeps_lines_lists_and_links() -> None:
    assert html_to_text(FRESHDESK) == "\n".join(
        [
            "Hi,",
            "",
            "the PDF of my November payslip opens blank & empty.",
            "Steps I tried:",
            "",
            "- Chrome and Firefox",
            "- re-downloading from the portal (https://portal.beta.example/payslips)",
            "",
            "Regards,",
            "Tom Becker",
        ]
    )


DOCUMENT = (
    "<html><head><title>Ticket</title><style>.x{color:red}</style></head><body>"
    "<h1>Payroll</h1>"
    "<p>First&nbsp;paragraph with <a href='https://acme.example/help'>help</a>, "
    "<a href='https://acme.example/'>https://acme.example</a>, <a href='mailto:hr@acme.example'>hr@acme.example</a>, "
    "<a href='javascript:alert(1)'>click</a> and <a href='#top'>top</a>.</p>"
    "<ul><li>one</li><li>two<ul><li>two a</li></ul></li></ul>"
    "<ol start='5'><li>five</li><li>six</li></ol>"
    "<table><tr><th>Name</th><th>Hours</th></tr><tr><td>Tom</td><td><p>12</p></td></tr></table>"
    "<blockquote><p>quoted line</p></blockquote>"
    "<pre>  keep   spaces\n  and lines</pre>"
    "<hr><p>A &lt;tag&gt; &amp; &quot;quotes&quot; &#8364;5</p>"
    "<img src='x.png' alt='Company logo'><img src='y.png'>"
    "<!-- internal note --><script>var a = 1 < 2;</script>"
    "</body></html>"
)


def test_a_whole_document() -> None:
    assert html_to_text(DOCUMENT) == "\n".join(
        [
            "# Payroll",
            "",
            "First paragraph with help (https://acme.example/help), https://acme.example, hr@acme.example, "
            "click and top.",
            "",
            "- one",
            "- two",
            "  - two a",
            "",
            "5. five",
            "6. six",
            "",
            "Name | Hours",
            "Tom | 12",
            "",
            "> quoted line",
            "",
            "  keep   spaces",
            "  and lines",
            "",
            "---",
            "",
            'A <tag> & "quotes" €5',
            "",
            "[image: Company logo]",
        ]
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("a<br>b<br><br>c", "a\nb\n\nc"),
        ("<div>a</div>\n   <div>b</div>", "a\nb"),
        ("<p>  lots \n of\t\twhite   space </p>", "lots of white space"),
        ("<li><p>Item in a paragraph</p></li>", "- Item in a paragraph"),
        ("<p>Hi <b>Tom</b><i>!</i></p>", "Hi Tom!"),
        ("<a href='https://x.example/a'></a>", "https://x.example/a"),
        ("<a href='/relative'>rel</a>", "rel"),
        ("<blockquote>outer<blockquote>inner</blockquote></blockquote>", "> outer\n>\n> > inner"),
        ("<table><tr><td>a<br>b</td><td>c</td></tr></table>", "a b | c"),
        ("Plain text &amp; no tags", "Plain text & no tags"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("x < y and <3", "x < y and <3"),
        ("<div>a</div><!-- never closed <div>b</div>", "a"),
    ],
)
def test_constructs(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<div>Hello</div>", True),
        ("Hello<br>world", True),
        ("<p>Hi", True),
        ("line one</p>", True),
        ("Plain text\nwith lines", False),
        ("the <div> element is not rendered", False),
        ("if a < b and c > d", False),
        (None, False),
    ],
)
def test_looks_like_html(text: object, expected: bool) -> None:
    assert looks_like_html(text) is expected


@pytest.mark.parametrize("value", [None, "", "   ", 7, ["<p>x</p>"]])
def test_non_text_renders_empty(value: object) -> None:
    assert html_to_text(value) == ""


N = 20_000


@pytest.mark.parametrize(
    "html",
    [
        "<!--" * N,
        "<a " * N,  # unterminated start tags: quadratic in html.parser without the escaping pass
        '<a b="' * N,
        '<a b=">' * N,
        "<?x" * N,
        "<![CDATA[" * N,
        "</" * N,
        "<!" * N,
        "&#x" * N,
        "<script>" + "<a" * N,
        "<div>" * N + "deep",
        "<ul><li>" * N + "deep",
        "<blockquote>" * N + "deep",
        "<table><tr><td>" * (N // 3) + "deep",
        "<a href='https://x'>" * N + "link",
        "<p>" + "<b>x</b> " * N,
    ],
)
def test_pathological_html_never_raises_and_stays_bounded(html: str) -> None:
    out = html_to_text(html)
    assert isinstance(out, str)
    assert len(out) <= 3 * len(html)


def test_deep_nesting_keeps_the_text() -> None:
    assert html_to_text("<div>" * 30_000 + "deep" + "</div>" * 30_000 + "<p>after</p>") == "deep\n\nafter"
    nested = html_to_text("<ul><li>" * 50 + "deep")
    assert nested.splitlines()[-1] == "  " * 7 + "- deep"  # indentation stops at eight levels
