"""Import a SQuAD-format dataset (PIAF, FQuAD, SQuAD…) as a corpus and an evaluation set.

Each paragraph becomes a document (front-matter title: its article's title), each question an
item whose evidence is its answer text inside that paragraph. Files are written once under
``<index>/datasets/<name>-<hash>/`` and indexed there; a later run finds them and the index
unchanged, so nothing is re-embedded. The dataset itself is only read.

Example:
    >>> corpus, items = import_squad(Path("../shared/datasets/piaf/piaf-v1.1.json"), Path("index"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from assistant.evalset import Item

_READ_CHUNK = 1 << 20


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_READ_CHUNK):
            digest.update(block)
    return digest.hexdigest()[:12]


def dataset_dir(dataset: Path, index_dir: Path) -> Path:
    return index_dir / "datasets" / f"{dataset.stem}-{_digest(dataset)}"


def import_squad(dataset: Path, index_dir: Path) -> tuple[Path, list[Item]]:
    """Write the paragraphs as documents (once) and return the corpus folder and the items.

    Raises:
        ValueError: the file is not SQuAD-shaped JSON.
    """
    try:
        data = json.loads(dataset.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{dataset}: not a SQuAD-format file ({err.__class__.__name__})") from err
    corpus = dataset_dir(dataset, index_dir) / "corpus"
    fresh = not corpus.is_dir()
    corpus.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    for a, article in enumerate(data):
        title = str(article.get("title", f"article {a}")).replace("\n", " ")
        category = str(article.get("categorie") or article.get("category") or "squad")
        for p, paragraph in enumerate(article["paragraphs"]):
            name = f"{a:04d}-{p:03d}.txt"
            if fresh:
                (corpus / name).write_text(f"---\ntitle: {title}\n---\n{paragraph['context']}\n", encoding="utf-8")
            for qa in paragraph["qas"]:
                answers = [x["text"] for x in qa.get("answers", []) if x.get("text")]
                items.append(Item(
                    id=str(qa["id"]), question=str(qa["question"]), reference_answer=answers[0] if answers else "",
                    facts=[answers] if answers else [], evidence=[{"source": name, "quote": t} for t in answers[:1]],
                    tags={"lang": "fr", "kind": category},
                ))  # fmt: skip
    return corpus, items
