"""The benchmark suite: what providers cost a run, start-up, memory, the model.

Run it with ``nox -s bench`` (see ``docs/performance.md``); each part is a
module that can also run alone, e.g. ``python -m benchmarks.streaming``.
Nothing here is part of the tests.
"""
