"""Import a SQuAD-format dataset (PIAF, FQuAD, SQuAD…) as a corpus and an evaluation set.

Each paragraph becomes a document (front-matter title: its article's title), each question an
item whose evidence is its answer text inside that paragraph. Files are written once under
``<index>/datasets/<name>-<hash>/`` and indexed there; a later run finds them and the index
unchanged, so nothing is re-embedded. The dataset itself is only read.

Example (``tmp`` a scratch directory):
    >>> import json
    >>> squad = {"data": [{"title": "Rennes", "paragraphs": [{"context": "Les Assises ont eu lieu à Rennes.",
    ...     "qas": [{"id": "q1", "question": "Où ?", "answers": [{"text": "Rennes", "answer_start": 26}]}]}]}]}
    >>> _ = (tmp / "mini.json").write_text(json.dumps(squad), encoding="utf-8")
    >>> corpus, items = import_squad(tmp / "mini.json", tmp / "index")
    >>> sorted(p.name for p in corpus.iterdir()), items[0].evidence
    (['0000-000.txt'], [{'source': '0000-000.txt', 'quote': 'Rennes'}])
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from assistant.errors import DatasetError
from assistant.evaluation.items import Item

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
        DatasetError: the file is not SQuAD-shaped JSON.
    """
    try:
        data = json.loads(dataset.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DatasetError(f"{dataset}: not a SQuAD-format file ({err.__class__.__name__})") from err
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
