"""The suite's table on standard output and its plot of per-token cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.harness import CALLBACK_PROVIDERS


def print_table(results: dict[str, Any]) -> None:
    """Print every part's key figures, then every target's verdict."""
    env = results.get("environment", {})
    print(
        f"\nai-assistant benchmarks: {env.get('date')}, {env.get('commit')}, "
        f"Python {env.get('python')}, {env.get('cpus')} CPUs"
        + (" (quick run)" if results.get("quick") else "")
    )
    for name, section in (
        ("streaming", _streaming),
        ("stall", _stall),
        ("startup", _startup),
        ("soak", _soak),
        ("embedded", _embedded),
    ):
        part = results.get(name)
        if part is None:
            continue
        if "failed" in part:
            print(f"\n{name}: FAILED ({part['failed']})")
            continue
        section(part)
    _targets(results)


def _row(*cells: object, widths: tuple[int, ...]) -> str:
    first, *rest = cells
    text = str(first).ljust(widths[0])
    for cell, width in zip(rest, widths[1:], strict=True):
        text += str(cell).rjust(width)
    return "  " + text


def _streaming(part: dict[str, Any]) -> None:
    tokens = part["tokens_per_answer"]
    print(
        f"\n1-2. Streaming {tokens:,}-token answers, scripted model: CPU us per "
        f"token (wall), median of {part['rounds']} rounds"
    )
    widths = (46, 10, 10)
    print(_row("variant", "CPU", "wall", widths=widths))
    for name, figures in part["variants"].items():
        cpu, wall = figures["cpu_us_per_token"], figures["wall_us_per_token"]
        print(_row(name, f"{cpu:.2f}", f"{wall:.2f}", widths=widths))

    dispatch = part["dispatch"]
    print("\n  1. dispatch overhead: assistant / handler attached directly (CPU)")
    widths = (14, 10, 12, 12)
    print(_row("provider", "ratio", "proposed", "guard us", widths=widths))
    for name in CALLBACK_PROVIDERS:
        found = dispatch[name]
        print(
            _row(
                name,
                f"{found['ratio']['cpu']:.3f}",
                f"{found['proposed_ratio']['cpu']:.3f}",
                f"{found['guard_us']['cpu_us']:.2f}",
                widths=widths,
            )
        )
    sdk = dispatch["langfuse"].get("sdk_handler_ratio")
    if sdk:
        print(
            "  assistant + langfuse / the same run with langfuse.langchain."
            f"CallbackHandler attached: {sdk['cpu']:.3f} (CPU)"
        )
    own = dispatch["assistant_own_us"]["cpu_us"]
    proposed = dispatch["proposed_assistant_own_us"]["cpu_us"]
    print(
        f"  the assistant itself adds {own:.2f} us per token to plain LangChain "
        f"({proposed:.2f} us proposed)"
    )

    costs = part["added_per_token"]
    print("\n  2. added CPU us per streamed token, by provider")
    widths = (14, 10, 12, 12, 14)
    print(
        _row("provider", "direct", "assistant", "proposed", "+log. fix", widths=widths)
    )
    for name in (*CALLBACK_PROVIDERS, "all"):
        found = costs[name]
        fixed = found.get("proposed_assistant_and_logging")
        print(
            _row(
                name,
                _us(found.get("direct")),
                _us(found["assistant"]),
                _us(found["proposed_assistant"]),
                _us(fixed),
                widths=widths,
            )
        )
    layers = part.get("components_us_per_chunk", {})
    if layers:
        print("\n  CPU us per chunk of each layer, timed alone (best of 5)")
        for name, value in layers.items():
            print(_row(name, f"{value:.2f}", widths=(46, 10)))
    short = part["short_answers"]
    print(
        f"  {short['tokens_per_answer']}-token answers: all providers add "
        f"{short['all_providers_add_per_run_us']['cpu'] / 1000:.2f} ms CPU per run "
        f"(assistant alone {short['per_run_us']['assistant']['cpu'] / 1000:.2f} ms)"
    )


def _us(found: dict[str, float] | None) -> str:
    return "-" if found is None else f"{found['cpu_us']:.2f}"


def _stall(part: dict[str, Any]) -> None:
    api = part["api"]
    print(
        f"\n3. Backend stalled {part['stall_seconds']:g} s per request: paced "
        "model, API, median time to first token and total (ms)"
    )
    widths = (26, 10, 10)
    print(_row("variant", "TTFT", "total", widths=widths))
    for name, found in api["variants"].items():
        print(
            _row(
                name,
                f"{found['ttft_ms']:.1f}",
                f"{found['total_ms']:.1f}",
                widths=widths,
            )
        )
    for base in ("no_provider", "healthy_sink"):
        ratios = api[f"ratios_to_{base}"]
        print(
            f"  stalled / {base.replace('_', ' ')}: time to first token "
            f"{ratios['ttft']:.3f}, total {ratios['total']:.3f}"
        )
    closed = ", ".join(f"{n} {s:.2f} s" for n, s in api["close_seconds"].items())
    print(f"  close(): {closed}")
    print(
        "  stalled: from close() to the end of the process "
        f"{api['close_to_exit_seconds']:.2f} s"
    )
    print("  ai-assistant chat (seconds from start): first output, answer end, exit")
    widths = (26, 10, 10, 10, 12)
    print(_row("variant", "first", "end", "exit", "after end", widths=widths))
    for name, found in part["cli"]["variants"].items():
        print(
            _row(
                name,
                f"{found['first_output']:.2f}",
                f"{found['answer_end']:.2f}",
                f"{found['exit']:.2f}",
                f"{found['exit_after_answer']:.2f}",
                widths=widths,
            )
        )


def _startup(part: dict[str, Any]) -> None:
    print(f"\n4. Start-up, wall seconds, median of {part['rounds']} rounds")
    widths = (30, 10, 12)
    print(_row("command", "seconds", "x import", widths=widths))
    for name, seconds in part["median_seconds"].items():
        ratio = part["ratios_to_import"][name]
        print(_row(name, f"{seconds:.3f}", f"{ratio:.2f}", widths=widths))
    for name, found in part["witnesses"].items():
        seen = ", ".join(found["importtime"]["forbidden"]) or "none"
        hook = found.get("import_hook")
        print(
            f"  {name}: provider modules or dependencies imported: "
            f"{seen} (-X importtime)"
            + (
                f", {', '.join(hook['forbidden']) or 'none'} (import hook)"
                if hook
                else ""
            )
        )
    child = part.get("probe_child")
    if child:
        print(
            f"  the provider check's child process: {child['wall_seconds']:.2f} s, "
            f"imports {', '.join(child['forbidden']) or 'nothing of a provider'}"
        )


def _soak(part: dict[str, Any]) -> None:
    start, end = part["readings"][0], part["readings"][-1]
    print(
        f"\n5. {part['runs']:,} runs after {part['warmup_runs']:,} warm-up runs, "
        f"{part['cancelled_runs']:,} cancelled, every provider active"
    )
    print(
        f"  RSS {start['rss_mb']:.1f} -> {end['rss_mb']:.1f} MB "
        f"(growth {part['rss_growth_mb']:+.2f} MB); threads "
        f"{part['threads_after_warmup']} -> {part['threads_at_end']}; "
        f"{part['runs_per_second']:.0f} runs/s"
    )


def _embedded(part: dict[str, Any]) -> None:
    runs = len(next(iter(part["variants"].values()))["runs"])
    print(
        f"\n6. Embedded model {part['model']}, {part['max_tokens']} tokens per "
        f"answer: median and best of {runs} runs"
    )
    widths = (18, 10, 12, 10, 12, 12)
    print(
        _row(
            "variant",
            "TTFT ms",
            "tokens/s",
            "total s",
            "best TTFT",
            "best tok/s",
            widths=widths,
        )
    )
    for name, found in part["variants"].items():
        print(
            _row(
                name,
                f"{found['ttft_ms']:.0f}",
                f"{found['tokens_per_second']:.1f}",
                f"{found['total_s']:.2f}",
                f"{found['best_ttft_ms']:.0f}",
                f"{found['best_tokens_per_second']:.1f}",
                widths=widths,
            )
        )


def _targets(results: dict[str, Any]) -> None:
    verdicts = [
        verdict
        for name in ("streaming", "stall", "startup", "soak")
        for verdict in results.get(name, {}).get("targets", [])
    ]
    if not verdicts:
        return
    print("\nTargets")
    for verdict in sorted(verdicts, key=lambda v: v["item"]):
        mark = "met   " if verdict["met"] else "MISSED"
        print(
            f"  {mark} {verdict['item']}. {verdict['what']}: {verdict['value']} "
            f"(target {verdict['target']})"
        )


def plot(results: dict[str, Any], path: Path) -> None:
    """Draw the per-token cost of each provider, attached three ways."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = results["streaming"]
    costs = part["added_per_token"]
    groups = [*CALLBACK_PROVIDERS, "all"]
    ways = [
        ("direct", "handler attached directly to the LangChain run", "#9e9e9e"),
        ("assistant", "through the assistant, as it is", "#d95f02"),
        (
            "proposed_assistant",
            "through the assistant with the proposed core",
            "#7570b3",
        ),
        (
            "proposed_assistant_and_logging",
            "... and the proposed logging provider",
            "#1b9e77",
        ),
    ]
    figure, axes = plt.subplots(figsize=(9, 5.6), dpi=120)
    height = 0.8 / len(ways)
    for offset, (key, label, colour) in enumerate(ways):
        shown = [
            (index - 0.4 + height * (offset + 0.5), costs[group][key]["cpu_us"])
            for index, group in enumerate(groups)
            if key in costs[group]
        ]
        bars = axes.barh(
            [position for position, _ in shown],
            [value for _, value in shown],
            height=height,
            color=colour,
            label=label,
        )
        axes.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
    axes.axvline(10, color="#444444", linestyle="--", linewidth=1)
    axes.annotate(
        "target for all providers: 10 µs",
        xy=(10, -0.45),
        xytext=(4, 0),
        textcoords="offset points",
        fontsize=8,
        va="top",
    )
    axes.set_yticks(range(len(groups)), groups)
    axes.invert_yaxis()
    plain = part["variants"]["langchain"]["cpu_us_per_token"]
    axes.set_xlabel(
        "CPU time added per streamed token (µs); plain LangChain streaming "
        f"costs {plain:.1f} µs"
    )
    axes.set_title(
        f"Per-token cost by provider: {part['tokens_per_answer']:,}-token answers, "
        f"median of {part['rounds']} rounds",
        fontsize=11,
    )
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    axes.set_xlim(left=0, right=max(axes.get_xlim()[1], 11))
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
