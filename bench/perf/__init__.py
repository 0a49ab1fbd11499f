"""Benchmarks (``make perf``): tables of ratios against a baseline measured in the same run.

Nothing here is a test: timings vary with the machine, ratios much less. Run
``python -m bench.perf --help`` for the list.
"""
