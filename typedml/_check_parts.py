"""What the wiring checker's halves share: the state they read and the two methods they call.

The checker (:class:`typedml._check._Checker`) is built from a size half
(:class:`typedml._check_sizes.SizeChecks`) and a unit half
(:class:`typedml._check_units.UnitChecks`); both report through the checker's ``_report`` and
name edges with its ``_where``, declared here once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import Diagnostic, Related

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["CheckerPart", "EdgeKey"]

EdgeKey = tuple[str, str, str]


class CheckerPart:
    """A half of the checker: the checker provides the state and ``_report``/``_where``."""

    graph: nx.MultiDiGraph[str]
    diagnostics: list[Diagnostic]

    def _report(
        self,
        ekey: EdgeKey,
        edata: dict[str, Any],
        code: str,
        message: str,
        notes: tuple[str, ...] = (),
        hint: str | None = None,
        severity: str = "error",
        related: tuple[Related, ...] = (),
    ) -> None:
        raise NotImplementedError  # the checker's

    def _where(self, ekey: EdgeKey, edata: dict[str, Any]) -> str:
        raise NotImplementedError  # the checker's
