"""The benchmark suites, one module each; every module here is found by ``bench.run``.

A suite module has a docstring (its first line is the suite's description) and a function
``run(settings: bench.timing.Settings) -> Iterator[bench.table.Table]`` yielding its tables.
"""
