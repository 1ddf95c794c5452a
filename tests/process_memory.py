"""Peak memory, for the tests that bound it: of a piece of work in this process (tracemalloc, which sees numpy's
allocations), and of a whole process (for work in other processes, such as dask workers: a module of its own so
that a worker can import it; a test module is not importable by name from another process)."""

import resource
import tracemalloc


def peak_during(work):
    """``(result, peak bytes allocated while running work())``."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = work()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return result, peak



def peak_memory(dask_worker=None) -> int:
    """The peak resident memory of a worker process, in bytes: Linux's ``VmHWM`` of the process's own
    memory (``ru_maxrss`` survives ``execve``, so a spawned worker would report the peak of the test
    process that started it)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) * 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
