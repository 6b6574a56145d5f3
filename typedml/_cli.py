"""The ``typedml`` command line: ``check``, ``show``, ``demo`` and ``lsp`` (the language server).

``typedml check`` prints diagnostics as ``path:line:col: severity[CODE] message`` (the form
editors' problem matchers read) and exits 0 (no error), 1 (errors found) or 2 (a usage
problem, or a module that could not be imported). The JSON and SARIF forms are documented
in ``docs/reference/cli.md``.
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

from ._discover import Found, Loaded, check_found, expand_targets, find_objects, iter_python_files, load
from ._pipeline import Pipeline
from ._sarif import to_sarif
from ._stage import Stage

__all__ = ["main"]

JSON_VERSION = 1
EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


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
    if command == "check":
        return _check(args)
    if command == "show":
        return _show(args)
    if command == "demo":
        return _demo()
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
    check.add_argument("targets", nargs="+", metavar="PATH_OR_MODULE", help="a .py file, a folder, or a dotted module")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output form")
    check.add_argument("--stages", action="store_true", help="also check each stage defined at module level on its own")
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


# -- check ---------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    targets, missing = expand_targets(args.targets)
    for target in missing:
        print(f"typedml check: no such file, folder or module: {target!r}", file=sys.stderr)
    if missing:
        return EXIT_USAGE
    loaded = _load_all(targets, skip=not args.no_skip)
    seen: set[int] = set()
    found: list[Found] = []
    for item in loaded:
        if item.module is not None:
            found.extend(find_objects(item.module, stages=args.stages, seen=seen))
    diagnostics = [d for item in loaded for d in item.diagnostics]
    with contextlib.redirect_stdout(sys.stderr):
        for entry in found:
            diagnostics.extend(check_found(entry))
    diagnostics = list(dict.fromkeys(diagnostics))  # a nested pipeline's errors reach its callers too
    failed_imports = any(d.code == "TM401" for d in diagnostics)
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = sum(d.severity == "warning" for d in diagnostics)
    status = EXIT_USAGE if failed_imports else EXIT_ERRORS if errors else EXIT_OK
    pipelines = [f.qualname for f in found if isinstance(f.obj, Pipeline)]
    stages = [f.qualname for f in found if isinstance(f.obj, Stage)]
    modules = [item.module.__name__ for item in loaded if item.module is not None]
    skipped = [item.target for item in loaded if item.skipped]
    not_imported = [item.target for item in loaded if item.module is None and not item.skipped]
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
        print(_summary(len(pipelines), len(stages), len(modules), len(skipped), len(not_imported), errors, warnings))
    return status


def _load_all(targets: list[str], *, skip: bool) -> list[Loaded]:
    loaded: list[Loaded] = []
    done: set[str] = set()
    for target in targets:
        item = load(target, skip=skip)
        module = item.module
        if module is not None and module.__name__ in done:
            continue
        loaded.append(item)
        if module is None:
            continue
        done.add(module.__name__)
        package_dirs: list[str] = list(getattr(module, "__path__", []))
        if package_dirs and not target.endswith(".py"):  # a package named by module: its files too
            files = [str(p) for d in package_dirs for p in iter_python_files(Path(d)) if p.name != "__init__.py"]
            for sub in _load_all(files, skip=skip):
                if sub.module is None or sub.module.__name__ not in done:
                    loaded.append(sub)
                    if sub.module is not None:
                        done.add(sub.module.__name__)
    return loaded


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(pipelines: int, stages: int, modules: int, skipped: int, failed: int, errors: int, warnings: int) -> str:
    what = _plural(pipelines, "pipeline") + (f" and {_plural(stages, 'stage')}" if stages else "")
    where = _plural(modules, "module") + (f", skipped {skipped}" if skipped else "")
    where += f", {failed} not imported" if failed else ""
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
        Path(args.output).write_text(text, encoding="utf-8")
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
