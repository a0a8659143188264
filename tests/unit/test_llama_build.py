"""agent/runtime/llama_build.py: the portability check and `make setup`'s wheel cache (pip faked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.runtime import llama_build

PIN = "llama_cpp_python==0.3.36"


def test_amx_and_avx512_builds_are_not_portable() -> None:
    assert llama_build.problems("CPU : SSE3 = 1 | AVX2 = 1 | FMA = 1 | AMX_INT8 = 0 |") == []
    assert llama_build.problems("CPU : AVX2 = 1 | AMX_INT8 = 1 |")
    assert llama_build.problems("CPU : AVX2 = 1 | AVX512 = 1 |")
    assert llama_build.problems("CPU : SSE3 = 1 |")  # no AVX2: slow


def test_the_wheel_cache_is_keyed_by_version_and_cmake_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = llama_build.wheel_dir(PIN, str(tmp_path))
    assert a is not None and a.parent == tmp_path
    assert llama_build.wheel_dir("llama-cpp-python==0.3.36", str(tmp_path)) == a  # pip's spellings are one
    assert llama_build.wheel_dir("llama_cpp_python==0.3.37", str(tmp_path)) != a
    monkeypatch.setattr(llama_build, "CMAKE_ARGS", llama_build.CMAKE_ARGS + " -DGGML_NATIVE=ON")
    assert llama_build.wheel_dir(PIN, str(tmp_path)) != a
    assert llama_build.wheel_dir(PIN, "0") is None  # TRIAGE_WHEEL_CACHE=0: off


class FakePip:
    """`pip wheel` writes a wheel into -w; `pip install` records which wheel; the check says whether
    the installed build is portable (one bad wheel name can be configured)."""

    def __init__(self, bad: set[str] | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.installed: str | None = None
        self.bad = bad or set()
        self.builds = 0

    def pip(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.calls.append(args)
        if args[0] == "wheel":
            assert env is not None and env["CMAKE_ARGS"] == llama_build.CMAKE_ARGS
            self.builds += 1
            out = Path(args[args.index("-w") + 1])
            (out / f"llama_cpp_python-0.3.36-build{self.builds}-cp311-linux_x86_64.whl").write_text("w")
        elif args[0] == "install" and "--no-deps" in args:
            self.installed = Path(args[-1]).name

    def checked(self) -> bool:
        return self.installed is not None and self.installed not in self.bad


def _install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakePip) -> int:
    monkeypatch.setenv("TRIAGE_WHEEL_CACHE", str(tmp_path))
    monkeypatch.setattr(llama_build, "_pip", fake.pip)
    monkeypatch.setattr(llama_build, "_checked", fake.checked)
    return llama_build.install(PIN, "requirements.lock")


def test_a_fresh_venv_builds_once_and_the_next_reuses_the_checked_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = FakePip()
    assert _install(monkeypatch, tmp_path, first) == 0
    assert first.builds == 1
    second = FakePip()  # another fresh venv on this machine
    assert _install(monkeypatch, tmp_path, second) == 0
    assert second.builds == 0 and second.installed == first.installed


def test_a_cached_wheel_that_fails_the_check_is_deleted_and_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = llama_build.wheel_dir(PIN, str(tmp_path))
    assert cache is not None
    cache.mkdir(parents=True)
    planted = cache / "llama_cpp_python-0.3.36-native-cp311-linux_x86_64.whl"  # e.g. built with AMX
    planted.write_text("w")
    fake = FakePip(bad={planted.name})
    assert _install(monkeypatch, tmp_path, fake) == 0
    assert fake.builds == 1 and fake.installed != planted.name
    assert not planted.exists()


def test_an_installed_portable_build_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePip()
    fake.installed = "already.whl"
    assert _install(monkeypatch, tmp_path, fake) == 0
    assert fake.calls == []
