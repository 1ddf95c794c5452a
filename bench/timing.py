"""Interleaved timing of competing candidates, reported as medians.

Every round runs every candidate once, in a fresh random order (so no candidate always follows the
same neighbour and inherits its cache or thread-pool state), so a slow spell of a shared machine hits
all candidates of a round alike: ratios measured within one run stay meaningful when absolute times
drift. Each sample repeats a call until it lasts ``sample_time`` seconds; the reported time per call
is the median over the rounds. Before timing, each candidate's result is checked against a reference,
so a wrong or crashing candidate is reported in the table instead of silently timed.

A candidate that disturbs the others can be *isolated*: it is timed after the interleaved rounds, in
rounds of its own. jax is one: its CPU thread pool keeps spinning after a call, and an OpenBLAS GEMM
run right after it on 2 cores was measured 15–30× slower (a 256×256 two-GEMM matvec: 0.7 ms alone,
10–20 ms interleaved with jax).

Candidates that use different thread pools (numpy's and scipy's separate OpenBLAS builds) can be
*primed*: each sample then starts with untimed calls of its own for ``prime`` seconds (at least one
call), so that it does not pay for the pool its predecessor in the round left spinning, and every
candidate is timed in its own steady state. An idle OpenBLAS pool spins for about 0.1 s after its
last call: at n = 1024 on 2 cores, the first three numpy GEMMs after a scipy ``potrf`` + ``potri``
took 45, 44 and 27 ms against 19 ms once settled, and scipy's ``potrf`` + ``potri`` after numpy
GEMMs 35, 36 and 32 ms against 22 ms.
"""

from __future__ import annotations

import gc
import math
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Settings:
    """How hard to measure. ``quick`` also tells suites to use their small problem sizes."""

    rounds: int = 11  # interleaved rounds: samples per candidate
    sample_time: float = 0.02  # seconds one sample should last (calls are repeated to reach it)
    budget: float = 12.0  # seconds one candidate may spend per comparison; beyond, it sits out rounds
    min_rounds: int = 3  # rounds even a slow candidate takes part in (fewer only past 3 × budget)
    quick: bool = False


FULL = Settings()
QUICK = Settings(rounds=5, sample_time=0.005, budget=1.5, min_rounds=1, quick=True)


@dataclass(frozen=True)
class Measurement:
    """Seconds per call (median over rounds) and a caveat; ``median`` is None when not timed."""

    median: float | None = None
    samples: tuple[float, ...] = ()
    note: str = ""


def relative_error(result, reference) -> float:
    """``max|result - reference| / max|reference|`` (both taken as arrays)."""
    result, reference = np.asarray(result), np.asarray(reference)
    if result.shape != reference.shape:
        return math.inf
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return float(np.max(np.abs(result - reference))) / (scale or 1.0) if reference.size else 0.0


def _calibrate(fn: Callable[[], object], sample_time: float) -> tuple[int, float]:
    """Calls per sample so that one sample lasts about ``sample_time``, and the seconds per call."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= sample_time / 4 or number >= 1 << 20:
            per_call = elapsed / number
            return max(1, round(sample_time / per_call)), per_call
        number *= 4


def _prime(fn: Callable[[], object], seconds: float) -> None:
    """Call ``fn`` (untimed) until ``seconds`` have passed, at least once."""
    start = time.perf_counter()
    fn()
    while time.perf_counter() - start < seconds:
        fn()


def _rounds_taken(per_sample: float, settings: Settings) -> int:
    """How many rounds a candidate whose sample costs ``per_sample`` seconds takes part in."""
    affordable = int(settings.budget // per_sample) if per_sample > 0 else settings.rounds
    floor = settings.min_rounds if per_sample * settings.min_rounds <= 3 * settings.budget else 1
    return max(min(settings.rounds, affordable), min(floor, settings.rounds))


def compare(
    candidates: Mapping[str, Callable[[], object]],
    reference=None,
    settings: Settings = FULL,
    rtol: float = 1e-8,
    isolated: Collection[str] = (),
    references: Mapping[str, object] | None = None,
    prime: float = 0.0,
) -> dict[str, Measurement]:
    """Time ``candidates`` (name → zero-argument callable) interleaved; return name → Measurement.

    The first call of each candidate is a warm-up (compilation, caches) whose result is compared with
    ``reference`` (when given): a relative error above ``rtol`` is noted next to the time, an exception
    replaces the time by a note. ``references`` gives candidates their own reference (name → result;
    it overrides ``reference``), so that candidates computing different things (a function and its
    gradient) can be timed in the same rounds. Candidates named in ``isolated`` are timed after the
    others, alone. With ``prime`` > 0, each sample follows untimed calls lasting that many seconds.
    """
    notes: dict[str, str] = {}
    runnable: dict[str, Callable[[], object]] = {}
    order = [name for name in candidates if name not in isolated] + [name for name in candidates if name in isolated]
    for name in order:
        fn = candidates[name]
        try:
            result = fn()
        except Exception as error:  # a peer that crashes is a result to report, not a bench failure
            notes[name] = f"fails: {type(error).__name__}: {str(error)[:60]}"
            continue
        expected = (references or {}).get(name, reference)
        if expected is not None:
            deviation = relative_error(result, expected)
            if not deviation <= rtol:
                notes[name] = f"wrong result (relative error {deviation:.1e})"
        runnable[name] = fn

    plan = {}
    for name, fn in runnable.items():
        number, per_call = _calibrate(fn, settings.sample_time)
        taken = _rounds_taken(number * per_call + (max(prime, per_call) if prime else 0.0), settings)
        chosen = {round(i * settings.rounds / taken) for i in range(taken)}
        plan[name] = (fn, number, chosen)

    samples: dict[str, list[float]] = {name: [] for name in plan}
    interleaved = [name for name in plan if name not in isolated]
    shuffler = random.Random(0)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for group in [interleaved] + [[name] for name in plan if name in isolated]:
            if not group:
                continue
            for r in range(settings.rounds):
                for name in shuffler.sample(group, len(group)):
                    fn, number, chosen = plan[name]
                    if r not in chosen:
                        continue
                    if prime:
                        _prime(fn, prime)
                    start = time.perf_counter()
                    for _ in range(number):
                        fn()
                    samples[name].append((time.perf_counter() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()

    out = {}
    for name in candidates:
        if name in samples:
            taken = samples[name]
            note = notes.get(name, "")
            if len(taken) < settings.min_rounds:
                note = "; ".join(filter(None, [note, f"{len(taken)} run{'s' * (len(taken) != 1)} only"]))
            out[name] = Measurement(float(np.median(taken)), tuple(taken), note)
        else:
            out[name] = Measurement(None, (), notes[name])
    return out
