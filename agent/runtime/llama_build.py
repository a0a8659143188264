"""Is the installed llama-cpp-python a portable CPU build? Run as a script by `make setup` (stdlib only).

ggml's AMX backend segfaults in `ggml_backend_amx_mul_mat` on some Sapphire Rapids class Xeons
(llama.cpp issue #20824), and a native build (`GGML_NATIVE=ON`, llama-cpp-python's default) turns it
on wherever the build machine has AMX. pip's wheel cache keys a source build by the sdist alone, not
by CMAKE_ARGS, so a native wheel cached on one machine is silently reused on another. `make setup`
therefore builds with `CMAKE_ARGS` below and `--no-cache-dir`, then runs this check.

`python agent/runtime/llama_build.py --cmake-args` prints the CMAKE_ARGS (the Makefile reads them from here).
Exit status: 0 portable; 1 llama_cpp is missing or was built with AVX-512 / AMX (rebuild it);
the first line printed says which.

`python agent/runtime/llama_build.py --install 'llama_cpp_python==X' --lock requirements.lock` (what
`make setup` runs): nothing when the installed build is portable; else the wheel we built before with
these CMAKE_ARGS for this version, Python and machine (`wheel_dir`: under ``~/.cache/triage/llama-wheels``
or ``$TRIAGE_WHEEL_CACHE``; ``TRIAGE_WHEEL_CACHE=0`` turns it off), or a fresh build from the sdist with
pip's cache off, kept there for the next fresh venv; then the check again. This cache is safe where
pip's is not: it is keyed by the CMAKE_ARGS (always the portable ones) and every wheel it hands back is
checked; one that fails is deleted and built again. A clean clone on a machine that built it once
skips the ~4-minute build (CI runs on the machine of the session that submitted).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF "
    "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
)
# features a portable build must not contain (reported by llama_print_system_info as NAME = 1)
NOT_PORTABLE = ("AMX", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16")


def compiled_features(system_info: str) -> set[str]:
    """'CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 0 |' -> {'SSE3', 'AVX2'}."""
    return {name for name, on in re.findall(r"([A-Z0-9_]+)\s*=\s*(\d+)", system_info) if on != "0"}


def problems(system_info: str) -> list[str]:
    feats = compiled_features(system_info)
    bad = sorted(f for f in feats if f.startswith(NOT_PORTABLE))
    out = [f"built with {', '.join(bad)} (not portable; AMX crashes on some Xeons)"] if bad else []
    if "AVX2" not in feats:
        out.append("built without AVX2 (slow): rebuild with the portable CMAKE_ARGS")
    return out


def wheel_dir(pin: str, root: str | None = None) -> Path | None:
    """Where the wheel built for `pin` (``llama_cpp_python==X``) with CMAKE_ARGS on this Python and
    machine is kept; None when ``TRIAGE_WHEEL_CACHE=0``."""
    root = os.environ.get("TRIAGE_WHEEL_CACHE", "") if root is None else root
    if root.strip() == "0":
        return None
    base = Path(root).expanduser() if root.strip() else Path.home() / ".cache" / "triage" / "llama-wheels"
    tag = f"{pin.strip().lower().replace('-', '_')}|{CMAKE_ARGS}|{sys.implementation.cache_tag}|{platform.machine()}"
    return base / hashlib.sha256(tag.encode()).hexdigest()[:16]


def _pip(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, env=env)


def _checked() -> bool:
    return subprocess.run([sys.executable, __file__], stdout=subprocess.DEVNULL, check=False).returncode == 0


def install(pin: str, lock: str) -> int:
    """`make setup`'s step (module docstring): 0 once the installed llama-cpp-python is portable."""
    if _checked():
        return 0
    cache = wheel_dir(pin)
    for attempt in ("cached", "fresh"):
        wheels = sorted(cache.glob("llama_cpp_python-*.whl")) if cache is not None else []
        if attempt == "fresh" or not wheels:
            out = cache if cache is not None else Path.cwd() / ".llama-wheel"
            out.mkdir(parents=True, exist_ok=True)
            for old in out.glob("*.whl"):
                old.unlink()
            print(f"building {pin} from its sdist for a portable CPU (a few minutes)", flush=True)
            _pip("wheel", "-q", "--no-cache-dir", "--no-deps", "--no-binary", "llama-cpp-python", "-c", lock,
                 "-w", str(out), pin, env={**os.environ, "CMAKE_ARGS": CMAKE_ARGS})  # fmt: skip
            wheels = sorted(out.glob("llama_cpp_python-*.whl"))
            if not wheels:
                print(f"pip built no llama_cpp_python wheel into {out}")
                return 1
        else:
            print(f"installing the portable {pin} built before: {wheels[-1]}", flush=True)
        _pip("install", "-q", "--force-reinstall", "--no-deps", str(wheels[-1]))
        _pip("install", "-q", "-c", lock, str(wheels[-1]))  # its dependencies, at the locked versions
        if _checked():
            if cache is None:
                wheels[-1].unlink()
            return 0
        wheels[-1].unlink()  # not portable or does not load: never hand it out again
        if attempt == "fresh":
            break
    return main_check()


def main() -> int:
    if sys.argv[1:] == ["--cmake-args"]:
        print(CMAKE_ARGS)
        return 0
    if sys.argv[1:2] == ["--wheel-dir"] and len(sys.argv) == 3:
        print(wheel_dir(sys.argv[2]) or "")
        return 0
    if sys.argv[1:2] == ["--install"] and len(sys.argv) == 5 and sys.argv[3] == "--lock":
        return install(sys.argv[2], sys.argv[4])
    return main_check()


def main_check() -> int:
    try:
        import llama_cpp
    except ImportError as exc:
        print(f"llama_cpp is not installed or does not load: {exc}")
        return 1
    info = llama_cpp.llama_print_system_info()
    text = info.decode() if isinstance(info, bytes) else str(info)
    found = problems(text)
    if found:
        print(f"llama-cpp-python {llama_cpp.__version__}: " + "; ".join(found))
        print(
            f"rebuild: CMAKE_ARGS='{CMAKE_ARGS}' pip install --no-cache-dir --force-reinstall --no-deps "
            f"--no-binary llama-cpp-python llama-cpp-python=={llama_cpp.__version__}"
        )
        return 1
    print(f"llama-cpp-python {llama_cpp.__version__}: portable build ({text.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
