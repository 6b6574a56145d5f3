"""Shapes: jaxtyping's shape grammar parsed into terms, and unification of shapes.

A shape is a sequence of items: a *dimension term* (an affine expression over shape
variables, so ``3``, ``n``, ``n+1`` and ``2*n`` all unify), an anonymous ``_``, or a variadic
(``*name`` or ``...``). Unification binds flexible variables (those of a stage call) and
records where each binding came from, so a conflict can name both origins. Rigid variables
(those of the pipeline's own signature) are never bound: they stand for sizes only data
will tell.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping, Sequence

__all__ = ["Anon", "Dim", "Lin", "ShapeStore", "Variadic", "parse_dims"]


@dataclasses.dataclass(frozen=True)
class Lin:
    """An affine integer expression ``const + sum(coef * var)``; ``text`` is how it was written."""

    terms: tuple[tuple[str, int], ...] = ()
    const: int = 0

    @staticmethod
    def var(name: str) -> Lin:
        return Lin(((name, 1),), 0)

    @staticmethod
    def fixed(size: int) -> Lin:
        return Lin((), size)

    @property
    def is_const(self) -> bool:
        return not self.terms

    def vars(self) -> list[str]:
        return [v for v, _ in self.terms]

    def __add__(self, other: Lin) -> Lin:
        return self._combine(other, 1)

    def __sub__(self, other: Lin) -> Lin:
        return self._combine(other, -1)

    def scale(self, k: int) -> Lin:
        return Lin(tuple((v, c * k) for v, c in self.terms if c * k), self.const * k)

    def _combine(self, other: Lin, sign: int) -> Lin:
        out = dict(self.terms)
        for v, c in other.terms:
            out[v] = out.get(v, 0) + sign * c
        return Lin(tuple(sorted((v, c) for v, c in out.items() if c)), self.const + sign * other.const)

    def substitute(self, lookup: Callable[[str], Lin | None]) -> Lin:
        out: dict[str, int] = {}
        const = self.const
        changed = False
        for v, c in self.terms:
            bound = lookup(v)
            if bound is None:
                out[v] = out.get(v, 0) + c
                continue
            changed = True
            const += bound.const * c
            for bv, bc in bound.terms:
                out[bv] = out.get(bv, 0) + bc * c
        if not changed:
            return self
        return Lin(tuple(sorted((v, c) for v, c in out.items() if c)), const)

    def render(self, name: Callable[[str], str] = str) -> str:
        parts: list[str] = []
        for v, c in self.terms:
            n = name(v)
            parts.append(n if c == 1 else f"-{n}" if c == -1 else f"{c}*{n}")
        if self.const or not parts:
            parts.append(str(self.const))
        return "+".join(parts).replace("+-", "-")


@dataclasses.dataclass(frozen=True)
class Dim:
    """One axis: a term, written ``text`` in the annotation; ``broadcast`` for ``#n``."""

    term: Lin | None  # None: a symbolic expression typedml cannot reason about
    text: str
    broadcast: bool = False


@dataclasses.dataclass(frozen=True)
class Anon:
    """``_``: any single axis."""

    text: str = "_"


@dataclasses.dataclass(frozen=True)
class Variadic:
    """``*name`` (``name`` set) or ``...`` (``name`` None): any number of axes."""

    name: str | None
    broadcast: bool = False

    @property
    def text(self) -> str:
        return "..." if self.name is None else f"*{'#' if self.broadcast else ''}{self.name}"


Item = Dim | Anon | Variadic


def parse_dims(dim_str: str) -> tuple[Item, ...]:
    """Classify each token of a jaxtyping shape string (already validated by jaxtyping)."""
    items: list[Item] = []
    for token in dim_str.split():
        if token == "...":
            items.append(Variadic(None))
            continue
        elem, broadcast, variadic, anonymous = token, False, False, False
        while elem:
            if elem[0] == "#":
                broadcast, elem = True, elem[1:]
            elif elem[0] == "*":
                variadic, elem = True, elem[1:]
            elif elem[0] == "_":
                anonymous, elem = True, elem[1:]
            elif elem[0] == "?":
                elem = elem[1:]
            elif elem.count("=") == 1:
                elem = elem.split("=")[1]
            else:
                break
        if variadic:
            items.append(Variadic(None if anonymous else elem, broadcast))
        elif anonymous:
            items.append(Anon(token))
        elif elem.isidentifier():
            items.append(Dim(Lin.var(elem), token, broadcast))
        elif elem.isdigit():
            items.append(Dim(Lin.fixed(int(elem)), token, broadcast))
        else:
            items.append(Dim(_parse_affine(elem), token, broadcast))
    return tuple(items)


def _parse_affine(text: str) -> Lin | None:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    return _affine(tree)


def _affine(node: ast.expr) -> Lin | None:
    if isinstance(node, ast.Name):
        return Lin.var(node.id)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Lin.fixed(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _affine(node.operand)
        return inner.scale(-1) if inner is not None else None
    if isinstance(node, ast.BinOp):
        left, right = _affine(node.left), _affine(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            if left.is_const:
                return right.scale(left.const)
            if right.is_const:
                return left.scale(right.const)
    return None


def item_vars(items: Sequence[Item]) -> set[str]:
    """Every shape-variable name used (variadic names included)."""
    names: set[str] = set()
    for item in items:
        if isinstance(item, Dim) and item.term is not None:
            names.update(item.term.vars())
        elif isinstance(item, Dim):
            names.update(_expr_names(item.text))
        elif isinstance(item, Variadic) and item.name is not None:
            names.add(item.name)
    return names


def _expr_names(text: str) -> set[str]:
    try:
        tree = ast.parse(text.lstrip("#"), mode="eval")
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


# --- unification -----------------------------------------------------------------------

# A term after variables are namespaced: Lin over global keys, None for unknown (``_``).
Term = Lin | None


@dataclasses.dataclass(frozen=True)
class SeqVar:
    """A variadic inside a resolved shape: unbound (or rigid) sequence variable."""

    key: str


SeqItem = Lin | None | SeqVar


@dataclasses.dataclass
class Conflict:
    """A failed unification; the checker turns it into a diagnostic."""

    kind: str  # "size", "rank", "variable", "unverifiable"
    expected: str
    found: str
    variable: str | None = None
    other_origin: str | None = None


class ShapeStore:
    """Bindings of flexible shape variables, with where each came from."""

    def __init__(self, rigid: set[str] | None = None) -> None:
        self.rigid: set[str] = set(rigid or ())
        self.dims: dict[str, Lin] = {}
        self.seqs: dict[str, list[SeqItem]] = {}
        self.origin: dict[str, str] = {}
        self.display: dict[str, str] = {}

    # resolution
    def lookup(self, key: str) -> Lin | None:
        bound = self.dims.get(key)
        if bound is None:
            return None
        resolved = bound.substitute(self.lookup)
        self.dims[key] = resolved
        return resolved

    def resolve(self, term: Lin) -> Lin:
        return term.substitute(self.lookup)

    def resolve_seq(self, seq: Sequence[SeqItem], terms: bool = True) -> list[SeqItem]:
        """Expand bound variadics; with ``terms``, also substitute bound dimension variables."""
        out: list[SeqItem] = []
        for item in seq:
            if isinstance(item, SeqVar) and item.key in self.seqs:
                out.extend(self.resolve_seq(self.seqs[item.key], terms))
            elif isinstance(item, Lin) and terms:
                out.append(self.resolve(item))
            else:
                out.append(item)
        return out

    def name(self, key: str) -> str:
        return self.display.get(key, key)

    def render(self, term: SeqItem) -> str:
        if term is None:
            return "_"
        if isinstance(term, SeqVar):
            return "*" + self.name(term.key)
        return self.resolve(term).render(self.name)

    def render_seq(self, seq: Sequence[SeqItem]) -> str:
        return "(" + ", ".join(self.render(t) for t in self.resolve_seq(seq)) + ")"

    # unification
    def unify_term(self, found: Term, expected: Term, origin: str, broadcast: bool = False) -> Conflict | None:
        if found is None or expected is None:
            return None
        f, e = self.resolve(found), self.resolve(expected)
        if broadcast and f.is_const and f.const == 1:
            return None
        diff = e - f
        if not diff.terms:
            if diff.const == 0:
                return None
            var = _first_var(expected, self)
            return Conflict("size", self.render(e), self.render(f), var, self.origin.get(var) if var else None)
        for var, coef in diff.terms:
            if var not in self.rigid and coef in (1, -1):
                # var*coef + rest == 0  =>  var = -rest/coef
                rest = diff - Lin(((var, coef),), 0)
                self.dims[var] = rest.scale(-coef)
                self.origin.setdefault(var, origin)
                return None
        var = _first_var(expected, self) or _first_var(found, self)
        return Conflict(
            "variable",
            self.render(e),
            self.render(f),
            var,
            self.origin.get(var) if var else None,
        )

    def unify_seq(
        self,
        found: Sequence[SeqItem],
        expected: Sequence[SeqItem],
        origin: str,
        broadcast: Mapping[int, bool] | None = None,
    ) -> list[Conflict]:
        f = self.resolve_seq(found, terms=False)
        e = self.resolve_seq(expected, terms=False)
        broadcast = broadcast or {}
        e_var = [i for i, t in enumerate(e) if isinstance(t, SeqVar)]
        f_var = [i for i, t in enumerate(f) if isinstance(t, SeqVar)]
        if not e_var and not f_var:
            if len(f) != len(e):
                return [
                    Conflict("rank", f"{_axes(len(e))} {self.render_seq(e)}", f"{_axes(len(f))} {self.render_seq(f)}")
                ]
            return self._pairwise(f, e, origin, broadcast, 0)
        if e_var:
            k = e_var[0]
            prefix, suffix = e[:k], e[k + 1 :]
            fixed_f = len(f) - len(f_var)
            if not f_var and fixed_f < len(prefix) + len(suffix):
                return [
                    Conflict(
                        "rank",
                        f"at least {_axes(len(prefix) + len(suffix))} {self.render_seq(e)}",
                        f"{_axes(len(f))} {self.render_seq(f)}",
                    )
                ]
            if f_var and (f_var[0] < len(prefix) or len(f) - 1 - f_var[0] < len(suffix)):
                return [Conflict("unverifiable", self.render_seq(e), self.render_seq(f))]
            conflicts = self._pairwise(f[: len(prefix)], prefix, origin, broadcast, 0)
            tail = len(f) - len(suffix)
            conflicts += self._pairwise(f[tail:], suffix, origin, broadcast, k + 1)
            middle = f[len(prefix) : tail]
            var = e[k]
            assert isinstance(var, SeqVar)
            if var.key in self.rigid:
                if [self.resolve(t) if isinstance(t, Lin) else t for t in middle] != [var]:
                    conflicts.append(Conflict("variable", self.render_seq(e), self.render_seq(f), var.key))
            else:
                self.seqs[var.key] = list(middle)
                self.origin.setdefault(var.key, origin)
            return conflicts
        # found has a variadic the expectation cannot absorb
        return [Conflict("rank", f"{_axes(len(e))} {self.render_seq(e)}", f"any number of axes {self.render_seq(f)}")]

    def _pairwise(
        self,
        f: Sequence[SeqItem],
        e: Sequence[SeqItem],
        origin: str,
        broadcast: Mapping[int, bool],
        offset: int,
    ) -> list[Conflict]:
        out: list[Conflict] = []
        for i, (a, b) in enumerate(zip(f, e, strict=True)):
            if isinstance(a, SeqVar) or isinstance(b, SeqVar):  # pragma: no cover - excluded above
                continue
            c = self.unify_term(a, b, origin, broadcast.get(offset + i, False))
            if c is not None:
                out.append(c)
        return out


def _axes(n: int) -> str:
    return f"{n} axis" if n == 1 else f"{n} axes"


def _first_var(term: Term, store: ShapeStore) -> str | None:
    if term is None:
        return None
    for v in term.vars():
        return v
    return None


def namespaced(items: Sequence[Item], prefix: str, fresh: Callable[[], str]) -> tuple[list[SeqItem], dict[int, bool]]:
    """Items as store terms, variable names prefixed; ``...`` gets a fresh variable each time."""
    seq: list[SeqItem] = []
    broadcast: dict[int, bool] = {}
    for item in items:
        if isinstance(item, Variadic):
            seq.append(SeqVar(prefix + item.name if item.name else fresh()))
        elif isinstance(item, Anon):
            seq.append(None)
        elif item.term is None:
            seq.append(None)
        else:
            broadcast[len(seq)] = item.broadcast
            seq.append(Lin(tuple((prefix + v, c) for v, c in item.term.terms), item.term.const))
    return seq, broadcast
