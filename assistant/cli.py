"""Command line: ``assistant index`` and ``assistant ask`` (stable contract, scripts depend on it).

Exit codes: 0 ok, 2 usage error (empty question included), 1 any other error, always with a
one-line message and never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.config import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Offline assistant answering from your documents.")

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="Corpus directory [env ASSISTANT_CORPUS, default corpus/]")
]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory [env ASSISTANT_INDEX, default index/]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (machine-readable).")]


class UsageError(Exception):
    """Exit code 2."""


@app.callback()
def _global_options(
    chroma_url: Annotated[
        str | None,
        typer.Option(
            "--chroma-url", help="Use a Chroma server (`chroma run`) for the vectors [env ASSISTANT_CHROMA_URL]"
        ),
    ] = None,
) -> None:
    # Every command builds its settings from the environment: the flag is handed over that way.
    if chroma_url:
        os.environ["ASSISTANT_CHROMA_URL"] = chroma_url


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def index(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start from an empty index.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Index the corpus: only new or changed documents are embedded."""
    from assistant.index import sync
    from assistant.store import exclusive_use

    settings = Settings.from_env(corpus, index)
    with exclusive_use(settings.index, settings.chroma_url):
        report = sync(settings, rebuild=rebuild, progress=not as_json and sys.stderr.isatty())
    if as_json:
        _emit(report.as_json())
        return
    for skipped in report.skipped:
        typer.echo(f"skipped {skipped.source}: {skipped.reason}", err=True)
    typer.echo(report.summary())


def _warn_if_stale(settings: Settings, created: float) -> None:
    """Say so when corpus files changed after the index was built (mtime only: cheap)."""
    for dirpath, _, files in os.walk(settings.corpus):
        for name in files:
            try:
                changed = os.stat(os.path.join(dirpath, name)).st_mtime > created
            except OSError:
                continue
            if changed:
                typer.echo("warning: the corpus changed since the last indexing; run `assistant index`", err=True)
                return


def _print_answer(answer: Any) -> None:
    if answer.notice:
        typer.echo(f"note: {answer.notice}", err=True)
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:")
    for c in answer.citations:
        where = f"{c.title} — {c.section}" if c.section and c.section != c.title else c.title
        typer.echo(f"  [{c.n}] {where} ({c.source}, characters {c.start}-{c.end})")


def _batch(answerer: Any) -> None:
    """One JSON question per stdin line → one JSON answer per stdout line (model loaded once)."""
    from assistant.questions import QuestionError

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("expected an object")
            history = request.get("history") or []
            if not isinstance(history, list):
                raise ValueError("history must be a list of strings")
            _emit(answerer.ask(str(request.get("question", "")), [str(h) for h in history]).as_json())
        except QuestionError as err:
            _emit({"question": request.get("question"), "error": str(err)})
        except ValueError as err:
            _emit({"error": f"invalid input line: {err}"})


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or - to read JSON lines from stdin.")],
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    mode: Annotated[
        str, typer.Option("--mode", help="auto (the LLM when available, else extractive), llm or extractive.")
    ] = "auto",
    history: Annotated[list[str] | None, typer.Option("--history", help="Earlier question (repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question from the indexed documents, with citations."""
    from assistant.answer import ExtractiveAnswerer
    from assistant.generation import MODES, make_answerer
    from assistant.questions import QuestionError, clean_question
    from assistant.retrieval import SearchEngine

    settings = Settings.from_env(corpus, index)
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r} (available: {', '.join(MODES)})")
    if question != "-":
        try:
            clean_question(question, settings.max_question_chars)
        except QuestionError as err:
            raise UsageError(str(err)) from err
    engine = SearchEngine.open(settings)
    _warn_if_stale(settings, engine.snapshot.meta.created)
    answerer, notice = make_answerer(ExtractiveAnswerer(engine), mode, progress=sys.stderr.isatty())
    if notice:
        typer.echo(f"note: {notice}", err=True)
    if question == "-":
        _batch(answerer)
        return
    answer = answerer.ask(question, history or [])
    if as_json:
        _emit(answer.as_json())
    else:
        _print_answer(answer)


@app.command("eval")
def eval_(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    question_set: Annotated[Path, typer.Option("--set", help="Question set (JSONL).")] = Path("eval/questions.jsonl"),
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="A SQuAD-format file (e.g. PIAF) to evaluate on instead.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Evaluate only N items (sampled with --seed).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 0,
    mode: Annotated[str, typer.Option("--mode", help="extractive (default), llm or auto.")] = "extractive",
    baseline: Annotated[bool, typer.Option("--baseline/--no-baseline", help="Also run the tutorial baseline.")] = True,
    sweep: Annotated[bool, typer.Option("--sweep", help="Sweep the abstention threshold.")] = False,
    out: Annotated[Path, typer.Option("--out", help="Results directory.")] = Path("eval/results"),
    as_json: JsonOpt = False,
) -> None:
    """Evaluate retrieval, answers, citations and abstention on a question set, against a baseline."""
    from assistant.evaluation_cli import run_evaluation

    settings = Settings.from_env(corpus, index)
    summary = run_evaluation(
        settings,
        question_set,
        limit=limit,
        seed=seed,
        mode=mode,
        baseline=baseline,
        sweep=sweep,
        out=out,
        progress=not as_json,
        dataset=dataset,
    )
    if as_json:
        _emit(summary)


@app.command()
def bench(
    dataset: Annotated[Path, typer.Option("--dataset", help="SQuAD-format file whose paragraphs are indexed.")] = Path(
        "../shared/datasets/piaf/piaf-v1.1.json"
    ),
    paragraphs: Annotated[int, typer.Option("--paragraphs", help="Sample N paragraphs (0: all).")] = 0,
    questions: Annotated[int, typer.Option("--questions", help="Questions timed per side.")] = 200,
    scale: Annotated[int, typer.Option("--scale", help="Chunks in the scaled store (0: skip).")] = 100_000,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Also time the bundled LLM.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Measure indexing and query speed and memory, ours against the LangChain tutorial pipeline."""
    from assistant.bench import BenchOptions, run_bench, table

    options = BenchOptions(dataset=dataset, paragraphs=paragraphs, questions=questions, scale=scale, llm=llm)
    result = run_bench(Settings.from_env(), options)
    if as_json:
        _emit(result)
    else:
        typer.echo(table(result))


@app.command()
def serve(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind [env ASSISTANT_HOST].")] = "",
    port: Annotated[int, typer.Option("--port", help="Port [env ASSISTANT_PORT, default 7860].")] = 0,
    watch: Annotated[bool, typer.Option("--watch", help="Reindex when corpus files change.")] = False,
    auth: Annotated[
        str, typer.Option("--auth", help="USER:PASSWORD required to open the chat [env ASSISTANT_AUTH].")
    ] = "",
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Do not load the language model.")] = False,
) -> None:
    """Start the web chat (127.0.0.1:7860 unless told otherwise)."""
    from assistant.store import exclusive_use

    settings = Settings.from_env(corpus, index)
    with exclusive_use(settings.index, settings.chroma_url):
        _serve(settings, host, port, watch, auth, no_llm)


def _serve(settings: Settings, host: str, port: int, watch: bool, auth: str, no_llm: bool) -> None:
    from assistant.snapshot import IndexMissing, load_meta
    from assistant.web.app import build_app, launch
    from assistant.web.service import ChatService

    host = host or os.environ.get("ASSISTANT_HOST") or "127.0.0.1"
    port = port or int(os.environ.get("ASSISTANT_PORT") or 7860)
    credentials = _credentials(auth or os.environ.get("ASSISTANT_AUTH") or "")
    try:
        load_meta(settings.index)
    except IndexMissing:
        typer.echo("No index yet: indexing the corpus first.", err=True)
        typer.echo(_index_summary(settings), err=True)
    service = ChatService(settings, load_llm=not no_llm)
    if service.llm_notice:
        typer.echo(f"note: {service.llm_notice}", err=True)
    if watch:
        service.watch()
    typer.echo(f"Web chat on http://{host}:{port}/  (Ctrl+C to stop)", err=True)
    launch(build_app(service), host, port, credentials)


def _index_summary(settings: Settings) -> str:
    from assistant.index import sync

    return sync(settings, progress=sys.stderr.isatty()).summary()


def _credentials(raw: str) -> tuple[str, str] | None:
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise UsageError("--auth must be USER:PASSWORD")
    return user, password


def _known_errors() -> tuple[type[BaseException], ...]:
    from assistant.documents import CorpusError
    from assistant.embeddings import EmbedderError
    from assistant.index import IndexBusy
    from assistant.llm import LLMUnavailable
    from assistant.retrieval import EmbedderMismatch
    from assistant.snapshot import IndexBroken, IndexMissing
    from assistant.store import StoreError

    return (
        CorpusError,
        EmbedderError,
        IndexBusy,
        EmbedderMismatch,
        IndexBroken,
        IndexMissing,
        StoreError,
        LLMUnavailable,
    )


def main() -> None:
    """Entry point: run the CLI, turning every failure into a one-line message."""
    try:
        app(standalone_mode=False)
    except UsageError as err:
        _exit(str(err), 2)
    except typer.Exit as err:
        sys.exit(err.exit_code)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as err:
        _report(err)


def _report(err: Exception) -> None:
    # Typer vendors its own click: recognise its exceptions by shape rather than by class.
    if err.__class__.__name__ == "Abort":
        sys.exit(130)
    if callable(getattr(err, "show", None)) and isinstance(getattr(err, "exit_code", None), int):
        err.show()  # type: ignore[attr-defined]
        sys.exit(err.exit_code)  # type: ignore[attr-defined]
    if isinstance(err, _known_errors()):
        _exit(str(err), 1)
    if isinstance(err, PermissionError | OSError):
        _exit(f"{err.strerror or 'system error'}: {getattr(err, 'filename', '') or ''}".rstrip(": "), 1)
    if isinstance(err, ValueError):
        _exit(str(err), 1)
    _exit(f"unexpected {err.__class__.__name__}: {err}", 1)


def _exit(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
