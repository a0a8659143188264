"""Is the installed llama-cpp-python a portable CPU build? Run as a script by `make setup` (stdlib only).

ggml's AMX backend segfaults in `ggml_backend_amx_mul_mat` on some Sapphire Rapids class Xeons
(llama.cpp issue #20824), and a native build (`GGML_NATIVE=ON`, llama-cpp-python's default) turns it
on wherever the build machine has AMX. pip's wheel cache keys a source build by the sdist alone, not
by CMAKE_ARGS, so a native wheel cached on one machine is silently reused on another. `make setup`
therefore builds with `CMAKE_ARGS` below and `--no-cache-dir`, then runs this check.

`python agent/runtime/llama_build.py --cmake-args` prints the CMAKE_ARGS (the Makefile reads them from here).
Exit status: 0 portable; 1 llama_cpp is missing or was built with AVX-512 / AMX (rebuild it);
the first line printed says which.
"""

from __future__ import annotations

import re
import sys

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


def main() -> int:
    if sys.argv[1:] == ["--cmake-args"]:
        print(CMAKE_ARGS)
        return 0
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
