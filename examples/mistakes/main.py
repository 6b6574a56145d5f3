"""Print each glue mistake of the catalogue next to the diagnostic typedml gives for it.

python -m examples.mistakes.main
"""

from __future__ import annotations

from .catalogue import HANDLED, MISTAKES


def main() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pipeline, _ in MISTAKES:
        report = pipeline.check()
        found[pipeline.spec.name] = [d.code for d in report.errors]
        print(f"## {pipeline.spec.name}: {(pipeline.fn.__doc__ or '').strip()}")
        print(report.errors[0] if report.errors else "not caught")
        print()
    for pipeline in HANDLED:
        report = pipeline.check()
        found[pipeline.spec.name] = [d.code for d in report.errors]
        conversions = [d["conversion"] for _, _, d in pipeline.graph.edges(data=True) if d.get("conversion")]
        print(f"## {pipeline.spec.name}: {(pipeline.fn.__doc__ or '').strip()}")
        print(f"{report}; conversions on its edges: {conversions}")
        print()
    return found


if __name__ == "__main__":
    main()
