"""kronbox benchmarks: interleaved timings of kronbox against numpy baselines and peer libraries.

Run ``python -m bench [suite ...] [--quick] [--plot]``; see bench/README.md.
"""
