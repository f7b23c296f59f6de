"""Profile streaming variants with pyinstrument, to see where a token's time goes.

``python -m benchmarks.profiling "assistant + langfuse" "langchain + langfuse"``
runs each named variant of :mod:`benchmarks.streaming` a few times under
pyinstrument and prints the call tree (``--html DIR`` writes HTML pages).
Run it from the repository root in the bench session's environment:
``.nox/bench/bin/python -m benchmarks.profiling ...``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks import harness, streaming


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="variant names, as in the table")
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=streaming.TOKENS)
    parser.add_argument("--html", type=Path, help="write one HTML page per variant")
    options = parser.parse_args()

    from pyinstrument import Profiler

    root = harness.isolate()
    with harness.Sink() as sink:
        setup = streaming.Setup(
            harness.write_config(root, sink), harness.answer_of(options.tokens)
        )
        try:
            found = streaming.variants(setup, turns=2)
            for name in options.variants:
                window = found[name]
                window()
                profiler = Profiler(interval=0.0002)
                profiler.start()
                for _ in range(options.windows):
                    window()
                profiler.stop()
                if options.html:
                    options.html.mkdir(parents=True, exist_ok=True)
                    page = options.html / f"{name.replace(' ', '_')}.html"
                    page.write_text(profiler.output_html(), encoding="utf-8")
                    print(f"{name}: {page}")
                else:
                    print(f"===== {name}")
                    print(profiler.output_text(unicode=True, color=False))
        finally:
            setup.close()


if __name__ == "__main__":
    main()
