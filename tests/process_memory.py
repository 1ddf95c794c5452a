"""The peak memory of a process, for tests that run work in other processes (dask workers): a module of its
own so that a worker can import it (a test module is not importable by name from another process)."""

import resource


def peak_memory(dask_worker=None) -> int:
    """The peak resident memory of a worker process, in bytes: Linux's ``VmHWM`` of the process's own
    memory (``ru_maxrss`` survives ``execve``, so a spawned worker would report the peak of the test
    process that started it)."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) * 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
