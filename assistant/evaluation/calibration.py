"""``assistant calibrate``: fit the answerability model on data no user corpus is part of, and measure it.

PIAF's articles are split four ways (fixed seed): half are indexed, with the two ONPE pages, into a
mixed corpus; the other half are not. Questions on indexed articles are answerable; questions on
the others are near-domain unanswerable (the same kind of question, its article left out); PIAF
questions asked of the ONPE pages alone are out-of-domain. Each half is split again into a fit part
and a held-out part, by article, so no figure is reported on the questions or articles the model
was fitted on. The fitted model is written as JSON into the package
(``assistant/answering/answerability.json``) with its held-out figures.

Example (``tmp`` a scratch directory, ``settings`` the ONPE pages' index):
    >>> folds = article_folds(8, seed=0)
    >>> sorted(folds.values())
    ['fit-in', 'fit-in', 'fit-out', 'fit-out', 'test-in', 'test-in', 'test-out', 'test-out']
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from assistant.answering.answerability import FEATURES, MODEL_FILE, Model, signals
from assistant.answering.conversation import Question
from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.evaluation.items import Item
from assistant.evaluation.squad import dataset_dir, import_squad
from assistant.indexing.sync import sync
from assistant.models.embeddings import load_embeddings

FOLDS = ("fit-in", "test-in", "fit-out", "test-out")
# Bump when the mixed corpus's make-up changes: the workspace then rebuilds it (kept paragraphs are not re-embedded).
LAYOUT = "2: indexed articles leave one paragraph out"
# Smaller corpora (PIAF articles drawn from the indexed ones, with the ONPE pages), so that answerable
# and unanswerable questions are seen against corpora of several sizes: a signal read against a
# corpus's background must mean the same whatever its size.
SMALLER = {"small": 60, "tiny": 12}
# Questions asked of the ONPE pages alone (out of domain), per split: every answer there is "not found".
OUT_OF_DOMAIN = 1500
# Questions translated to English per fold, by split (the model needs both languages; translating is slow).
ENGLISH = {"fit-in": 250, "fit-out": 250, "test-in": 125, "test-out": 125}
ECE_BINS = 10
# PIAF's questions reuse their paragraph's words; real users paraphrase, and lose more (ONPE set: 2 % here
# became 6.5 % there). The goal is at most 5 % of answerable questions refused.
MAX_FALSE_ABSTENTION = 0.02
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "answering" / MODEL_FILE


@dataclass
class Example:
    """One question asked of one corpus: its signals and whether that corpus holds the answer."""

    id: str  # the PIAF question's (its French and English versions, in either corpus, share it)
    question: str
    language: str
    kind: str  # answerable | near-fact | near-domain | out-of-domain
    split: str  # fit | test
    corpus: str  # mixed | onpe
    answerable: bool
    features: dict[str, float]


def article_folds(articles: int, seed: int = 0) -> dict[int, str]:
    """Each article's fold, a quarter each: indexed or not (``-in`` / ``-out``), fitted on or held out."""
    order = list(range(articles))
    random.Random(seed).shuffle(order)
    return {a: FOLDS[i * len(FOLDS) // articles] for i, a in enumerate(order)}


def _source(item: Item) -> str:
    return str(item.evidence[0]["source"])


def _article(item: Item) -> int:
    return int(_source(item)[:4])


@dataclass(frozen=True)
class Design:
    """Which PIAF paragraphs the mixed corpus holds, and what each question is in each corpus.

    Indexed articles (``-in``) leave one paragraph out when they have several: its questions are
    ``near-fact`` (the subject is in the documents, the fact is not, as with "Who directs ONPE?").
    """

    folds: dict[int, str]
    left_out: frozenset[str]
    # The PIAF articles each corpus holds (always with the ONPE pages); "onpe" holds none.
    corpora: dict[str, frozenset[int]]

    @classmethod
    def of(cls, items: list[Item], seed: int = 0) -> Design:
        folds = article_folds(1 + max(_article(i) for i in items), seed)
        paragraphs: dict[int, set[str]] = {}
        for item in items:
            paragraphs.setdefault(_article(item), set()).add(_source(item))
        rng = random.Random(seed)
        left_out = {
            rng.choice(sorted(names)) for article, names in sorted(paragraphs.items())
            if folds[article].endswith("-in") and len(names) > 1
        }  # fmt: skip
        indexed = sorted(a for a in paragraphs if folds[a].endswith("-in"))
        corpora = {"mixed": frozenset(indexed), "onpe": frozenset[int]()}
        corpora |= {name: frozenset(rng.sample(indexed, size)) for name, size in SMALLER.items()}
        return cls(folds, frozenset(left_out), corpora)

    def holds(self, corpus: str, paragraph: str) -> bool:
        """Whether ``corpus`` indexes the PIAF ``paragraph`` (a file name: article, then paragraph number)."""
        return int(paragraph[:4]) in self.corpora[corpus] and paragraph not in self.left_out

    def split(self, item: Item) -> str:
        return self.folds[_article(item)].split("-")[0]

    def kind(self, item: Item, corpus: str) -> str:
        if _article(item) in self.corpora[corpus]:
            return "near-fact" if _source(item) in self.left_out else "answerable"
        return "out-of-domain" if corpus == "onpe" else "near-domain"


def workspace(
    settings: Settings, dataset: Path, names: tuple[str, ...] | None = None
) -> tuple[Path, dict[str, Settings], list[Item]]:
    """Its directory, each corpus's settings (ONPE pages + PIAF articles, or the ONPE pages alone), indexed once.

    ``names`` limits the corpora built (all of :class:`Design`'s by default).
    """
    source, items = import_squad(dataset, settings.index_dir)
    items = [i for i in items if i.evidence]
    root = dataset_dir(dataset, settings.index_dir) / "calibration"
    design = Design.of(items)
    corpora = {"onpe": settings.with_(index_dir=root / "onpe-index", chroma_url=None)}
    for name in names or tuple(design.corpora):
        if name != "onpe":
            corpus = _build(root, name, settings.corpus, source, design)
            corpora[name] = settings.with_(corpus=corpus, index_dir=root / f"{name}-index", chroma_url=None)
    embeddings = load_embeddings(settings.embedder, settings.batch_size)
    for each in corpora.values():
        report = sync(each, embeddings=embeddings, progress=sys.stderr.isatty())
        print(f"{each.corpus}: {report.summary()}", file=sys.stderr)
    return root, corpora, items


def _build(root: Path, name: str, onpe: Path, source: Path, design: Design) -> Path:
    """The corpus folder ``name`` (written once per :data:`LAYOUT`): the ONPE pages and the paragraphs it holds."""
    corpus = root / f"{name}-corpus"
    layout = root / f"{name}-layout"
    if corpus.is_dir() and layout.is_file() and layout.read_text(encoding="utf-8").strip() == LAYOUT:
        return corpus
    staging = root / f"{name}-corpus.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(onpe, staging / "onpe")
    for path in sorted(source.glob("*.txt")):
        if path.name[:4].isdigit() and design.holds(name, path.name):
            shutil.copyfile(path, staging / path.name)
    shutil.rmtree(corpus, ignore_errors=True)
    staging.rename(corpus)
    layout.write_text(LAYOUT + "\n", encoding="utf-8")
    return corpus


def examples(engine: SearchEngine, asked: Iterable[tuple[Item, str]], corpus: str, design: Design) -> list[Example]:
    """Search each (item, question text) in ``engine`` and record the signals answerability reads."""
    out = []
    for item, text in tqdm(list(asked), desc=f"Signals ({corpus})", unit="q", disable=not sys.stderr.isatty()):
        kind = design.kind(item, corpus)
        question = Question.parse(text)
        features, _, _ = signals(engine, question.text, question.language, engine.search(question.text))
        out.append(Example(item.id, text, question.language, kind, design.split(item), corpus, kind == "answerable",
                           features))  # fmt: skip
    return out


_TRANSLATE = (
    "Translate this French question into natural English. Keep names as they are. "
    "Reply with the English question only.\n\n{question}"
)


def english(items: list[Item], settings: Settings, cache: Path) -> dict[str, str]:
    """English versions of the items' questions, written by the language model (kept in ``cache``).

    PIAF is French only; users also ask in English over French documents, where cosines run lower
    and only names match lexically. The bundled model translates well enough for that purpose.
    """
    from langchain_core.messages import HumanMessage

    from assistant.models.chat import load_chat_model

    done: dict[str, str] = {}
    if cache.is_file():
        done = {r["id"]: r["english"] for r in map(json.loads, cache.read_text(encoding="utf-8").splitlines())}
    todo = [i for i in items if i.id not in done]
    if todo:
        chat = load_chat_model(settings)
        with cache.open("a", encoding="utf-8") as handle:
            for item in tqdm(todo, desc="Translating", unit="q", disable=not sys.stderr.isatty()):
                reply = chat.invoke([HumanMessage(content=_TRANSLATE.format(question=item.question))], max_tokens=60)
                lines = str(reply.content).strip().strip('"').splitlines()
                done[item.id] = lines[0].strip() if lines else item.question
                handle.write(json.dumps({"id": item.id, "english": done[item.id]}, ensure_ascii=False) + "\n")
    return {i.id: done[i.id] for i in items}


def _matrix(rows: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray([[r.features[f] for f in FEATURES] for r in rows], dtype=np.float64)
    # A signal unknown for one search (one passage found: no gap) reads as the average, as Model.raw reads it.
    with np.errstate(invalid="ignore"):
        means = np.nan_to_num(np.nanmean(x, axis=0), nan=0.0) if np.isnan(x).any() else 0.0
    x = np.where(np.isnan(x), means, x)
    return x, np.asarray([r.answerable for r in rows])


def fit(rows: list[Example], seed: int = 0) -> dict[str, Any]:
    """Logistic regression on standardised signals; isotonic calibration on its cross-validated outputs."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.preprocessing import StandardScaler

    x, y = _matrix(rows)
    scaler = StandardScaler().fit(x)
    logistic = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    z = scaler.transform(x)
    groups = [r.id for r in rows]  # a question's examples (both languages, both corpora) stay in one fold
    raw = cross_val_predict(logistic, z, y, cv=GroupKFold(n_splits=5), groups=groups, method="predict_proba")[:, 1]
    logistic.fit(z, y)
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    return {
        "features": list(FEATURES),
        "mean": scaler.mean_.round(6).tolist(),
        "scale": scaler.scale_.round(6).tolist(),
        "coef": logistic.coef_[0].round(6).tolist(),
        "intercept": round(float(logistic.intercept_[0]), 6),
        "calibration": {
            "x": [round(float(v), 6) for v in isotonic.X_thresholds_],
            "y": [round(float(v), 6) for v in isotonic.y_thresholds_],
        },
    }


def expected_calibration_error(confidence: np.ndarray, outcome: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and observed frequency, over equal-width bins weighted by their size.

    >>> round(expected_calibration_error(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 1, 0, 1])), 3)
    0.25
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(confidence[inside].mean() - outcome[inside].mean())
    return float(gap)


def reliability(confidence: np.ndarray, outcome: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Per confidence bin: how many questions, their mean confidence, how often the documents held the answer."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return [
        {"low": round(float(edges[b]), 2), "n": int((which == b).sum()),
         "confidence": round(float(confidence[which == b].mean()), 4),
         "observed": round(float(outcome[which == b].mean()), 4)}
        for b in range(bins) if (which == b).any()
    ]  # fmt: skip


def measure(model: Model, rows: list[Example], min_confidence: float) -> dict[str, Any]:
    """Held-out figures: ECE, AUC, and abstention per kind of question at ``min_confidence``."""
    from sklearn.metrics import roc_auc_score

    confidence = np.asarray([model.probability(r.features) for r in rows])
    outcome = np.asarray([r.answerable for r in rows], dtype=float)
    abstained = confidence < min_confidence
    kinds = {
        kind: {"n": int(mask.sum()), "abstained": round(float(abstained[mask].mean()), 4)}
        for kind in sorted({r.kind for r in rows})
        if (mask := np.asarray([r.kind == kind for r in rows])).any()
    }
    return {
        "n": len(rows),
        "ece": round(expected_calibration_error(confidence, outcome), 4),
        "auc": round(float(roc_auc_score(outcome, confidence)), 4),
        "min_confidence": min_confidence,
        "by_kind": kinds,
        "reliability": reliability(confidence, outcome),
    }


def choose_threshold(model: Model, rows: list[Example], max_false_abstention: float = MAX_FALSE_ABSTENTION) -> float:
    """The highest confidence threshold that keeps false abstentions on answerable fit questions within bound."""
    answerable = sorted(model.probability(r.features) for r in rows if r.answerable)
    if not answerable:
        return 0.5
    return round(float(answerable[int(max_false_abstention * len(answerable))]), 6)


def collect(settings: Settings, dataset: Path, seed: int = 0) -> tuple[Path, list[Example]]:
    """Every question's signals: all PIAF questions (French) and a sample in English against the mixed corpus,
    a sample of both against the ONPE pages alone."""
    root, corpora, items = workspace(settings, dataset)
    design = Design.of(items, seed)
    rng = random.Random(seed)
    by_fold = {fold: [i for i in items if design.folds[_article(i)] == fold] for fold in FOLDS}
    sample = [i for f, group in by_fold.items() for i in rng.sample(group, min(ENGLISH[f], len(group)))]
    translated = english(sample, settings, root / "english.jsonl")
    en = [(i, translated[i.id]) for i in sample]
    outside = [i for split in ("fit", "test") for i in rng.sample(
        [i for i in items if design.split(i) == split], OUT_OF_DOMAIN)]  # fmt: skip
    embeddings = load_embeddings(settings.embedder, settings.batch_size)
    french = [(i, i.question) for i in items]
    asked = {"mixed": french + en, "onpe": [(i, i.question) for i in outside] + en}
    for name in SMALLER:  # its own questions, and as many asked of it from elsewhere
        inside = [q for q in french + en if design.kind(q[0], name) != "near-domain"]
        others = [q for q in french + en if design.kind(q[0], name) == "near-domain"]
        asked[name] = inside + rng.sample(others, min(len(inside), len(others)))
    rows = []
    for name, questions in asked.items():
        rows += examples(SearchEngine.open(corpora[name], embeddings), questions, name, design)
    # The signals, for whoever wants to study them (beside the workspace's indexes, never in the package).
    (root / "examples.jsonl").write_text("".join(json.dumps(asdict(r)) + "\n" for r in rows), encoding="utf-8")
    return root, rows


def calibrate(settings: Settings, dataset: Path, out: Path, seed: int = 0) -> dict[str, Any]:
    """Collect the signals, fit on the fit split, measure on the held-out one, write the model to ``out``."""
    _, rows = collect(settings, dataset, seed)
    fitted = [r for r in rows if r.split == "fit"]
    data = fit(fitted, seed)
    model = Model(data)
    data["min_confidence"] = choose_threshold(model, fitted)
    data["held_out"] = measure(model, [r for r in rows if r.split == "test"], data["min_confidence"])
    data["fitted_on"] = {"n": len(fitted), "dataset": dataset.name, "seed": seed}
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def summary(data: dict[str, Any]) -> str:
    """The held-out figures of a fitted model, for a terminal."""
    held = data["held_out"]
    lines = [
        f"fitted on {data['fitted_on']['n']} questions; held out: {held['n']}",
        f"held-out ECE {held['ece']:.3f}, AUC {held['auc']:.3f}; abstention below {held['min_confidence']}:",
    ]
    lines += [f"  {kind:<14} {v['abstained']:.3f} of {v['n']}" for kind, v in held["by_kind"].items()]
    return "\n".join(lines)
