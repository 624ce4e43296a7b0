"""Evaluation reports: a terminal table, ``report.md``, ``metrics.json``, ``items.jsonl`` and a PNG plot.

Example:
    >>> summary = {"retrieval": {"hit@1": 0.7}, "baseline": {"retrieval": {"hit@1": 0.5}}, "answer": {"crag": 0.5},
    ...            "citations": {}, "latency_ms": {"answer": {"p50": 3.0, "p95": 9.0}}}
    >>> print(table(summary))
    | metric | ours | baseline | ratio |
    | --- | --- | --- | --- |
    | hit@1 | 0.700 | 0.500 | 1.40× |
    | hit@3 | — | — | — |
    | hit@5 | — | — | — |
    | hit@10 | — | — | — |
    | mrr@10 | — | — | — |
    | ndcg@10 | — | — | — |
    | answer: crag | 0.500 | | |
    | latency answer (ms) | p50 3.0 / p95 9.0 | | |
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RETRIEVAL_KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "—" if value is None else str(value)


def table(summary: dict[str, Any]) -> str:
    """The headline figures, ours vs baseline with the ratio, as Markdown table lines."""
    lines = ["| metric | ours | baseline | ratio |", "| --- | --- | --- | --- |"]
    for level, label in (("retrieval", ""), ("retrieval_documents", "documents: ")):
        base = summary.get("baseline", {}).get(level, {})
        for key in RETRIEVAL_KEYS:
            ours, theirs = summary.get(level, {}).get(key), base.get(key)
            if ours is None and label:
                continue
            ratio = f"{ours / theirs:.2f}×" if ours is not None and theirs else "—"
            lines.append(f"| {label}{key} | {_fmt(ours)} | {_fmt(theirs)} | {ratio} |")
    for group in ("answer", "citations"):
        for key, value in summary[group].items():
            if not key.endswith("_ci95"):
                lines.append(f"| {group}: {key} | {_fmt(value)} | | |")
    for stage, figures in summary["latency_ms"].items():
        lines.append(f"| latency {stage} (ms) | p50 {figures['p50']} / p95 {figures['p95']} | | |")
    return "\n".join(lines)


def markdown(summary: dict[str, Any], sweep: list[dict[str, float]] | None, title: str) -> str:
    parts = [f"# {title}", "", f"{summary['n']} questions.", "", table(summary), "", "## Slices", "",
             "| slice | n | hit@5 | fact recall | CRAG |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, s in summary["slices"].items():
        parts.append(f"| {name} | {s['n']} | {_fmt(s['hit@5'])} | {_fmt(s['fact_recall'])} | {_fmt(s['crag'])} |")
    if sweep:
        header = "| threshold | abstention recall | false abstention | CRAG |"
        parts += ["", "## Abstention threshold sweep", "", header, "| --- | --- | --- | --- |"]
        parts += [f"| {r['threshold']} | {_fmt(r['abstention_recall'])} | {_fmt(r['false_abstention'])} | "
                  f"{_fmt(r['crag'])} |" for r in sweep]  # fmt: skip
    return "\n".join(parts) + "\n"


def plot(summary: dict[str, Any], records: list[dict[str, Any]], path: Path) -> None:
    """Hit@k curves (ours vs baseline), the answer latency distribution, and the reliability diagram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right, last) = plt.subplots(1, 3, figsize=(15, 4))
    _reliability(last, records)
    ks = [1, 3, 5, 10]
    left.plot(ks, [summary["retrieval"].get(f"hit@{k}", 0) for k in ks], marker="o", label="ours (hybrid)")
    if "baseline" in summary:
        left.plot(ks, [summary["baseline"]["retrieval"][f"hit@{k}"] for k in ks], marker="s", label="baseline")
    left.set(xlabel="k", ylabel="Hit@k", ylim=(0, 1.02), title="Retrieval")
    left.legend()
    right.hist([r["answer_ms"] for r in records], bins=20)
    right.set(xlabel="answer latency (ms)", ylabel="questions", title="Latency")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _reliability(axes: Any, records: list[dict[str, Any]], bins: int = 10) -> None:
    """Confidence against how often the documents really held the answer, per confidence bin."""
    import numpy as np

    confidence = np.asarray([r["confidence"] for r in records], dtype=float)
    outcome = np.asarray([r["answerable"] for r in records], dtype=float)
    which = np.clip((confidence * bins).astype(int), 0, bins - 1)
    shown = [b for b in range(bins) if (which == b).any()]
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect calibration")
    axes.plot([confidence[which == b].mean() for b in shown], [outcome[which == b].mean() for b in shown],
              marker="o", label="ours")  # fmt: skip
    for b in shown:
        axes.annotate(str(int((which == b).sum())), (confidence[which == b].mean(), outcome[which == b].mean()),
                      fontsize=7, xytext=(3, -9), textcoords="offset points")  # fmt: skip
    axes.set(xlabel="confidence", ylabel="share answerable", xlim=(0, 1), ylim=(0, 1.02), title="Reliability")
    axes.legend(loc="upper left")


def write_report(
    directory: Path, summary: dict[str, Any], records: list[dict[str, Any]], sweep: list[dict[str, float]] | None,
    title: str = "Evaluation",
) -> None:  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metrics.json").write_text(json.dumps(summary | {"sweep": sweep}, indent=2), encoding="utf-8")
    (directory / "report.md").write_text(markdown(summary, sweep, title), encoding="utf-8")
    with (directory / "items.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    plot(summary, records, directory / "plot.png")
