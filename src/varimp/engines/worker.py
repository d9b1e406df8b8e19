"""The worker's side of a fit: the process-wide state a ``fit`` may draw from or run on.

:func:`global_seed` seeds every global random generator a fit may draw from (Python's
``random`` functions, each block's own; NumPy's, torch's, Keras' seed generator) from the fit's
seed and restores them afterwards; :func:`thread_limits` gives a worker its share of the
cores (torch's intra-op threads and the BLAS/OpenMP pools). See :mod:`varimp.engines.fits`
("Seeding a fit") for when each is used.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import random
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..adapters.seeding import swap_keras_seed_generator


class _GlobalStates:
    """The process's global generators as they were before the first of the :func:`global_seed`
    blocks running at once (in several threads) began; restored when the last one ends."""

    lock = threading.Lock()
    depth = 0
    saved: tuple | None = None


#: Python's module-level ``random`` functions (methods of its hidden shared instance).
_RANDOM_FUNCTIONS = tuple(name for name in random.__all__
                          if isinstance(getattr(getattr(random, name), "__self__", None),
                                        random.Random))


class _ThreadRandom:
    """Python's ``random`` functions, private to each thread inside a :func:`global_seed` block.

    While a block runs, ``random.random``, ``random.randint``, ... are dispatchers: in a thread
    inside a block they draw from that block's own ``random.Random(seed)``, elsewhere from
    Python's shared instance as usual, which the blocks never seed nor restore. Other threads
    then cannot shift a fit's draws (Dask's worker draws from ``random`` in its event-loop
    thread at every heartbeat, ``dask.sizeof`` sampling the message; Keras draws the seed of
    every unseeded initializer from it), and a fit cannot shift another thread's draws (the
    user's own, drawing from Python's shared instance while varimp runs)."""

    local = threading.local()
    originals: dict[str, Callable] = {}

    @classmethod
    def install(cls) -> None:
        for name in _RANDOM_FUNCTIONS:
            cls.originals[name] = original = getattr(random, name)
            setattr(random, name, cls._dispatcher(name, original))

    @classmethod
    def uninstall(cls) -> None:
        for name, original in cls.originals.items():
            setattr(random, name, original)
        cls.originals.clear()

    @classmethod
    def _dispatcher(cls, name: str, original: Callable) -> Callable:
        @functools.wraps(original)
        def dispatch(*args: Any, **kwargs: Any) -> Any:
            own = getattr(cls.local, "generator", None)
            return (original if own is None else getattr(own, name))(*args, **kwargs)

        return dispatch


def global_seed(seed: int) -> contextlib.AbstractContextManager[None]:
    """A block in which every global generator a fit may draw from is seeded from ``seed``:
    Python's ``random`` functions (the block's own generator, see below), NumPy's global
    generator, torch's (imported here when it is installed, so that a fit importing torch in
    its body is seeded on its first call in a process too; CUDA only once initialised) and
    Keras' global seed generator (see below). Their states are restored afterwards, also when
    the block raises.

    Python's module-level ``random`` functions (``random.random``, ``random.randint``, ...
    looked up on the module, as Keras does) draw, in the block's thread, from a generator of
    its own (:class:`_ThreadRandom`), so that no other thread (Dask's event loop, another fit's
    block) shifts them and the fit shifts no other thread's draws. Python's shared instance is
    neither seeded nor restored: a function bound before the block began (``from random import
    random`` at a module's import) draws from it, unseeded, and such draws are not
    reproducible. NumPy's and torch's global generators are shared by all threads: blocks
    running at once in several threads restore the states of before the first one once the
    last one ends, and their draws mix (threads sharing these generators cannot be
    reproducible).

    Keras draws the seed of an unseeded initializer, and the first state of its global
    ``SeedGenerator`` (``keras.random`` calls without ``seed``: dropout, noise), from Python's
    ``random``; the global generator is made once per process and thread and then advances,
    so a second fit in a process would continue from the first one's draws. The block removes
    it (Keras makes a new one from the seeded ``random`` on first use) and puts the caller's
    back afterwards (:func:`varimp.adapters.seeding.swap_keras_seed_generator`, the
    adapters' side: this module imports no framework); Keras need not be imported for this.
    """
    return _global_seed(int(seed) % 2**32)


@contextlib.contextmanager
def _global_seed(seed: int) -> Iterator[None]:
    torch = _torch()
    with _GlobalStates.lock:
        if _GlobalStates.depth == 0:
            _GlobalStates.saved = _global_states(torch)
            _ThreadRandom.install()
        _GlobalStates.depth += 1
        np.random.seed(seed)  # noqa: NPY002 - the legacy global generator is what is seeded
        if torch is not None:
            torch.random.default_generator.manual_seed(seed)
            if torch.cuda.is_initialized():
                torch.cuda.manual_seed_all(seed)
    own_random = getattr(_ThreadRandom.local, "generator", None)
    _ThreadRandom.local.generator = random.Random(seed)
    keras_generator = swap_keras_seed_generator(None)
    try:
        yield
    finally:
        # Keras perhaps imported by the fit: its generator made in the block goes too
        swap_keras_seed_generator(keras_generator)
        _ThreadRandom.local.generator = own_random
        with _GlobalStates.lock:
            _GlobalStates.depth -= 1
            if _GlobalStates.depth == 0:
                _ThreadRandom.uninstall()
                _restore(_GlobalStates.saved, torch)
                _GlobalStates.saved = None


#: Modules imported (when installed) before a :func:`global_seed` block seeds anything: torch,
#: whose generator the block seeds, and ``rich.style``, which draws from Python's ``random``
#: when first imported (``count(getrandbits(24))``) and which Keras imports: without it, a fit
#: that imports Keras in its body would draw other initial weights on its first call in a
#: process than on later ones.
_IMPORTED_FIRST = ("torch", "rich.style")


@functools.cache
def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a parent package missing
        return False


def _torch() -> Any:
    """torch (None when it is not installed), after importing :data:`_IMPORTED_FIRST`.

    Imported through :func:`importlib.import_module` even when already in ``sys.modules``:
    while another thread imports a module, ``sys.modules`` holds it half initialised, and
    ``import_module`` waits on that import's lock until it is complete."""
    modules = {name: importlib.import_module(name) for name in _IMPORTED_FIRST
               if _installed(name)}
    return modules.get("torch")


def _global_states(torch: Any) -> tuple:
    torch_state = cuda = None
    if torch is not None:
        torch_state = torch.get_rng_state()
        cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    return np.random.get_state(), torch_state, cuda  # noqa: NPY002


def _restore(states: tuple, torch: Any) -> None:
    numpy_state, torch_state, cuda = states
    np.random.set_state(numpy_state)  # noqa: NPY002
    if torch is not None and torch_state is not None:
        torch.set_rng_state(torch_state)
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


@contextlib.contextmanager
def thread_limits(threads: int | None, lower_only: bool = False) -> Iterator[None]:
    """Torch intra-op threads and BLAS/OpenMP pools limited to ``threads`` (None: untouched);
    restored afterwards. Torch is limited only when the worker has imported it.

    ``lower_only``: never raise a count above its current setting (each pool gets the lower
    of the two), for limits set in the caller's process, where a lower count is the user's
    own choice (``torch.set_num_threads(1)``). A worker process sets ``threads`` as it is: it
    starts with ``OMP_NUM_THREADS`` small, and its share may be more."""
    if threads is None:
        yield
        return
    from threadpoolctl import ThreadpoolController, threadpool_limits

    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(min(threads, previous) if lower_only else threads)
    try:
        if not lower_only:
            with threadpool_limits(limits=threads):
                yield
            return
        pools = [(pool, pool.num_threads) for pool in ThreadpoolController().lib_controllers]
        try:
            for pool, count in pools:
                if count > threads:
                    pool.set_num_threads(threads)
            yield
        finally:
            for pool, count in pools:
                if count > threads:
                    pool.set_num_threads(count)
    finally:
        if torch is not None:
            torch.set_num_threads(previous)


def callers_threads() -> int | None:
    """The lowest thread count set in the calling thread for torch (when imported) and its
    OpenMP pools, or None without either: fits run in threads of this process never get more
    (a user's ``torch.set_num_threads(1)`` stays 1). Torch's intra-op count is its OpenMP
    pool's, which OpenMP keeps per thread: a fit's thread sets it anew
    (:func:`openmp_limit`)."""
    from threadpoolctl import threadpool_info

    torch = sys.modules.get("torch")
    counts = [int(pool["num_threads"]) for pool in threadpool_info()
              if pool.get("user_api") == "openmp"]
    if torch is not None:
        counts.append(torch.get_num_threads())
    return min(counts) if counts else None


@contextlib.contextmanager
def openmp_limit(threads: int | None) -> Iterator[None]:
    """This thread's OpenMP pools limited to ``threads`` (None: untouched), restored
    afterwards. OpenMP keeps its thread count per thread (``omp_set_num_threads`` sets the
    calling thread's), so a fit running in a worker thread of the caller's process needs it set
    in its own thread; the process-wide limits (BLAS, torch) the caller set once around the
    batch (:func:`thread_limits`), since fits in concurrent threads that set and restored them
    would undo each other's."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="openmp"):
        yield


def _local_threads(threads: int | dict[str, int] | None) -> int | None:
    """This worker's thread share: an int as given, or on Dask the host's cores divided by the
    worker threads on the same host."""
    if not isinstance(threads, dict):
        return threads
    from distributed import get_worker

    try:
        host = host_of(get_worker().address)
    except ValueError:  # not on a Dask worker
        return None
    return max(1, (os.cpu_count() or 1) // threads.get(host, 1))


def host_of(address: str) -> str:
    """The host of a Dask worker's address: ``tcp://10.0.0.5:40123`` -> ``10.0.0.5``; an
    in-process worker's ``inproc://10.0.0.5/4242/7`` (address, process id, counter) ->
    ``10.0.0.5`` too, so that the workers of one process count on one host."""
    protocol, _, location = address.rpartition("://")
    if protocol == "inproc":
        return location.split("/", 1)[0]
    return location.rsplit(":", 1)[0]
