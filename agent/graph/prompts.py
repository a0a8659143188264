"""Prompt templates as named, versioned files in prompts/.

A file is YAML front matter (name, version, variables) and a body with a `### system` and a
`### user` section. Placeholders are `{{name}}`; rendering fails with a clear error when a declared
variable is missing or the template uses one it does not declare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from agent.errors import ConfigError

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.DOTALL)
_VAR = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
_SECTION = re.compile(r"(?m)^###\s+(system|user)\s*$")


class PromptError(ConfigError):
    """A prompt file is missing, malformed, or rendered with the wrong variables."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    variables: tuple[str, ...]
    system: str
    user: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def render(self, **values: object) -> tuple[str, str]:
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise PromptError(
                f"prompt {self.ref} needs variable(s) {', '.join(missing)}; got {', '.join(sorted(values)) or 'none'}"
            )

        def sub(m: re.Match[str]) -> str:
            return str(values[m.group(1)])

        return _VAR.sub(sub, self.system), _VAR.sub(sub, self.user)


def parse_prompt(path: Path) -> Prompt:
    raw = path.read_text(encoding="utf-8")
    m = _FRONT.match(raw)
    if not m:
        raise PromptError(f"{path}: a prompt file starts with YAML front matter between '---' lines")
    meta = yaml.safe_load(m.group(1)) or {}
    for key in ("name", "version", "variables"):
        if key not in meta:
            raise PromptError(f"{path}: front matter needs '{key}'")
    parts = _SECTION.split(m.group(2))
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise PromptError(f"{path}: needs a '### user' section (and optionally '### system')")
    declared = tuple(str(v) for v in meta["variables"])
    used = set(_VAR.findall(sections.get("system", "") + sections["user"]))
    undeclared = sorted(used - set(declared))
    if undeclared:
        raise PromptError(f"{path}: uses undeclared variable(s) {', '.join(undeclared)}; add them to 'variables'")
    return Prompt(str(meta["name"]), str(meta["version"]), declared, sections.get("system", ""), sections["user"])


@lru_cache(maxsize=64)
def load_prompt(prompts_dir: Path, name: str) -> Prompt:
    path = prompts_dir / f"{name}.md"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in prompts_dir.glob("*.md"))) or "none"
        raise PromptError(f"no prompt named {name!r} in {prompts_dir} (known: {known})")
    prompt = parse_prompt(path)
    if prompt.name != name:
        raise PromptError(f"{path}: front matter name {prompt.name!r} must match the file name {name!r}")
    return prompt
