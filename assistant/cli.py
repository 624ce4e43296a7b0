"""Command line: ``assistant index | ask | eval | bench | serve`` (a stable contract: scripts depend on it).

Commands only: each builds its :class:`~assistant.config.Settings` and calls the stage that does
the work. Exit codes: 0 ok, 2 usage error (empty question included), 1 any other error, always
with a one-line message and never a traceback (Ctrl+C: 130).
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.config import DEFAULT_BENCH_DATASET, Settings
from assistant.errors import AssistantError

# Plain messages (no rich boxes): one line a script can read.
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Offline assistant answering from your documents.",
)

CorpusOpt = Annotated[
    Path | None, typer.Option("--corpus", help="Corpus directory [env ASSISTANT_CORPUS, default corpus/]")
]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory [env ASSISTANT_INDEX, default index/]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (machine-readable).")]


def _add_team_commands() -> None:
    from assistant.team.commands import audit_app, conversations_app, export_conversation, groups_app, users_app

    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(conversations_app, name="conversations")
    app.add_typer(groups_app, name="groups")
    app.command("export")(export_conversation)


_add_team_commands()


@app.callback()
def _global_options(
    ctx: typer.Context,
    chroma_url: Annotated[
        str | None,
        typer.Option(
            "--chroma-url", help="Use a Chroma server (`chroma run`) for the vectors [env ASSISTANT_CHROMA_URL]"
        ),
    ] = None,
) -> None:
    ctx.obj = chroma_url


def _settings(ctx: typer.Context, corpus: Path | None = None, index: Path | None = None) -> Settings:
    """The environment's settings, the command's flags winning."""
    return Settings.from_env(corpus, index, chroma_url=ctx.obj)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@app.command()
def index(
    ctx: typer.Context,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start from an empty index.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Index the corpus: only new or changed documents are embedded."""
    from assistant.indexing.locks import exclusive_use
    from assistant.indexing.sync import sync

    settings = _settings(ctx, corpus, index)
    with exclusive_use(settings.index_dir, settings.chroma_url):
        report = sync(settings, rebuild=rebuild, progress=not as_json and sys.stderr.isatty())
    if as_json:
        _emit(report.as_json())
        return
    for skipped in report.skipped:
        typer.echo(f"skipped {skipped.source}: {skipped.reason}", err=True)
    for partial in report.partial:
        typer.echo(f"read in part {partial.source}: {partial.reason}", err=True)
    typer.echo(report.summary())


def _audit(settings: Settings, answer: Any, *, engine: Any) -> None:
    """Log the answer with the OS account that asked (``ASSISTANT_AUDIT=off`` turns it off)."""
    import getpass

    from assistant.models.chat import describe
    from assistant.team.audit import record

    model = describe(settings) if answer.mode == "llm" else "extractive"
    record(settings, answer, user=getpass.getuser(), channel="cli", snapshot=engine.snapshot.name, model=model)


def _print_answer(answer: Any) -> None:
    from assistant.answering.answerability import level
    from assistant.ingest.chunks import label

    if answer.notice:
        typer.echo(f"note: {answer.notice}", err=True)
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:")
    for c in answer.citations:
        where = ", ".join(filter(None, [c.source, c.where, "OCR" if c.ocr else ""]))
        typer.echo(f"  [{c.n}] {label(c.title, c.section)} ({where}, characters {c.start}-{c.end})")
    typer.echo(f"\nConfidence: {level(answer.confidence)} ({answer.confidence:.2f})")


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, or - to read JSON lines from stdin.")],
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    mode: Annotated[
        str, typer.Option("--mode", help="auto (the LLM when available, else extractive), llm or extractive.")
    ] = "auto",
    history: Annotated[list[str] | None, typer.Option("--history", help="Earlier question (repeatable).")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="Search only these documents: a glob or a folder of the corpus (repeatable)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question from the indexed documents, with citations."""
    from assistant.answering.batch import answer_lines
    from assistant.answering.conversation import Question
    from assistant.answering.modes import check_mode, make_answerer
    from assistant.answering.search import SearchEngine
    from assistant.ingest.corpus import changed_since

    settings = _settings(ctx, corpus, index)
    check_mode(mode)
    # Refused before anything is loaded: an empty question costs no model start.
    asked = None if question == "-" else Question.parse(question, history, settings.max_question_chars, source)
    engine = SearchEngine.open(settings)
    if changed_since(settings.corpus, engine.snapshot.meta.created):
        typer.echo("warning: the corpus changed since the last indexing; run `assistant index`", err=True)
    answerer, notice = make_answerer(engine, mode, progress=sys.stderr.isatty())
    if notice:
        typer.echo(f"note: {notice}", err=True)
    if asked is None:
        audit = functools.partial(_audit, settings, engine=engine)
        for reply in answer_lines(answerer, sys.stdin, settings.max_question_chars, audit):
            _emit(reply)
        return
    answer = answerer.ask(asked)
    _audit(settings, answer, engine=engine)
    if as_json:
        _emit(answer.as_json())
    else:
        _print_answer(answer)


@app.command("eval")
def eval_(
    ctx: typer.Context,
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
    suite: Annotated[
        str | None,
        typer.Option("--suite", help="realistic: ONPE + PIAF distractors, held-out and out-of-corpus questions."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Results directory.")] = Path("eval/results"),
    as_json: JsonOpt = False,
) -> None:
    """Evaluate retrieval, answers, citations and abstention on a question set, against a baseline."""
    from assistant.evaluation.runner import run_evaluation

    if suite is not None:
        summary = _suite(_settings(ctx, corpus, index), suite, dataset, question_set, limit, seed, mode, baseline, out,
                         as_json)  # fmt: skip
        if as_json:
            _emit(summary)
        return
    summary = run_evaluation(
        _settings(ctx, corpus, index),
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


def _suite(settings: Settings, suite: str, dataset: Path | None, question_set: Path, limit: int, seed: int, mode: str,
           baseline: bool, out: Path, as_json: bool) -> dict[str, Any]:  # fmt: skip
    from assistant.answering.modes import check_mode
    from assistant.errors import UsageError
    from assistant.evaluation.suite import DEFAULT_PER_KIND, run_suite

    if suite != "realistic":
        raise UsageError(f"unknown suite {suite!r} (available: realistic)")
    return run_suite(settings, dataset or DEFAULT_BENCH_DATASET, question_set, per_kind=limit or DEFAULT_PER_KIND,
                     seed=seed, mode=check_mode(mode), baseline=baseline, out=out, progress=not as_json)  # fmt: skip


@app.command()
def bench(
    ctx: typer.Context,
    dataset: Annotated[
        Path, typer.Option("--dataset", help="SQuAD-format file whose paragraphs are indexed.")
    ] = DEFAULT_BENCH_DATASET,
    paragraphs: Annotated[int, typer.Option("--paragraphs", help="Sample N paragraphs (0: all).")] = 0,
    questions: Annotated[int, typer.Option("--questions", help="Questions timed per side.")] = 200,
    scale: Annotated[int, typer.Option("--scale", help="Chunks in the scaled store (0: skip).")] = 100_000,
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Also time the bundled LLM.")] = True,
    pdf_pages: Annotated[int, typer.Option("--pdf-pages", help="Pages of the text PDF indexed (0: skip).")] = 300,
    ocr_pages: Annotated[int, typer.Option("--ocr-pages", help="Scanned pages read by OCR (0: skip).")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Measure indexing and query speed and memory, ours against the LangChain tutorial pipeline."""
    from assistant.bench import BenchOptions, run_bench, table

    options = BenchOptions(dataset=dataset, paragraphs=paragraphs, questions=questions, scale=scale, llm=llm,
                           pdf_pages=pdf_pages, ocr_pages=ocr_pages)  # fmt: skip
    result = run_bench(_settings(ctx), options)
    if as_json:
        _emit(result)
    else:
        typer.echo(table(result))


@app.command()
def calibrate(
    ctx: typer.Context,
    dataset: Annotated[
        Path, typer.Option("--dataset", help="SQuAD-format file (PIAF) the model is fitted on.")
    ] = DEFAULT_BENCH_DATASET,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the model [the package's].")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit the answerability model on PIAF and the ONPE pages; print its held-out figures."""
    from assistant.evaluation.calibration import DEFAULT_OUT, calibrate, summary

    data = calibrate(_settings(ctx), dataset, out or DEFAULT_OUT)
    if as_json:
        _emit(data)
    else:
        typer.echo(summary(data))


@app.command()
def serve(
    ctx: typer.Context,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind [env ASSISTANT_HOST].")] = "",
    port: Annotated[int, typer.Option("--port", help="Port [env ASSISTANT_PORT, default 7860].")] = 0,
    watch: Annotated[bool, typer.Option("--watch", help="Reindex when corpus files change.")] = False,
    auth: Annotated[
        str, typer.Option("--auth", help="USER:PASSWORD required to open the chat [env ASSISTANT_AUTH].")
    ] = "",
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Do not load the language model.")] = False,
    read_only_library: Annotated[
        bool, typer.Option("--read-only-library", help="The « Documents » tab lists and downloads only.")
    ] = False,
    mcp: Annotated[bool, typer.Option("--mcp", help="Also serve ask and search as MCP tools.")] = False,
) -> None:
    """Start the web chat (127.0.0.1:7860 unless told otherwise)."""
    from assistant.indexing.locks import exclusive_use
    from assistant.web.app import serve as serve_chat

    settings = _settings(ctx, corpus, index)
    settings = settings.with_(host=host or settings.host, port=port or settings.port, auth=auth or settings.auth,
                              read_only_library=read_only_library, mcp=mcp)  # fmt: skip
    with exclusive_use(settings.index_dir, settings.chroma_url):
        serve_chat(settings, watch=watch, load_llm=not no_llm, say=lambda line: typer.echo(line, err=True))


def main() -> None:
    """Entry point: run the CLI, turning every failure into a one-line message.

    Typer reports its own usage errors (exit 2) and Ctrl+C (exit 130); everything else that
    reaches here is one of ours (:class:`~assistant.errors.AssistantError`) or the system's.
    """
    try:
        app()
    except AssistantError as err:
        _exit(str(err), err.exit_code)
    except OSError as err:
        _exit(f"{err.strerror or 'system error'}: {getattr(err, 'filename', '') or ''}".rstrip(": "), 1)
    except ValueError as err:  # a setting with an unusable value (the message names it)
        _exit(str(err), 1)
    except Exception as err:
        _exit(f"unexpected {err.__class__.__name__}: {err}", 1)


def _exit(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
