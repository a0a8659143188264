"""The production deploy files (api/deploy/compose.yaml, api/deploy/Dockerfile), checked without Docker.

No Docker daemon and no registry here, so nothing is built, pulled or started. What can be checked is:
- compose.yaml parses (anchors and merge keys resolved, `${VAR:-default}` and `$$` as compose does);
  `depends_on` names services, without cycles; every named volume is declared; known keys only.
- every command parses with its real parser: `triage ...` with the Typer app's own click commands
  (`make_context`, never invoked), `python -m agent.runtime.model_process` with that module's
  `parse_args`, `chroma run` with chromadb's CLI itself (its clap parser validates every argument
  before it answers the `--help` appended here, so no server starts); `python -c` snippets compile
  and what they import and use exists.
- every TRIAGE_* key (compose and Dockerfile ENV) is a Settings field and the values validate
  (Settings built from exactly that environment, no .env, no triage.toml).
- each healthcheck asks the port its service listens on and a path it serves: the API's routes
  (create_app), `triage worker`'s metrics server (its code run with the worker faked: where it starts
  prometheus_client's server, which answers that path), the model process's app (its `main` run
  with llama.cpp and uvicorn faked) and the Chroma server binary's routes; and it is one of the
  probes `triage up` uses (agent/runtime/topology.py), as the compose header says.
- the services reach each other where they listen (TRIAGE_*_URL, the database URL), the model's
  alias is the one the API asks for, the model file is the one the image joined at build.
- Dockerfile: COPY sources exist and send no local state (.venv, .env, data); every make target it
  runs exists (`make -n`) and takes the variables it passes; its `python -c` resolves; ENV and CMD
  as above; its Python is the lock's.
- the health table in compose.yaml's header agrees with the healthchecks.

Each check returns the problems it finds in the files it is pointed at (`load(...)`), so the last
test runs them on mutated copies and shows that each catches its mistake.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import typer
import typer.core
import typer.main
import yaml
from pydantic import ValidationError

from agent.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "api" / "deploy" / "compose.yaml"
DOCKERFILE = REPO / "api" / "deploy" / "Dockerfile"

# What `docker compose` accepts at the top level and in a service (the Compose Specification); a key
# outside these is a typo compose rejects (or, for x-*, an extension).
TOP_KEYS = {"name", "version", "services", "volumes", "networks", "configs", "secrets", "include", "models"}
_SERVICE_KEYS = (
    "annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name "
    "cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset "
    "credential_spec depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname "
    "entrypoint env_file environment expose extends external_links extra_hosts gpus group_add healthcheck "
    "hostname image init ipc isolation labels label_file links logging mac_address mem_limit mem_reservation "
    "mem_swappiness memswap_limit models network_mode networks oom_kill_disable oom_score_adj pid pids_limit "
    "platform ports post_start pre_stop privileged profiles provider pull_policy read_only restart runtime "
    "scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs "
    "tty ulimits use_api_socket user userns_mode uts volumes volumes_from working_dir"
)
SERVICE_KEYS = set(_SERVICE_KEYS.split())
HEALTH_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
RESTART = re.compile(r"^(no|always|unless-stopped|on-failure(:\d+)?)$")
DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")
# an image's own server, not ours: where it listens
IMAGE_LISTENS = {"postgres": 5432}
# in the build context, never to be sent into the image: the host's venv (its scripts and editable
# install point at this checkout), secrets, local databases and config (.gitignore lists them all)
LOCAL_ONLY = (".venv", ".env", "data", "triage.toml", ".git")
ALL_INTERFACES = {"0.0.0.0", "::"}
MODEL_MODULE = "agent.runtime.model_process"
# what `$(...)` in a shell command stands for here (its command is checked on its own)
SUBSTITUTED = "/command-substitution/{}.gguf"


class CommandError(Exception):
    """A command does not parse with its program's own parser."""


@dataclass(frozen=True)
class Listener:
    host: str
    port: int


@dataclass
class Process:
    """What a command runs, as its own parser understood it."""

    kind: str  # "triage serve", "triage worker", "model", "chroma", "postgres", ...
    argv: list[str]
    listen: Listener | None = None
    params: dict[str, Any] = field(default_factory=dict[str, Any])
    snippets: list[str] = field(default_factory=list[str])  # `python -c` code it runs
    inner: list[Process] = field(default_factory=list["Process"])  # what its `$(...)` run


# ---- the environment and Settings ----------------------------------------------------------------
def settings_env_names() -> dict[str, str]:
    """Environment name (upper case) -> Settings field, as pydantic-settings reads them."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names: dict[str, str] = {}
    for name, info in Settings.model_fields.items():
        aliases: list[str] = []
        alias = info.validation_alias or info.alias
        if isinstance(alias, str):
            aliases.append(alias)
        elif alias is not None:
            choices = getattr(alias, "choices", [])
            aliases.extend(c for c in choices if isinstance(c, str))
        for env_name in aliases or [prefix + name]:
            names[env_name.upper()] = name
    return names


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ with no TRIAGE_* but `env`'s, and a triage.toml that does not exist."""
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("TRIAGE_")}
    missing_toml = str(REPO / "api" / "deploy" / "no-such-triage.toml")
    with mock.patch.dict(os.environ, {**base, **env, "TRIAGE_CONFIG": missing_toml}, clear=True):
        yield


def build_settings(env: Mapping[str, str]) -> Settings:
    """Settings from exactly `env` (a container's environment): no .env file, no TOML."""
    with environment(env):
        return Settings(_env_file=None)  # type: ignore[call-arg]


def validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}={e.get('input')!r}: {e['msg']}" for e in exc.errors())


def env_problems(env: Mapping[str, str], where: str) -> list[str]:
    """Unknown TRIAGE_* keys, values Settings rejects, values that never reach their field."""
    names = settings_env_names()
    problems = [
        f"{where}: {key} is not a Settings field (agent/settings.py; pydantic-settings ignores it silently)"
        for key in env
        if key.upper().startswith("TRIAGE_") and key.upper() not in names and key.upper() != "TRIAGE_CONFIG"
    ]
    try:
        settings = build_settings(env)
    except ValidationError as exc:
        return [*problems, f"{where}: Settings rejects the environment: {validation_message(exc)}"]
    for key in env:
        fieldname = names.get(key.upper())
        if fieldname is not None and fieldname not in settings.model_fields_set:
            problems.append(f"{where}: {key} did not set Settings.{fieldname}")
    return problems


# ---- compose: loading and interpolation ------------------------------------------------------------
_COMPOSE_VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
_VAR_EXPR = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>.*))?$", re.S)


def interpolate(text: str, where: str, problems: list[str]) -> str:
    """Compose's interpolation with no variable set: `$$` -> `$`, `${VAR:-d}` / `${VAR-d}` -> d. A
    variable without a default would be '' here (compose reads api/deploy/.env, not the repo's)."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        expr = m.group("braced") if m.group("braced") is not None else m.group("bare")
        parsed = _VAR_EXPR.match(expr)
        if parsed is None:
            problems.append(f"{where}: compose cannot interpolate ${{{expr}}}")
            return ""
        if parsed.group("op") is None:
            problems.append(f"{where}: ${parsed.group('name')} has no default (give one: ${{VAR:-value}})")
            return ""
        return parsed.group("default")

    return _COMPOSE_VAR.sub(sub, text)


def _interpolate_tree(node: Any, where: str, problems: list[str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, where, problems)
    if isinstance(node, list):
        return [_interpolate_tree(v, f"{where}[{i}]", problems) for i, v in enumerate(node)]
    if isinstance(node, dict):
        return {k: _interpolate_tree(v, f"{where}.{k}", problems) for k, v in node.items()}
    return node


def _merge_keys_left(node: Any, where: str) -> list[str]:
    if isinstance(node, dict):
        found = [f"{where}: an unresolved merge key '<<'"] if "<<" in node else []
        for k, v in node.items():
            found += _merge_keys_left(v, f"{where}.{k}")
        return found
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _merge_keys_left(v, f"{where}[{i}]")]
    return []


# ---- the Dockerfile ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined as Docker joins them (backslash-newline
    removed; comment lines inside a continuation dropped)."""
    out: list[Instruction] = []
    buf: list[str] = []
    start = 0
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#") or (not buf and not line.strip()):
            continue
        if not buf:
            start = n
        if line.rstrip().endswith("\\"):
            buf.append(line.rstrip()[:-1])
            continue
        buf.append(line)
        joined = "".join(buf).strip()
        buf = []
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
    return out


def dockerfile_env(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword != "ENV":
            continue
        tokens = shlex.split(ins.args)
        if tokens and "=" not in tokens[0]:  # legacy `ENV KEY value`
            env[tokens[0]] = " ".join(tokens[1:])
            continue
        for token in tokens:
            key, _, value = token.partition("=")
            env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    """CMD/ENTRYPOINT/RUN argv: the JSON form as is, the shell form under /bin/sh -c."""
    if args.startswith("["):
        argv: Any = json.loads(args)
        return [str(a) for a in argv]
    return ["/bin/sh", "-c", args]


# ---- the deploy, loaded --------------------------------------------------------------------------
@dataclass
class Deploy:
    compose_path: Path
    dockerfile_path: Path
    root: Path  # where compose's relative paths must land (the repository root)
    context: Path  # the Docker build context: COPY sources, the Makefile
    makefile: Path
    compose: dict[str, Any]
    load_problems: list[str]
    instructions: list[Instruction]
    processes: dict[str, Process] = field(default_factory=dict[str, Process])
    command_errors: dict[str, str] = field(default_factory=dict[str, str])

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.compose.get("services") or {}

    def uses_image(self, name: str) -> bool:
        """The service runs the image the Dockerfile builds (so its ENV applies)."""
        build = self.services[name].get("build")
        if not isinstance(build, dict):
            return False
        df = self.compose_path.parent / str(build.get("context", ".")) / str(build.get("dockerfile", "Dockerfile"))
        return df.resolve() == self.dockerfile_path.resolve()

    def env(self, name: str) -> dict[str, str]:
        """The container's environment: the Dockerfile's ENV, then compose's `environment`."""
        env = dockerfile_env(self.instructions) if self.uses_image(name) else {}
        raw = self.services[name].get("environment") or {}
        if isinstance(raw, list):
            raw = {k: v for k, _, v in (str(item).partition("=") for item in raw)}
        env.update({str(k): "" if v is None else str(v) for k, v in raw.items()})
        return env


def load(
    compose_path: Path = COMPOSE,
    dockerfile_path: Path = DOCKERFILE,
    *,
    root: Path = REPO,
    context: Path = REPO,
    makefile: Path | None = None,
) -> Deploy:
    """compose.yaml (safe_load resolves anchors and `<<` merge keys; then compose's interpolation)
    and the Dockerfile; every service's command parsed."""
    problems: list[str] = []
    raw: Any = yaml.safe_load(compose_path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise AssertionError(f"{compose_path} is not a YAML mapping")
    compose: dict[str, Any] = _interpolate_tree(raw, "compose", problems)
    instructions = dockerfile_instructions(dockerfile_path.read_text(encoding="utf-8"))
    d = Deploy(
        compose_path, dockerfile_path, root, context, makefile or context / "Makefile", compose, problems, instructions
    )
    for name, svc in d.services.items():
        try:
            d.processes[name] = service_process(d, name, svc)
        except CommandError as exc:
            d.command_errors[name] = str(exc)
    return d


def service_process(d: Deploy, name: str, svc: dict[str, Any]) -> Process:
    command = svc.get("command")
    image = str(svc.get("image", ""))
    if command is None:
        if d.uses_image(name):  # the Dockerfile's CMD
            cmd = next((i for i in reversed(d.instructions) if i.keyword == "CMD"), None)
            if cmd is None:
                raise CommandError(f"{name}: no command and the Dockerfile has no CMD")
            return parse_command(exec_form(cmd.args), d.env(name))
        base = image.split(":")[0].split("/")[-1]
        if base in IMAGE_LISTENS:
            return Process(base, [], Listener("0.0.0.0", IMAGE_LISTENS[base]))
        raise CommandError(f"{name}: image {image!r} with its own command: nothing here knows where it listens")
    argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
    return parse_command(argv, d.env(name))


# ---- commands, each with its own parser ----------------------------------------------------------
@functools.cache
def triage_cli() -> Any:
    from api.cli import app

    return typer.main.get_command(app)


def parse_triage(args: list[str]) -> tuple[list[str], dict[str, Any]]:
    """`triage ARGS` through the real click commands of the Typer app: the subcommand chain, then its
    options with make_context (parsed and converted, never invoked)."""
    cmd = triage_cli()
    chain: list[str] = []
    rest = list(args)
    while isinstance(cmd, typer.core.TyperGroup):
        if not rest or rest[0] not in cmd.commands:
            known = ", ".join(sorted(cmd.commands))
            under = " ".join(["triage", *chain])
            got = repr(rest[0]) if rest else "nothing"
            raise CommandError(f"`triage {' '.join(args)}`: {got} is not a subcommand of `{under}` ({known})")
        chain.append(rest[0])
        cmd = cmd.commands[rest.pop(0)]
    try:
        ctx = cmd.make_context(" ".join(["triage", *chain]), rest, resilient_parsing=False)
    except typer.TyperException as exc:
        raise CommandError(f"`triage {' '.join(args)}`: {exc.format_message()}") from None
    except (typer.Exit, typer.Abort) as exc:
        raise CommandError(f"`triage {' '.join(args)}` exits while parsing ({type(exc).__name__})") from None
    return chain, dict(ctx.params)


def _settings_for(env: Mapping[str, str], what: str) -> Settings:
    try:
        return build_settings(env)
    except ValidationError as exc:
        raise CommandError(f"{what}: its Settings do not validate: {validation_message(exc)}") from None


@functools.cache
def _chroma_parse(args: tuple[str, ...]) -> tuple[int, str]:
    """chromadb's CLI (clap, in its Rust bindings) parses every argument, then prints help for the
    `--help` appended here and exits: argument errors (unknown option, bad port) exit 2, no server."""
    exe = Path(sys.executable).with_name("chroma")  # as agent/runtime/topology.py finds it
    if not exe.exists():
        return 127, f"{exe} is missing (chromadb's console script; `make setup` installs it)"
    done = subprocess.run([str(exe), *args, "--help"], capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, (done.stderr or done.stdout).strip()


def _long_options(args: list[str]) -> dict[str, str]:
    opts: dict[str, str] = {}
    it = iter(args)
    for a in it:
        if a.startswith("--"):
            key, eq, value = a.partition("=")
            opts[key] = value if eq else next(it, "")
    return opts


def _model_args(args: list[str]) -> Any:
    from agent.runtime import model_process

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return model_process.parse_args(args)
    except SystemExit:
        lines = err.getvalue().strip().splitlines()
        raise CommandError(f"`python -m {MODEL_MODULE}`: {lines[-1] if lines else 'exits while parsing'}") from None


def parse_command(argv: list[str], env: Mapping[str, str]) -> Process:
    """A container's command (after compose's interpolation), parsed by the program it runs."""
    if not argv:
        raise CommandError("an empty command")
    prog = Path(argv[0]).name
    if prog in ("sh", "bash") and len(argv) >= 3 and argv[1] == "-c":
        return parse_shell(argv[2], env)
    if prog == "triage":
        chain, params = parse_triage(argv[1:])
        kind = "triage " + " ".join(chain)
        proc = Process(kind, argv, params=params)
        if kind == "triage serve":  # as serve() does: `host or settings.host, port or settings.port`
            s = _settings_for(env, kind)
            proc.listen = Listener(params["host"] or s.host, params["port"] or s.port)
        elif kind == "triage worker":
            proc.listen = worker_listener(_settings_for(env, kind))
        return proc
    if re.fullmatch(r"python(3(\.\d+)?)?", prog):
        if argv[1:2] == ["-c"] and len(argv) >= 3:
            return Process("python -c", argv, snippets=[argv[2]])
        if argv[1:3] == ["-m", MODEL_MODULE]:
            args = _model_args(argv[3:])
            listen = model_main(tuple(argv[3:])).listen
            return Process("model", argv, listen, params=vars(args))
        raise CommandError(f"`{' '.join(argv[:3])}`: no parser known here for this program")
    if prog == "chroma":
        rc, out = _chroma_parse(tuple(argv[1:]))
        if rc != 0:
            raise CommandError(f"`chroma {' '.join(argv[1:])}`: {out.splitlines()[0] if out else f'exit {rc}'}")
        if argv[1:2] != ["run"]:
            raise CommandError(f"`chroma {' '.join(argv[1:])}`: only `chroma run` serves")
        opts = _long_options(argv[2:])
        if "--port" not in opts:
            raise CommandError("`chroma run` without --port: give the port the others are told")
        return Process("chroma", argv, Listener(opts.get("--host", "localhost"), int(opts["--port"])), params=opts)
    raise CommandError(f"`{' '.join(argv)}`: no parser known here for {prog!r}")


def _substitutions(script: str) -> tuple[str, list[str]]:
    """Each `$(...)` replaced by a placeholder path; the commands they run."""
    out: list[str] = []
    inner: list[str] = []
    i = 0
    while (j := script.find("$(", i)) != -1:
        out.append(script[i:j])
        k, depth = j + 2, 1
        while k < len(script) and depth:
            c = script[k]
            if c in "'\"":
                end = script.find(c, k + 1)
                k = len(script) if end == -1 else end
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            k += 1
        if depth:
            raise CommandError(f"an unterminated $( in {script!r}")
        inner.append(script[j + 2 : k - 1])
        out.append(SUBSTITUTED.format(len(inner)))
        i = k
    out.append(script[i:])
    return "".join(out), inner


_SH_VAR = re.compile(r"\$(?:\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}|(?P<bare>[A-Za-z_]\w*))")


def parse_shell(script: str, env: Mapping[str, str]) -> Process:
    """`sh -c SCRIPT` of one command (optionally `exec`-ed): its `$(...)` and `${VAR:-default}`
    expanded as sh would with the container's environment, then the command parsed."""
    script, inner = _substitutions(script)

    def var(m: re.Match[str]) -> str:
        name = m.group("name") or m.group("bare")
        if name in env:
            return env[name]
        if m.group("default") is not None:
            return m.group("default")
        raise CommandError(f"`sh -c`: ${name} is not set in the container and has no default")

    parts = re.split(r"('[^']*')", script)  # nothing expands inside single quotes
    script = "".join(p if p.startswith("'") else _SH_VAR.sub(var, p) for p in parts)
    lex = shlex.shlex(script, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    argv = list(lex)
    if any(t in ("&&", "||", ";", "|", "&") for t in argv):
        raise CommandError(f"`sh -c {script}`: one command only here (its parts are not checked)")
    if argv[:1] == ["exec"]:
        argv = argv[1:]
    proc = parse_command(argv, env)
    proc.inner = [parse_command(shlex.split(cmd), env) for cmd in inner]
    return proc


# ---- what each server serves ---------------------------------------------------------------------
def worker_listener(settings: Settings) -> Listener | None:
    """Where `triage worker` serves its metrics: its own code run with its database, knowledge base,
    model and loop faked, recording the prometheus_client server it starts."""
    from api.cli import serve as serve_cli

    started: list[Listener] = []

    class FakeWorker:
        id = "deploy-test"

        def loop(self) -> None:
            pass

    @contextlib.contextmanager
    def fake_model_for(*_a: Any, **_k: Any) -> Iterator[tuple[Settings, None]]:
        yield settings, None

    @contextlib.contextmanager
    def fake_open_worker(*_a: Any, **_k: Any) -> Iterator[FakeWorker]:
        yield FakeWorker()

    def fake_server(port: int, addr: str = "0.0.0.0", *_a: Any, **_k: Any) -> None:
        started.append(Listener(addr, port))

    with (
        mock.patch.object(serve_cli, "get_settings", lambda: settings),
        mock.patch.object(serve_cli, "_require_kb", lambda _s: None),
        mock.patch.object(serve_cli, "model_for", fake_model_for),
        mock.patch("agent.storage.open_database", lambda _url: None),
        mock.patch("agent.runtime.process.open_worker", fake_open_worker),
        mock.patch("prometheus_client.start_http_server", fake_server),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        serve_cli.worker()
    return started[0] if started else None


def prometheus_serves(path: str) -> bool:
    """prometheus_client's metrics app (what start_http_server serves) answers GET `path` with 200."""
    from wsgiref.util import setup_testing_defaults

    from prometheus_client import make_wsgi_app

    environ: dict[str, Any] = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    status: list[str] = []
    make_wsgi_app()(environ, lambda s, _h: status.append(s))
    return bool(status) and status[0].startswith("200")


@dataclass
class ModelMain:
    listen: Listener
    app: Any


@functools.cache
def model_main(args: tuple[str, ...]) -> ModelMain:
    """`python -m agent.runtime.model_process ARGS` run with llama.cpp's app and uvicorn faked: where
    it serves and the app it serves (its own /health on an empty stand-in for llama.cpp's)."""
    from fastapi import FastAPI

    from agent.runtime import model_process

    served: list[ModelMain] = []

    def fake_run(app: Any, host: str, port: int, **_k: Any) -> None:
        served.append(ModelMain(Listener(host, port), app))

    with (
        mock.patch.object(model_process, "count_whole_prompt_states", lambda: None),
        mock.patch.object(model_process, "watch_parent", lambda *_a, **_k: None),
        mock.patch("llama_cpp.server.app.create_app", lambda **_k: FastAPI()),
        mock.patch("uvicorn.run", fake_run),
    ):
        model_process.main(list(args))
    if not served:
        raise CommandError(f"`python -m {MODEL_MODULE}` did not start its server")
    return served[0]


def model_serves(args: tuple[str, ...], path: str) -> bool:
    from fastapi.testclient import TestClient

    return TestClient(model_main(args).app).get(path).status_code == 200


@functools.cache
def api_routes() -> list[Any]:
    from api.app import create_app

    return list(create_app(build_settings({})).routes)


def api_serves(path: str) -> bool:
    """A GET route of the FastAPI app (`triage serve` serves create_app) matches `path` fully."""
    from starlette.routing import Match

    scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in api_routes())


@functools.cache
def chroma_server_binary() -> bytes:
    import chromadb_rust_bindings  # the server `chroma run` starts is this library's Rust code

    lib = Path(chromadb_rust_bindings.__file__).parent
    return b"".join(p.read_bytes() for p in sorted(lib.glob("*.so")))


def chroma_serves(path: str) -> bool:
    """The route is in the Chroma server's binary (its Rust router's strings). A route of the real
    server is asked in tests/integration (the topology's Chroma liveness)."""
    return path.encode() in chroma_server_binary()


def serves(proc: Process, path: str) -> bool:
    if proc.kind == "triage serve":
        return api_serves(path)
    if proc.kind == "triage worker":
        return prometheus_serves(path)
    if proc.kind == "model":
        return model_serves(tuple(proc.argv[3:]), path)
    if proc.kind == "chroma":
        return chroma_serves(path)
    return False


@functools.cache
def topology_probes() -> dict[str, set[str]]:
    """The paths `triage up` probes each process at (liveness, readiness), by compose service name."""
    from agent.runtime.topology import one_machine

    specs, _ = one_machine(build_settings({}), workers=1, database_url="postgresql+psycopg://u@127.0.0.1/t")
    return {
        spec.name.split("-")[0]: {urlsplit(u).path or "/" for u in (spec.live_url, spec.ready_url) if u}
        for spec in specs
    }


# ---- python -c snippets ------------------------------------------------------------------------------
def _dotted(node: ast.expr) -> list[str]:
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return [node.id, *reversed(names)] if isinstance(node, ast.Name) else []


def snippet_problems(code: str, where: str) -> list[str]:
    """It compiles; every module it imports imports, every name it takes from one exists, and every
    attribute chain on an imported name resolves (nothing is run)."""
    try:
        tree = ast.parse(code)
        compile(tree, where, "exec")
    except SyntaxError as exc:
        return [f"{where}: does not compile: {exc}"]
    problems: list[str] = []
    bound: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                top = a.name.split(".")[0]
                try:
                    module = importlib.import_module(a.name)  # `import a.b` binds a; `import a.b as c` binds a.b
                    bound[a.asname or top] = module if a.asname else importlib.import_module(top)
                except ImportError as exc:
                    problems.append(f"{where}: import {a.name}: {exc}")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            try:
                module = importlib.import_module(node.module)
            except ImportError as exc:
                problems.append(f"{where}: from {node.module}: {exc}")
                continue
            for a in node.names:
                if not hasattr(module, a.name):
                    problems.append(f"{where}: {node.module} has no {a.name!r}")
                else:
                    bound[a.asname or a.name] = getattr(module, a.name)
    for node in ast.walk(tree):
        chain = _dotted(node) if isinstance(node, ast.Attribute) else []
        if chain and chain[0] in bound:
            obj = bound[chain[0]]
            for i, attr in enumerate(chain[1:], 1):
                if not hasattr(obj, attr):
                    problems.append(f"{where}: {'.'.join(chain[:i])} has no attribute {attr!r}")
                    break
                obj = getattr(obj, attr)
    return sorted(set(problems))


def gguf_calls(code: str) -> list[tuple[str, str]]:
    """(name, cache dir) of each `resolve_gguf("name", Path("dir"))` in a snippet."""
    calls: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and _dotted(node.func)[-1:] == ["resolve_gguf"] and len(node.args) == 2:
            name, where = node.args
            if isinstance(where, ast.Call) and where.args:
                where = where.args[0]
            if isinstance(name, ast.Constant) and isinstance(where, ast.Constant):
                calls.append((str(name.value), str(where.value)))
    return calls


def all_snippets(proc: Process) -> list[str]:
    return [*proc.snippets, *(s for p in proc.inner for s in all_snippets(p))]


# ---- the checks ----------------------------------------------------------------------------------
def structure_problems(d: Deploy) -> list[str]:
    """Known keys, merge keys resolved, depends_on (names, conditions, no cycle), named volumes
    declared, durations and restart policies compose accepts, paths that land where they should."""
    problems = list(d.load_problems) + _merge_keys_left(d.compose, "compose")
    problems += [
        f"top-level key {k!r} is not compose's" for k in d.compose if k not in TOP_KEYS and not k.startswith("x-")
    ]
    services = d.services
    if not services:
        return [*problems, "no services"]
    declared = set((d.compose.get("volumes") or {}).keys())
    graph: dict[str, list[str]] = {}
    for name, svc in services.items():
        problems += [f"{name}: {k!r} is not a compose service key" for k in svc if k not in SERVICE_KEYS]
        if "restart" in svc and not RESTART.match(str(svc["restart"])):
            problems.append(f"{name}: restart {svc['restart']!r}")
        if "image" not in svc and "build" not in svc:
            problems.append(f"{name}: neither image nor build")
        deps = svc.get("depends_on") or {}
        deps = {dep: {} for dep in deps} if isinstance(deps, list) else deps
        graph[name] = list(deps)
        for dep, spec in deps.items():
            if dep not in services:
                problems.append(f"{name}: depends_on {dep!r}, which is not a service")
                continue
            condition = (spec or {}).get("condition", "service_started")
            if condition not in DEPENDS_CONDITIONS:
                problems.append(f"{name}: depends_on {dep}: condition {condition!r}")
            if condition == "service_healthy" and not services[dep].get("healthcheck"):
                problems.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
        for vol in svc.get("volumes") or []:
            source = str(vol.get("source", "")) if isinstance(vol, dict) else str(vol).split(":")[0]
            bind = isinstance(vol, dict) and vol.get("type", "volume") != "volume"
            if source and not bind and not source.startswith(("/", ".", "~")) and source not in declared:
                problems.append(f"{name}: volume {source!r} is not declared under the top-level volumes")
        for key in ("stop_grace_period",):
            if key in svc and not DURATION.match(str(svc[key])):
                problems.append(f"{name}: {key} {svc[key]!r} is not a duration")
        build = svc.get("build")
        if isinstance(build, dict):
            ctx = (d.compose_path.parent / str(build.get("context", "."))).resolve()
            if ctx != d.root.resolve():
                problems.append(f"{name}: build context {ctx} is not the repository root {d.root}")
            if not d.uses_image(name):
                problems.append(f"{name}: build.dockerfile is not {d.dockerfile_path}")
        for env_file in [svc["env_file"]] if isinstance(svc.get("env_file"), str) else svc.get("env_file") or []:
            path = env_file if isinstance(env_file, str) else str(env_file.get("path", ""))
            if (d.compose_path.parent / path).resolve() != (d.root / ".env").resolve():
                problems.append(f"{name}: env_file {path} is not the repository's .env (`triage init` writes it)")
    # cycles
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, []):
            if state.get(dep) == 1:
                problems.append("depends_on cycle: " + " -> ".join([*path[path.index(dep) :], dep]))
            elif dep in graph and not state.get(dep):
                visit(dep, [*path, dep])
        state[node] = 2

    for name in graph:
        if not state.get(name):
            visit(name, [name])
    return problems


def command_problems(d: Deploy) -> list[str]:
    """Every command parses (load() parsed them); what runs inside (`$(...)`, `python -c`) too; every
    server listens on all interfaces (the others, and the published ports, reach it there)."""
    problems = [f"{name}: {err}" for name, err in d.command_errors.items()]
    for name, proc in d.processes.items():
        for snippet in all_snippets(proc):
            problems += snippet_problems(snippet, f"{name}: python -c")
        if proc.listen is not None and proc.listen.host not in ALL_INTERFACES:
            problems.append(f"{name}: listens on {proc.listen.host}, unreachable from other containers (0.0.0.0)")
        if proc.kind.startswith("triage") and proc.listen is None and d.services[name].get("healthcheck"):
            problems.append(f"{name}: `{proc.kind}` serves nothing its healthcheck could ask (TRIAGE_METRICS_PORT?)")
        for mapping in d.services[name].get("ports") or []:
            target = str(mapping.get("target")) if isinstance(mapping, dict) else str(mapping).split(":")[-1]
            port = int(target.split("/")[0])
            if proc.listen is None or port != proc.listen.port:
                problems.append(f"{name}: publishes container port {port}, but it listens on {proc.listen}")
    return problems


def environment_problems(d: Deploy) -> list[str]:
    problems: list[str] = []
    for name in d.services:
        env = d.env(name)
        raw = d.services[name].get("environment") or {}
        if isinstance(raw, dict):
            problems += [
                f"{name}: {k}={v!r} is a YAML boolean: quote it" for k, v in raw.items() if isinstance(v, bool)
            ]
        if d.uses_image(name) or any(k.startswith("TRIAGE_") for k in env):
            problems += env_problems(env, name)
    return problems


def health_url(code: str) -> tuple[str, float | None]:
    """The one http URL a `python -c` healthcheck opens, and its urlopen timeout."""
    tree = ast.parse(code)
    urls = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith(("http://", "https://"))
    ]
    if len(urls) != 1:
        raise ValueError(f"{len(urls)} URLs in the healthcheck (one expected): {urls}")
    timeouts = [
        k.value.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        for k in n.keywords
        if k.arg == "timeout" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, int | float)
    ]
    return str(urls[0]), float(timeouts[0]) if timeouts else None


def seconds(duration: str) -> float:
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", duration))


def healthcheck_argv(test: Any) -> list[str]:
    if isinstance(test, str):
        return ["sh", "-c", test]
    kind, *rest = [str(t) for t in test]
    if kind == "CMD-SHELL":
        return ["sh", "-c", " ".join(rest)]
    if kind == "CMD":
        return rest
    raise ValueError(f"healthcheck test starts with {kind!r} (CMD or CMD-SHELL)")


def healthcheck_problems(d: Deploy) -> list[str]:
    """Each healthcheck asks its service's own port, at a path that service serves and that `triage up`
    probes too; its snippet compiles; its client timeout is below the healthcheck's."""
    problems: list[str] = []
    for name, svc in d.services.items():
        hc = svc.get("healthcheck")
        proc = d.processes.get(name)
        if not hc or proc is None:
            continue
        problems += [f"{name}: healthcheck key {k!r}" for k in hc if k not in HEALTH_KEYS]
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if key in hc and not DURATION.match(str(hc[key])):
                problems.append(f"{name}: healthcheck {key} {hc[key]!r} is not a duration")
        try:
            argv = healthcheck_argv(hc.get("test"))
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if proc.kind == "postgres":
            problems += _pg_isready_problems(name, argv, d.env(name))
            continue
        if argv[:2] != ["python", "-c"] or len(argv) != 3:
            problems.append(f"{name}: healthcheck {argv} is not `python -c CODE` (nothing else is checked here)")
            continue
        snippet = snippet_problems(argv[2], f"{name}: healthcheck")
        if snippet:
            problems += snippet
            continue
        try:
            url, client_timeout = health_url(argv[2])
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            problems.append(f"{name}: healthcheck asks {parts.hostname}, not the container itself (127.0.0.1)")
        if proc.listen is None or parts.port != proc.listen.port:
            problems.append(f"{name}: healthcheck asks port {parts.port}, {name} listens on {proc.listen}")
        if not serves(proc, path):
            problems.append(f"{name}: healthcheck asks {path}, which `{proc.kind}` does not serve")
        probes = topology_probes().get(name)
        if probes is not None and path not in probes:
            problems.append(f"{name}: healthcheck asks {path}; `triage up` probes {sorted(probes)} (topology.py)")
        if client_timeout is not None and "timeout" in hc and client_timeout >= seconds(str(hc["timeout"])):
            problems.append(
                f"{name}: urlopen timeout {client_timeout} s is not below the healthcheck's {hc['timeout']}"
            )
    return problems


def _pg_isready_problems(name: str, argv: list[str], env: Mapping[str, str]) -> list[str]:
    args = shlex.split(argv[2]) if argv[:2] == ["sh", "-c"] else argv
    if args[:1] != ["pg_isready"]:
        return [f"{name}: healthcheck {args} is not pg_isready"]
    opts = dict(zip(args[1::2], args[2::2], strict=False))
    problems = []
    for flag, var in (("-U", "POSTGRES_USER"), ("-d", "POSTGRES_DB")):
        if flag in opts and opts[flag] != env.get(var, "postgres"):
            problems.append(f"{name}: pg_isready {flag} {opts[flag]} but {var}={env.get(var)}")
    return problems


def wiring_problems(d: Deploy) -> list[str]:
    """The services find each other where they listen: TRIAGE_CHROMA_URL, TRIAGE_MODEL_URL and the
    database URL name a service (one they wait for) and its port; the model serves the alias the API
    asks for, the file the image joined at build."""
    from sqlalchemy.engine import make_url

    from agent.graph.llm import model_alias

    problems: list[str] = []
    by_kind = {proc.kind: name for name, proc in d.processes.items()}
    model = d.processes.get(by_kind.get("model", ""))
    build_ggufs = [c for ins in d.instructions if ins.keyword == "RUN" for c in _run_gguf_calls(ins.args)]

    def waits_for(name: str) -> set[str]:
        seen: set[str] = set()
        todo = [name]
        while todo:
            deps = d.services.get(todo.pop(), {}).get("depends_on") or {}
            for dep in deps:
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    def points_at(name: str, what: str, url: str, kind: str) -> None:
        parts = urlsplit(url)
        target = d.processes.get(parts.hostname or "")
        if target is None or target.kind != kind:
            problems.append(f"{name}: {what} {url} names no `{kind}` service")
        elif target.listen is None or parts.port != target.listen.port:
            problems.append(f"{name}: {what} {url}, but {parts.hostname} listens on {target.listen}")
        elif parts.hostname not in waits_for(name):
            problems.append(f"{name}: {what} names {parts.hostname}, which {name} does not wait for (depends_on)")

    for name, proc in d.processes.items():
        if not proc.kind.startswith("triage"):
            continue
        try:
            s = build_settings(d.env(name))
        except ValidationError:
            continue  # environment_problems says why
        if s.chroma_url:
            points_at(name, "TRIAGE_CHROMA_URL", s.chroma_url, "chroma")
        if s.database_url and "postgres" in by_kind:
            url = make_url(s.database_url)
            pg = by_kind["postgres"]
            points_at(name, "TRIAGE_DATABASE_URL", f"http://{url.host}:{url.port or 5432}", "postgres")
            pg_env = d.env(pg)
            want = (
                pg_env.get("POSTGRES_USER", "postgres"),
                pg_env.get("POSTGRES_PASSWORD"),
                pg_env.get("POSTGRES_DB", pg_env.get("POSTGRES_USER", "postgres")),
            )
            if (url.username, url.password, url.database) != want:
                problems.append(
                    f"{name}: the database URL's user/password/database {url.username}/"
                    f"{url.password}/{url.database} are not {pg}'s {want[0]}/{want[1]}/{want[2]}"
                )
        if not s.llm.startswith("llamacpp/") or model is None:
            continue
        llm_name = s.llm.partition("/")[2]
        if s.model_serve:
            problems.append(f"{name}: TRIAGE_MODEL_SERVE is true: it would start a model of its own")
        if not s.model_url:
            problems.append(f"{name}: TRIAGE_MODEL_URL unset: it looks for the model at 127.0.0.1")
        else:
            points_at(name, "TRIAGE_MODEL_URL", s.model_url, "model")
        if model.params.get("alias") != model_alias(llm_name):
            problems.append(
                f"{name}: asks the model for {model_alias(llm_name)!r} (TRIAGE_LLM={s.llm}); "
                f"the model serves --alias {model.params.get('alias')!r}, so {name} refuses it"
            )
        # the --model path is what `$(python -c '... resolve_gguf(NAME, Path(DIR)) ...')` prints at start
        start = [c for snippet in all_snippets(model) for c in gguf_calls(snippet)]
        wanted = (llm_name, str(s.model_cache_dir))
        if str(model.params.get("model")).startswith(SUBSTITUTED.split("{")[0]) and start != [wanted]:
            problems.append(f"{name}: the model process resolves {start}, not {wanted} (TRIAGE_LLM, its cache dir)")
        if build_ggufs and set(start) != set(build_ggufs):
            problems.append(f"model: resolves {start} at start, the image joined {build_ggufs} at build")
    return problems


def _run_gguf_calls(run_args: str) -> list[tuple[str, str]]:
    return [c for seg in run_segments(run_args) if _is_python_c(seg) for c in gguf_calls(seg[seg.index("-c") + 1])]


def run_segments(text: str) -> list[list[str]]:
    """A RUN line's commands, split at && || ; |."""
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    segments: list[list[str]] = [[]]
    for token in lex:
        if token in ("&&", "||", ";", "|"):
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def _is_python_c(argv: list[str]) -> bool:
    return bool(re.fullmatch(r"python(3(\.\d+)?)?", Path(argv[0]).name)) and "-c" in argv[:-1]


def make_problems(argv: list[str], context: Path, makefile: Path) -> list[str]:
    """`make TARGETS VAR=...`: the targets exist (`make -n -B` prints their recipes, runs none) and each
    variable passed reaches them (a marker value shows up in what they would run)."""
    targets = [a for a in argv[1:] if not a.startswith("-") and "=" not in a]
    variables = dict(a.split("=", 1) for a in argv[1:] if "=" in a and not a.startswith("-"))
    markers = {k: f"__dockerfile_{k}__" for k in variables}
    assignments = [f"{k}={m}" for k, m in markers.items()]
    cmd = ["make", "-n", "-B", "-C", str(context), "-f", str(makefile), *targets, *assignments]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        last = [ln for ln in done.stderr.splitlines() if ln.strip()][-1:]
        return [f"`make {' '.join(argv[1:])}`: {last[0] if last else f'exit {done.returncode}'}"]
    if "Nothing to be done for" in done.stdout:  # a .PHONY name without a rule: make runs nothing
        return [f"`make {' '.join(argv[1:])}`: {' '.join(targets)} has no rule in the Makefile"]
    return [
        f"`make {' '.join(argv[1:])}`: {k}= reaches none of its recipes"
        for k, m in markers.items()
        if m not in done.stdout
    ]


def _dockerignored(d: Deploy) -> set[str]:
    names: set[str] = set()
    for f in (d.context / ".dockerignore", d.dockerfile_path.with_name(d.dockerfile_path.name + ".dockerignore")):
        if f.exists():
            names |= {
                ln.strip().strip("/") for ln in f.read_text().splitlines() if ln.strip() and not ln.startswith("#")
            }
    return names


def dockerfile_problems(d: Deploy) -> list[str]:
    problems: list[str] = []
    ins = d.instructions
    # the base image's Python is the one the lock was made with
    base = next((i.args for i in ins if i.keyword == "FROM"), "")
    lock = d.context / "requirements.lock"
    locked = re.search(r"Python (\d+\.\d+)", lock.read_text(encoding="utf-8")) if lock.exists() else None
    image_py = re.match(r"python:(\d+\.\d+)", base)
    if not image_py or not locked or image_py.group(1) != locked.group(1):
        problems.append(f"FROM {base}: not the lock's Python ({locked.group(1) if locked else '?'})")
    # COPY: sources exist, land where the build looks, send no local state, cover what the build needs
    workdir = "/"
    copied: list[Path] = []
    ignored = _dockerignored(d)
    for i in ins:
        if i.keyword == "WORKDIR":
            workdir = i.args
        if i.keyword not in ("COPY", "ADD"):
            continue
        tokens = exec_form(i.args) if i.args.startswith("[") else shlex.split(i.args)
        if any(t.startswith("--from") for t in tokens):
            continue
        *sources, dest = [t for t in tokens if not t.startswith("--")]
        dest = dest if dest.startswith("/") else f"{workdir.rstrip('/')}/{dest}"
        for src in sources:
            path = (d.context / src).resolve()
            # where the build (in WORKDIR) looks for it: a directory's contents go to DEST itself
            lands = dest.rstrip("/") + ("/" + Path(src).name if dest.endswith("/") and not path.is_dir() else "")
            if path.exists() and src not in (".", "./") and lands != f"{workdir.rstrip('/')}/{src.rstrip('/')}":
                problems.append(
                    f"line {i.line}: COPY {src} lands at {lands}, not {workdir}/{src} where the build looks"
                )
            if d.context.resolve() not in [path, *path.parents]:
                problems.append(f"line {i.line}: COPY {src} is outside the build context")
            elif not path.exists() and not (any(c in src for c in "*?[") and any(d.context.glob(src))):
                problems.append(f"line {i.line}: COPY {src}: no such file in the build context {d.context}")
            copied.append(path)
            for local in LOCAL_ONLY:
                target = (d.context / local).resolve()
                if local not in ignored and (target == path or path in target.parents):
                    problems.append(
                        f"line {i.line}: COPY {src} sends {local} into the image (local state: "
                        "the host's venv, secrets, databases); copy what the build needs"
                    )
    pyproject = tomllib.loads((d.context / "pyproject.toml").read_text(encoding="utf-8"))
    needed = ["Makefile", "pyproject.toml", "requirements.lock", str(pyproject["project"].get("readme", ""))]
    includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    needed += sorted({str(p).split(".")[0].rstrip("*") for p in includes})
    for need in filter(None, needed):
        target = (d.context / need).resolve()
        if not any(target == c or c in target.parents for c in copied):
            problems.append(f"the image gets no {need} (make setup / pip install -e . need it): COPY it")
    # RUN: make targets and python one-liners
    for i in ins:
        if i.keyword != "RUN":
            continue
        for seg in run_segments(i.args):
            if Path(seg[0]).name == "make":
                problems += [f"line {i.line}: {p}" for p in make_problems(seg, d.context, d.makefile)]
            elif _is_python_c(seg):
                problems += snippet_problems(seg[seg.index("-c") + 1], f"line {i.line}: python -c")
    # ENV: Settings keys and values; the venv `make setup` makes is on PATH
    env = dockerfile_env(ins)
    problems += env_problems(env, "Dockerfile ENV")
    venv = (
        re.search(r"^VENV\s*:?=\s*(\S+)", d.makefile.read_text(encoding="utf-8"), re.M) if d.makefile.exists() else None
    )
    if venv and f"{workdir.rstrip('/')}/{venv.group(1)}/bin" not in env.get("PATH", "").split(":"):
        problems.append(f"ENV PATH lacks {workdir}/{venv.group(1)}/bin: triage, chroma and python are not found")
    # CMD: parses, and serves where others can reach it
    cmd = next((i for i in reversed(ins) if i.keyword == "CMD"), None)
    if cmd is None:
        problems.append("no CMD")
    else:
        try:
            proc = parse_command(exec_form(cmd.args), env)
            if proc.listen is not None and proc.listen.host not in ALL_INTERFACES:
                problems.append(f"CMD listens on {proc.listen.host}: unreachable from outside the container")
        except CommandError as exc:
            problems.append(f"CMD: {exc}")
    return problems


def health_table(d: Deploy) -> dict[str, str]:
    """compose.yaml's header table: service -> the rest of its row (continuation lines joined)."""
    rows: dict[str, str] = {}
    lines = d.compose_path.read_text(encoding="utf-8").splitlines()
    start = next((n for n, ln in enumerate(lines) if re.match(r"#\s+service\s+liveness\s+readiness", ln)), None)
    if start is None:
        return rows
    last = ""
    for ln in lines[start + 1 :]:
        if not ln.startswith("#   "):
            break
        first, _, rest = ln[1:].strip().partition(" ")
        if first in d.services:
            rows[first] = rest
            last = first
        elif last:
            rows[last] += " " + ln[1:].strip()
    return rows


def table_problems(d: Deploy) -> list[str]:
    """Every service has a row; each `:PORT/path` in it is served there; the healthcheck's is among them."""
    rows = health_table(d)
    if not rows:
        return ["no health table in compose.yaml's header"]
    problems = [f"health table: no row for {name}" for name in d.services if name not in rows]
    problems += [f"health table: {name} is not a service" for name in rows if name not in d.services]
    for name, row in rows.items():
        proc = d.processes.get(name)
        if proc is None:
            continue
        urls = {(int(p), path) for p, path in re.findall(r":(\d+)(/\S*)", row)}
        for port, path in sorted(urls):
            if proc.listen is None or port != proc.listen.port:
                problems.append(f"health table: {name} :{port}{path}, but {name} listens on {proc.listen}")
            elif not serves(proc, path):
                problems.append(f"health table: {name} :{port}{path} is not served by `{proc.kind}`")
        test = (d.services[name].get("healthcheck") or {}).get("test")
        if test is None:
            continue
        argv = healthcheck_argv(test)
        if proc.kind == "postgres":
            if "pg_isready" not in row or "pg_isready" not in " ".join(argv):
                problems.append(f"health table: {name}'s row and healthcheck disagree (pg_isready)")
            continue
        with contextlib.suppress(ValueError, SyntaxError, IndexError):
            parts = urlsplit(health_url(argv[2])[0])
            if (parts.port, parts.path or "/") not in urls:
                problems.append(f"health table: {name}'s healthcheck :{parts.port}{parts.path} is not in its row")
    return problems


CHECKS = {
    "structure": structure_problems,
    "commands": command_problems,
    "environment": environment_problems,
    "healthchecks": healthcheck_problems,
    "wiring": wiring_problems,
    "dockerfile": dockerfile_problems,
    "table": table_problems,
}


def all_problems(d: Deploy) -> dict[str, list[str]]:
    return {name: check(d) for name, check in CHECKS.items()}


# ---- the tests -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deploy() -> Deploy:
    return load()


def test_compose_structure(deploy: Deploy) -> None:
    assert set(deploy.services) == {"postgres", "chroma", "model", "api", "worker"}
    assert structure_problems(deploy) == []


def test_every_command_parses_with_its_own_parser(deploy: Deploy) -> None:
    assert command_problems(deploy) == []
    kinds = {name: proc.kind for name, proc in deploy.processes.items()}
    assert kinds == {
        "postgres": "postgres",
        "chroma": "chroma",
        "model": "model",
        "api": "triage serve",
        "worker": "triage worker",
    }
    model = deploy.processes["model"]
    assert model.params["model"] == SUBSTITUTED.format(1)  # the `$(python -c ...)` it resolves at start
    assert [p.kind for p in model.inner] == ["python -c"]


def test_environment_keys_are_settings_fields_and_validate(deploy: Deploy) -> None:
    assert environment_problems(deploy) == []


def test_healthchecks_ask_what_each_service_serves(deploy: Deploy) -> None:
    assert healthcheck_problems(deploy) == []
    assert {name: p.listen.port for name, p in deploy.processes.items() if p.listen} == {
        "postgres": 5432,
        "chroma": 8000,
        "model": 8090,
        "api": 8000,
        "worker": 9100,
    }


def test_services_reach_each_other(deploy: Deploy) -> None:
    assert wiring_problems(deploy) == []


def test_dockerfile(deploy: Deploy) -> None:
    assert dockerfile_problems(deploy) == []


def test_health_table_agrees(deploy: Deploy) -> None:
    assert set(health_table(deploy)) == set(deploy.services)
    assert table_problems(deploy) == []


def test_probes_tell_a_wrong_path() -> None:
    """The route checks answer no for a path nobody serves (else the healthcheck tests prove nothing)."""
    assert api_serves("/readyz") and not api_serves("/ready")
    assert chroma_serves("/api/v2/heartbeat") and not chroma_serves("/api/v2/heartbeet")
    args = ("--model", "/m.gguf", "--alias", "a", "--port", "8090")
    assert model_serves(args, "/health") and not model_serves(args, "/healthz")


# Each mutation breaks one thing in a copy of the deploy files; the check that guards it must say so.
# (file, old text, new text, check, a fragment of the problem it reports)
MUTATIONS: dict[str, tuple[str, str, str, str, str]] = {
    "api --prot": (
        "compose",
        '"serve", "--host", "0.0.0.0", "--port"',
        '"serve", "--host", "0.0.0.0", "--prot"',
        "commands",
        "No such option: --prot",
    ),
    "unknown triage subcommand": ("compose", '["triage", "worker"]', '["triage", "wrker"]', "commands", "'wrker'"),
    "chroma --prot": (
        "compose",
        'chroma-server", "--host", "0.0.0.0", "--port"',
        'chroma-server", "--host", "0.0.0.0", "--prot"',
        "commands",
        "--prot",
    ),
    "model --prot": ("compose", "--port 8090", "--prot 8090", "commands", "required: --port"),
    "model start snippet import": (
        "compose",
        "import resolve_gguf;",
        "import resolve_ggu;",
        "commands",
        "no 'resolve_ggu'",
    ),
    "worker without a metrics port": (
        "compose",
        '      TRIAGE_METRICS_PORT: "9100"\n',
        "",
        "commands",
        "serves nothing its healthcheck could ask",
    ),
    "api on loopback only": (
        "compose",
        '"serve", "--host", "0.0.0.0"',
        '"serve", "--host", "127.0.0.1"',
        "commands",
        "unreachable from other containers",
    ),
    "variable without a default": (
        "compose",
        "OMP_NUM_THREADS: ${WORKER_THREADS:-1}",
        "OMP_NUM_THREADS: ${WORKER_THREADS}",
        "structure",
        "$WORKER_THREADS has no default",
    ),
    "TRIAGE_NOPE": (
        "compose",
        "  TRIAGE_DATA_DIR: /data",
        '  TRIAGE_DATA_DIR: /data\n  TRIAGE_NOPE: "1"',
        "environment",
        "TRIAGE_NOPE is not a Settings field",
    ),
    "bad metrics port value": (
        "compose",
        'TRIAGE_METRICS_PORT: "9100"',
        'TRIAGE_METRICS_PORT: "99999"',
        "environment",
        "metrics_port",
    ),
    "api healthcheck port 8001": (
        "compose",
        "127.0.0.1:8000/readyz",
        "127.0.0.1:8001/readyz",
        "healthchecks",
        "asks port 8001",
    ),
    "api healthcheck path": (
        "compose",
        "127.0.0.1:8000/readyz",
        "127.0.0.1:8000/ready",
        "healthchecks",
        "asks /ready,",
    ),
    "worker healthcheck port": ("compose", "127.0.0.1:9100/", "127.0.0.1:9101/", "healthchecks", "asks port 9101"),
    "model healthcheck path": ("compose", "8090/health'", "8090/healthz'", "healthchecks", "asks /healthz"),
    "chroma healthcheck path": (
        "compose",
        "8000/api/v2/heartbeat'",
        "8000/api/v2/heartbeet'",
        "healthchecks",
        "asks /api/v2/heartbeet",
    ),
    "healthcheck snippet": (
        "compose",
        "urllib.request.urlopen('http://127.0.0.1:8090",
        "urllib.request.urlopn('http://127.0.0.1:8090",
        "healthchecks",
        "no attribute 'urlopn'",
    ),
    "unknown dependency": (
        "compose",
        "api: {condition: service_healthy}",
        "redis: {condition: service_healthy}",
        "structure",
        "'redis', which is not a service",
    ),
    "depends_on cycle": (
        "compose",
        "POSTGRES_DB: triage\n",
        "POSTGRES_DB: triage\n    depends_on: [worker]\n",
        "structure",
        "cycle",
    ),
    "undeclared volume": (
        "compose",
        "- pg-data:/var/lib/postgresql/data",
        "- pg-dta:/var/lib/postgresql/data",
        "structure",
        "'pg-dta' is not declared",
    ),
    "service key typo": (
        "compose",
        "    stop_grace_period: 60s",
        "    stop_grace_periods: 60s",
        "structure",
        "'stop_grace_periods'",
    ),
    "model url port": ("compose", "http://model:8090", "http://model:8091", "wiring", "model listens on"),
    "model alias": ("compose", "--alias qwen2.5-coder-1.5b-instruct", "--alias qwen", "wiring", "api refuses"),
    "database password": (
        "compose",
        "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-triage}",
        "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-other}",
        "wiring",
        "user/password/database",
    ),
    "table port": (
        "compose",
        "GET :8000/api/v2/heartbeat",
        "GET :8002/api/v2/heartbeat",
        "table",
        ":8002/api/v2/heartbeat, but chroma listens",
    ),
    "missing COPY path": (
        "dockerfile",
        "COPY tools /app/tools",
        "COPY toolz /app/toolz",
        "dockerfile",
        "COPY toolz: no such file",
    ),
    "COPY the whole tree": ("dockerfile", "COPY Makefile ", "COPY . /app\nCOPY Makefile ", "dockerfile", "sends .venv"),
    "COPY to the wrong place": (
        "dockerfile",
        "COPY agent /app/agent",
        "COPY agent /app/agnt",
        "dockerfile",
        "lands at /app/agnt",
    ),
    "missing make target": (
        "dockerfile",
        "make setup-model PY",
        "make setup-modle PY",
        "dockerfile",
        "No rule to make target 'setup-modle'",
    ),
    "make variable not used": ("dockerfile", "PY=python3", "PYTHON=python3", "dockerfile", "PYTHON= reaches none"),
    "Dockerfile python -c import": (
        "dockerfile",
        "from agent.graph.llm import resolve_gguf; \\",
        "from agent.graph.llms import resolve_gguf; \\",
        "dockerfile",
        "agent.graph.llms",
    ),
    "Dockerfile TRIAGE_NOPE": (
        "dockerfile",
        "    PYTHONUNBUFFERED=1",
        "    PYTHONUNBUFFERED=1 TRIAGE_NOPE=1",
        "dockerfile",
        "TRIAGE_NOPE is not a Settings field",
    ),
    "Dockerfile CMD --prot": (
        "dockerfile",
        '"--host", "0.0.0.0"]',
        '"--host", "0.0.0.0", "--prot", "8000"]',
        "dockerfile",
        "No such option: --prot",
    ),
    "Makefile rule removed": (
        "makefile",
        "setup-model: $(MODEL_STAMP)",
        "setup-modl: $(MODEL_STAMP)",
        "dockerfile",
        "setup-model has no rule",
    ),
}


def mutated_copy(where: Path, mutation: str | None) -> Deploy:
    """The deploy files laid out under `where` as in the repository (the Makefile beside them when it
    is the one mutated), with `mutation` applied; loaded as load() loads the real ones."""
    texts = {
        "compose": COMPOSE.read_text(encoding="utf-8"),
        "dockerfile": DOCKERFILE.read_text(encoding="utf-8"),
        "makefile": (REPO / "Makefile").read_text(encoding="utf-8"),
    }
    if mutation is not None:
        file, old, new, _check, _fragment = MUTATIONS[mutation]
        assert texts[file].count(old) == 1, f"mutation {mutation!r}: {old!r} is not once in the {file}"
        texts[file] = texts[file].replace(old, new)
    deploy_dir = where / "api" / "deploy"
    deploy_dir.mkdir(parents=True, exist_ok=True)
    (deploy_dir / "compose.yaml").write_text(texts["compose"], encoding="utf-8")
    (deploy_dir / "Dockerfile").write_text(texts["dockerfile"], encoding="utf-8")
    (where / "Makefile.mutated").write_text(texts["makefile"], encoding="utf-8")
    return load(deploy_dir / "compose.yaml", deploy_dir / "Dockerfile", root=where, makefile=where / "Makefile.mutated")


def test_an_unmutated_copy_is_clean(tmp_path: Path) -> None:
    assert all_problems(mutated_copy(tmp_path, None)) == {check: [] for check in CHECKS}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_each_check_catches_its_mutation(tmp_path: Path, mutation: str) -> None:
    check, fragment = MUTATIONS[mutation][3:]
    problems = CHECKS[check](mutated_copy(tmp_path, mutation))
    assert any(fragment in p for p in problems), f"{check} missed {mutation!r}: {problems}"
