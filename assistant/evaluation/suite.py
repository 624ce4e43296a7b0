"""The realistic suite (``assistant eval --suite realistic``): trust measured where nobody tuned.

Two corpora, built once by the calibration workspace (:mod:`assistant.evaluation.calibration`) and
reused: the ONPE pages alone (the product as shipped) and a mixed corpus of the ONPE pages with
~760 PIAF paragraphs (~380 Wikipedia articles) as distractors. The questions are only those held
out from fitting the answerability model:

- ``answerable``: PIAF questions whose paragraph is indexed (French, and English when translations
  were made by ``assistant calibrate``);
- ``near-fact``: PIAF questions whose paragraph was left out of an indexed article (the subject is
  in the documents, the fact is not);
- ``near-domain``: PIAF questions whose article is not indexed (the same kind of question, its
  source left out);
- ``out-of-domain``: PIAF questions asked of the ONPE pages alone;
- ``onpe`` / ``onpe-unanswerable``: the ONPE set (``eval/questions.jsonl``), in both corpora.

The tutorial pipeline runs in the same pass; it can only abstain on its best cosine, so it is given
the threshold that suits it best on this very suite (which flatters it).

Example (``suite_items`` picks the held-out questions):
    >>> KINDS
    ('answerable', 'near-fact', 'near-domain', 'out-of-domain', 'onpe', 'onpe-unanswerable')
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from assistant.answering.answerability import clearly_answerable, min_confidence
from assistant.config import Settings
from assistant.evaluation.calibration import Design, expected_calibration_error, workspace
from assistant.evaluation.items import Item, ItemResult, load_items
from assistant.evaluation.metrics import as_records, summarize
from assistant.evaluation.report import table, write_report
from assistant.evaluation.runner import Runner

KINDS = ("answerable", "near-fact", "near-domain", "out-of-domain", "onpe", "onpe-unanswerable")
# Questions per PIAF kind and language (the ONPE set is always whole).
DEFAULT_PER_KIND = 200


def _tagged(item: Item, text: str, kind: str, language: str, corpus: str) -> Item:
    return Item(f"{item.id}-{language}-{corpus}", text, list(item.history), item.reference_answer,
                item.facts if kind in ("answerable", "onpe") else [],
                item.evidence if kind in ("answerable", "onpe") else [],
                {"lang": language, "kind": kind, "corpus": corpus})  # fmt: skip


def suite_items(root: Path, piaf: list[Item], onpe: list[Item], per_kind: int, seed: int) -> dict[str, list[Item]]:
    """The held-out questions of the suite, by corpus (``mixed`` / ``onpe``)."""
    design = Design.of(piaf)
    rng = random.Random(seed)
    translations = root / "english.jsonl"
    english = {}
    if translations.is_file():
        lines = translations.read_text(encoding="utf-8").splitlines()
        english = {r["id"]: r["english"] for r in map(json.loads, lines)}
    held_out = [i for i in piaf if design.split(i) == "test"]
    mixed: list[Item] = []
    outside: list[Item] = []
    for kind in ("answerable", "near-fact", "near-domain"):
        group = [i for i in held_out if design.kind(i, "mixed") == kind]
        pool = [i for i in group if i.id in english]
        # A sample smaller than the translated questions is drawn with the seed too (it was always their first ones).
        translated = pool if len(pool) <= per_kind else rng.sample(pool, per_kind)
        # The translated questions are asked in French too (twins), the others drawn at random.
        rest = [i for i in group if i.id not in english]
        for item in translated + rng.sample(rest, min(per_kind - len(translated), len(rest))):
            mixed.append(_tagged(item, item.question, kind, "fr", "mixed"))
            outside.append(_tagged(item, item.question, "out-of-domain", "fr", "onpe"))
        for item in translated:
            mixed.append(_tagged(item, english[item.id], kind, "en", "mixed"))
            outside.append(_tagged(item, english[item.id], "out-of-domain", "en", "onpe"))
    by_corpus = {"mixed": mixed, "onpe": rng.sample(outside, min(2 * per_kind, len(outside)))}
    for corpus, items in by_corpus.items():
        for item in onpe:
            kind = "onpe" if item.answerable else "onpe-unanswerable"
            items.append(_tagged(item, item.question, kind, item.tags.get("lang", "fr"), corpus))
    return by_corpus


def _share(values: list[bool]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def trust(results: list[ItemResult], threshold: float | None = None) -> dict[str, Any]:
    """Abstention where it is due and where it is not, answers' facts, and calibration, by kind of question.

    With ``threshold``, the baseline's cosine decides instead of our answers (for the baseline's row).
    """

    def abstained(r: ItemResult) -> bool:
        return r.abstained if threshold is None else (r.baseline_score or 0.0) < threshold

    def cautioned(r: ItemResult) -> bool:
        return threshold is None and (bool(r.missing) or not clearly_answerable(r.confidence))

    unanswerable = [r for r in results if not r.answerable]
    answerable = [r for r in results if r.answerable]
    out: dict[str, Any] = {
        "abstention": _share([abstained(r) for r in unanswerable]),
        # Abstained, or said first which of the question's words the documents never use.
        "abstention_or_warning": _share([abstained(r) or bool(r.missing and threshold is None) for r in unanswerable]),
        "false_abstention": _share([abstained(r) for r in answerable]),
        # Answered, but starting with "the documents do not mention …" although they answer.
        "false_warning": _share([not abstained(r) and bool(r.missing and threshold is None) for r in answerable]),
        # Abstained, or said first that the documents do not mention a word or may not answer (confidence < 0.5).
        "abstention_or_caution": _share([abstained(r) or cautioned(r) for r in unanswerable]),
        "false_caution": _share([not abstained(r) and cautioned(r) for r in answerable]),
        "by_kind": {
            kind: {"n": len(group), "abstained": _share([abstained(r) for r in group]),
                   "fact_recall": _share([r.fact_recall >= 0.5 for r in group]) if group[0].answerable else None}
            for kind in KINDS if (group := [r for r in results if r.kind == kind])
        },
    }  # fmt: skip
    if threshold is None:
        out["twins"] = twins(results)
        confidence = np.asarray([r.confidence for r in results])
        out["ece"] = round(expected_calibration_error(confidence, np.asarray([r.answerable for r in results])), 4)
    return out


def twins(results: list[ItemResult]) -> dict[str, Any]:
    """Answerable questions asked in French and in English (the same PIAF question, translated): how often
    each finds the fact, and how often the English one does when its French twin does."""
    facts = {(r.id.rsplit("-", 2)[0], r.corpus, r.lang): r.fact_recall >= 0.5 for r in results if r.answerable}
    pairs = [
        (facts[(i, c, "fr")], facts[(i, c, "en")]) for i, c, lang in facts if lang == "fr" and (i, c, "en") in facts
    ]
    return {
        "n": len(pairs),
        "fr": _share([fr for fr, _ in pairs]),
        "en": _share([en for _, en in pairs]),
        "en_when_fr": _share([en for fr, en in pairs if fr]),
    }


def best_baseline_threshold(results: list[ItemResult]) -> float:
    """The cosine threshold that best separates answerable from unanswerable for the baseline (balanced accuracy)."""
    candidates = sorted({round(r.baseline_score or 0.0, 3) for r in results})

    def balanced(t: float) -> float:
        row = trust(results, t)
        return (row["abstention"] or 0.0) + 1.0 - (row["false_abstention"] or 0.0)

    return max(candidates, key=balanced) if candidates else 0.0


def matched_baseline_threshold(results: list[ItemResult], false_abstention: float) -> float:
    """The baseline's highest cosine threshold refusing no more answerable questions than ``false_abstention``."""
    scores = sorted(r.baseline_score or 0.0 for r in results if r.answerable)
    return scores[int(false_abstention * len(scores))] if scores else 0.0


def run_suite(
    settings: Settings, dataset: Path, question_set: Path, *, per_kind: int = DEFAULT_PER_KIND, seed: int = 0,
    mode: str = "extractive", baseline: bool = True, out: Path | None = None, progress: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Run the realistic suite; the figures by corpus and overall, ours and (with ``baseline``) the tutorial's."""
    started = time.perf_counter()
    root, corpora, piaf = workspace(settings, dataset, ("mixed", "onpe"))
    results: list[ItemResult] = []
    for corpus, items in suite_items(root, piaf, load_items(question_set), per_kind, seed).items():
        runner = Runner(corpora[corpus], mode, baseline)
        results += [runner.run_item(i) for i in tqdm(items, desc=f"Suite ({corpus})", unit="q", disable=not progress)]
    summary: dict[str, Any] = summarize(results, baseline) | {
        "suite": "realistic", "mode": mode, "min_confidence": min_confidence(settings),
        "trust": {"all": trust(results)} | {c: trust([r for r in results if r.corpus == c]) for c in corpora},
    }  # fmt: skip
    if baseline:
        threshold = best_baseline_threshold(results)
        summary["trust"]["baseline"] = trust(results, threshold) | {"threshold": threshold}
        # The same, refusing as few answerable questions as ours do: what its abstention costs at our level.
        matched = matched_baseline_threshold(results, summary["trust"]["all"]["false_abstention"] or 0.0)
        summary["trust"]["baseline_matched"] = trust(results, matched) | {"threshold": matched}
    summary["seconds"] = round(time.perf_counter() - started, 1)
    if out is not None:
        directory = out / time.strftime("%Y-%m-%dT%H-%M-%S")
        write_report(directory, summary, as_records(results), None, f"Realistic suite ({mode})")
        summary["report"] = str(directory)
    if progress:
        print(table(summary), file=sys.stderr)
        print(trust_table(summary), file=sys.stderr)
    return summary


def trust_table(summary: dict[str, Any]) -> str:
    """Abstention and answers by kind of question, ours and the baseline's, as Markdown."""
    header = ("kind", "n", "abstained (ours)", "facts found (ours)", "baseline, best threshold",
              "baseline, our false abstention")  # fmt: skip
    rows = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    none: dict[str, Any] = {"by_kind": {}}
    ours = summary["trust"]["all"]
    best, matched = summary["trust"].get("baseline", none), summary["trust"].get("baseline_matched", none)
    for kind, row in ours["by_kind"].items():
        rows.append(f"| {kind} | {row['n']} | {row['abstained']} | {row['fact_recall'] or '—'} | "
                    f"{best['by_kind'].get(kind, {}).get('abstained', '—')} | "
                    f"{matched['by_kind'].get(kind, {}).get('abstained', '—')} |")  # fmt: skip
    for label, key in (("**unanswerable, all: abstained**", "abstention"),
                       ("**answerable, all: false abstention**", "false_abstention")):  # fmt: skip
        rows.append(f"| {label} | | {ours[key]} | | {best.get(key, '—')} | {matched.get(key, '—')} |")
    rows.append(f"| unanswerable: abstained or named the missing words | | {ours['abstention_or_warning']} | | | |")
    rows.append(
        f"| unanswerable: abstained, named the missing words or said uncertain | | "
        f"{ours['abstention_or_caution']} | | | |"
    )
    rows.append(f"| answerable: named a word wrongly or said uncertain | | {ours['false_caution']} | | | |")
    rows.append(f"| ECE of the confidence | | {ours['ece']} | | | |")
    pair = ours["twins"]
    if pair["n"]:
        rows.append(f"| answerable twins (n={pair['n']}): facts found in French / English / English when French did "
                    f"| | | {pair['fr']} / {pair['en']} / {pair['en_when_fr']} | | |")  # fmt: skip
    return "\n".join(rows)
