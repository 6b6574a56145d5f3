"""The ``typedml`` command line: ``check``, ``show``, ``demo`` and ``lsp`` (the language server).

``typedml check`` prints diagnostics as ``path:line:col: severity[CODE] message`` (the form
editors' problem matchers read) and exits 0 (no error), 1 (errors found) or 2 (the check is
incomplete: a usage problem, a module that could not be imported, or one whose checking was
stopped). User code runs only in a worker process (``typedml._worker``). The JSON and SARIF
forms are documented in ``docs/reference/cli.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from ._discover import expand_targets, find_objects, load
from ._pipeline import Pipeline
from ._sarif import to_sarif
from ._stage import Stage
from ._worker import Outcome, Request, Worker

__all__ = ["main"]

JSON_VERSION = 1
EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
DEFAULT_TIMEOUT = 60.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["lsp"]:  # the server parses its own options
        from .lsp import main as lsp_main

        return lsp_main(argv[1:])
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as err:  # argparse exits 2 on usage errors, 0 for --help
        return err.code if isinstance(err.code, int) else EXIT_USAGE
    cwd = os.getcwd()
    if cwd not in sys.path:  # as `python -m` does: modules of the working folder are importable
        sys.path.insert(0, cwd)
    command: str | None = args.command
    try:
        if command == "check":
            return _check(args)
        if command == "show":
            return _show(args)
        if command == "demo":
            return _demo()
    except BrokenPipeError:  # the reader went away (`typedml check . | head`): stop quietly
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERRORS
    parser.print_help()
    return EXIT_USAGE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="typedml", description="Check typedml pipelines without data, draw them, or run the demo."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser(
        "check",
        help="import files, folders or modules and check every pipeline in them",
        description="Import each target and check every pipeline defined at its module level.",
    )
    check.add_argument(
        "targets",
        nargs="+",
        metavar="PATH_OR_MODULE",
        help="a .py file, a .ipynb notebook, a folder, or a dotted module",
    )
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output form")
    check.add_argument("--stages", action="store_true", help="also check each stage defined at module level on its own")
    check.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit for importing and checking one module (default {DEFAULT_TIMEOUT:g})",
    )
    check.add_argument(
        "--notebooks",
        action="store_true",
        help="in folders, check Jupyter notebooks (*.ipynb) too (a notebook named on its own always is)",
    )
    check.add_argument(
        "--no-skip",
        action="store_true",
        help="check modules marked `# typedml: skip-file` or `__typedml_exclude__ = True` too",
    )
    show = sub.add_parser(
        "show",
        help="print a pipeline's graph (DOT, Mermaid or HTML)",
        description="Print the graph of MODULE:PIPELINE with units, shapes and dtypes on every edge.",
    )
    show.add_argument("target", metavar="MODULE:PIPELINE", help="e.g. examples.sensor.pipeline:sensor")
    show.add_argument("--format", choices=("dot", "mermaid", "html"), default="dot")
    show.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    sub.add_parser("demo", help="run the flagship example (from a source checkout)")
    sub.add_parser("lsp", help="run the language server (LSP over stdio; see `typedml lsp --help`)")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


# -- check ---------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    targets, missing = expand_targets(args.targets, notebooks=args.notebooks)
    for target in missing:
        print(f"typedml check: no such file, folder or module: {target!r}", file=sys.stderr)
    if missing:
        return EXIT_USAGE
    outcomes = _check_all(targets, skip=not args.no_skip, stages=args.stages, timeout=args.timeout)
    diagnostics = [d for item in outcomes for d in item.diagnostics]
    diagnostics = list(dict.fromkeys(diagnostics))  # a nested pipeline's errors reach its callers too
    modules = [item.module for item in outcomes if item.module is not None and not item.stopped]
    skipped = [item.target for item in outcomes if item.skipped]
    not_imported = [item.target for item in outcomes if item.module is None and not item.skipped and not item.stopped]
    stopped = [item.target for item in outcomes if item.stopped]
    pipelines = [name for item in outcomes for name in item.pipelines]
    stages = [name for item in outcomes for name in item.stages]
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    # a module not imported or not checked to the end, or a pipeline whose check a body stopped
    # (TM403: a body that exits the program), leaves the check incomplete: never 0 or 1
    unchecked = any(d.code in ("TM402", "TM403") for d in diagnostics)
    status = EXIT_USAGE if not_imported or stopped or unchecked else EXIT_ERRORS if errors else EXIT_OK
    if args.format == "json":
        document = {
            "version": JSON_VERSION,
            "modules": modules,
            "skipped": skipped,
            "pipelines": pipelines,
            "stages": stages,
            "diagnostics": [d.to_dict() for d in diagnostics],
            "summary": {
                "modules": len(modules),
                "skipped": len(skipped),
                "not_imported": len(not_imported),
                "stopped": len(stopped),
                "pipelines": len(pipelines),
                "stages": len(stages),
                "errors": errors,
                "warnings": warnings,
                "exit_code": status,
            },
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(diagnostics, args.targets[0]), indent=2, ensure_ascii=False))
    else:
        for d in diagnostics:
            print(d)
        print(
            _summary(
                len(pipelines),
                len(stages),
                len(modules),
                len(skipped),
                len(not_imported),
                len(stopped),
                errors,
                warnings,
            )
        )
    return status


def _check_all(targets: list[str], *, skip: bool, stages: bool, timeout: float) -> list[Outcome]:
    """Each target imported and checked in a worker process, in order (see ``typedml._worker``)."""
    outcomes: list[Outcome] = []
    done: set[str] = set()
    pending = list(targets)
    with Worker(timeout) as worker:
        while pending:
            target = pending.pop(0)
            outcome = worker.check(Request(target, skip, stages, frozenset(done), tuple(sys.path)))
            if outcome.repeated:
                continue
            outcomes.append(outcome)
            if outcome.module is not None:
                done.add(outcome.module)
            pending[:0] = [f for f in outcome.package_files if f not in pending]
    return outcomes


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(
    pipelines: int, stages: int, modules: int, skipped: int, failed: int, stopped: int, errors: int, warnings: int
) -> str:
    what = _plural(pipelines, "pipeline") + (f" and {_plural(stages, 'stage')}" if stages else "")
    where = _plural(modules, "module") + (f", skipped {skipped}" if skipped else "")
    where += f", {failed} not imported" if failed else ""
    where += f", {stopped} stopped" if stopped else ""
    return f"checked {what} in {where}: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"


# -- show ----------------------------------------------------------------------------------


def _show(args: argparse.Namespace) -> int:
    target: str = args.target
    module_part, _, attr = target.rpartition(":")
    if not module_part:
        module_part, attr = target, ""
    item = load(module_part, skip=False)
    if item.module is None:
        for d in item.diagnostics:
            print(d, file=sys.stderr)
        return EXIT_USAGE
    found = list(find_objects(item.module, stages=True))
    if not attr:
        pipelines = [f for f in found if isinstance(f.obj, Pipeline)]
        if len(pipelines) != 1:
            names = ", ".join(f.attr for f in pipelines) or "none"
            print(
                f"typedml show: name one pipeline of {module_part} as MODULE:PIPELINE (found: {names})", file=sys.stderr
            )
            return EXIT_USAGE
        attr = pipelines[0].attr
    obj: object = item.module
    for part in attr.split("."):
        obj = getattr(obj, part, None)
    if isinstance(obj, Stage):
        obj = cast("Stage[..., Any]", obj).as_pipeline()
    if not isinstance(obj, Pipeline):
        names = ", ".join(f.attr for f in found) or "none"
        print(f"typedml show: {attr!r} in {module_part} is not a pipeline or stage (found: {names})", file=sys.stderr)
        return EXIT_USAGE
    pipeline = cast("Pipeline[..., Any]", obj)
    render = {"dot": pipeline.to_dot, "mermaid": pipeline.to_mermaid, "html": pipeline.to_html}[args.format]
    with contextlib.redirect_stdout(sys.stderr):
        text = render()
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as err:
            print(f"typedml show: cannot write {args.output!r}: {err.strerror or err}", file=sys.stderr)
            return EXIT_USAGE
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


# -- demo ----------------------------------------------------------------------------------


def _demo() -> int:
    checkout = Path(__file__).resolve().parent.parent
    for folder in (os.getcwd(), str(checkout)):
        if Path(folder, "examples", "sensor", "main.py").is_file() and folder not in sys.path:
            sys.path.insert(0, folder)
    try:
        demo_main: Callable[[], object] = importlib.import_module("examples.sensor.main").main
    except (ImportError, AttributeError) as err:
        print(
            "typedml demo runs the flagship example, examples/sensor/, which ships with the source\n"
            "checkout, not with the installed package. From a clone of the repository, run\n"
            "    typedml demo            (or: python -m examples.sensor.main)\n"
            f"in its root folder. ({type(err).__name__}: {err})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    status: object = demo_main()
    return status if isinstance(status, int) else EXIT_OK
