from pathlib import Path

import pytest

from agent.graph.prompts import PromptError, load_prompt, parse_prompt
from agent.settings import REPO_ROOT


def test_shipped_prompts_load_with_versions() -> None:
    for name in ("classify", "draft"):
        p = load_prompt(REPO_ROOT / "prompts", name)
        assert p.name == name and p.version
        assert p.system and p.user


def test_missing_variable_is_named() -> None:
    p = load_prompt(REPO_ROOT / "prompts", "classify")
    with pytest.raises(PromptError, match="candidates"):
        p.render(categories="x", ticket="y")


def test_render_substitutes(tmp_path: Path) -> None:
    f = tmp_path / "greet.md"
    f.write_text(
        '---\nname: greet\nversion: "3"\nvariables: [who]\n---\n### system\nBe kind.\n### user\nHi {{ who }}!\n'
    )
    system, user = parse_prompt(f).render(who="Olena")
    assert (system, user) == ("Be kind.", "Hi Olena!")


def test_undeclared_variable_and_unknown_prompt(tmp_path: Path) -> None:
    f = tmp_path / "bad.md"
    f.write_text("---\nname: bad\nversion: '1'\nvariables: []\n---\n### user\n{{oops}}\n")
    with pytest.raises(PromptError, match="undeclared variable"):
        parse_prompt(f)
    with pytest.raises(PromptError, match="no prompt named 'nope'"):
        load_prompt(tmp_path, "nope")
