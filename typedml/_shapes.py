"""Shapes: jaxtyping's shape grammar parsed into terms, and unification of shapes.

A shape is a sequence of items: a *dimension term*, an anonymous ``_``, or a variadic
(``*name`` or ``...``). A term is an integer expression ``const + sum(coef * key)`` where a
key is a shape variable or an :class:`Atom`, a product (``k*m``) or floor division
(``n//2``) that becomes an ordinary term once enough of its operands are known. So ``3``,
``n``, ``n+1``, ``2*k`` and ``k*m`` all unify; ``2*k`` against 7 is a divisibility
conflict. Unification binds flexible variables (those of a stage call) and records where
each binding came from, so a conflict can name both origins. Rigid variables (those of the
pipeline's own signature, and the *existential* sizes a stage's output makes up) are never
bound: they stand for sizes only data will tell.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

__all__ = ["Anon", "Atom", "Dim", "Lin", "ShapeStore", "Variadic", "divides_by_zero", "parse_dims", "valid_expr"]


def atom_key(atom: Atom) -> str:
    """The store key under which an atom (``k*m``) equated to a size is kept."""
    return f"<{atom.render(str)}>"


def _key_text(key: str | Atom) -> str:
    return key if isinstance(key, str) else key.render(str)


def _norm(out: Mapping[str | Atom, int]) -> tuple[tuple[str | Atom, int], ...]:
    return tuple(sorted(((k, c) for k, c in out.items() if c), key=lambda t: _key_text(t[0])))


@dataclasses.dataclass(frozen=True)
class Atom:
    """A product of two terms (``op == "mul"``) or a floor division by a constant (``"floordiv"``)."""

    op: str
    left: Lin
    right: Lin

    def vars(self) -> list[str]:
        return [*self.left.vars(), *self.right.vars()]

    def rename(self, fn: Callable[[str], str]) -> Atom:
        return Atom(self.op, self.left.rename(fn), self.right.rename(fn))

    def simplify(self) -> Lin:
        """This atom as a term: an ordinary one when its operands allow it."""
        a, b = self.left, self.right
        if self.op == "mul":
            if a.is_const:
                return b.scale(a.const)
            if b.is_const:
                return a.scale(b.const)
            if a.render() > b.render():  # one form for k*m and m*k
                return Lin(((Atom("mul", b, a), 1),), 0)
        elif b.is_const and b.const > 0:
            d = b.const
            if a.is_const:
                return Lin.fixed(a.const // d)
            if all(c % d == 0 for _, c in a.terms):  # (d*X + r) // d == X + r // d for every X
                return Lin(tuple((k, c // d) for k, c in a.terms), a.const // d)
            inner = a.terms[0][0] if len(a.terms) == 1 and a.terms[0][1] == 1 and a.const == 0 else None
            if isinstance(inner, Atom) and inner.op == "floordiv" and inner.right.is_const:
                return Atom("floordiv", inner.left, Lin.fixed(inner.right.const * d)).simplify()  # (x//a)//b
        return Lin(((self, 1),), 0)

    def render(self, name: Callable[[str], str]) -> str:
        sym = "*" if self.op == "mul" else "//"
        return f"{self.left.render(name, nested=True)}{sym}{self.right.render(name, nested=True)}"


@dataclasses.dataclass(frozen=True)
class Lin:
    """An integer expression ``const + sum(coef * key)``: affine in its keys (variables, atoms)."""

    terms: tuple[tuple[str | Atom, int], ...] = ()
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

    @property
    def is_affine(self) -> bool:
        """No atoms: an affine expression of plain variables."""
        return all(isinstance(k, str) for k, _ in self.terms)

    def vars(self) -> list[str]:
        """Every variable named, atoms' operands included."""
        out: list[str] = []
        for k, _ in self.terms:
            out.extend([k] if isinstance(k, str) else k.vars())
        return out

    def __add__(self, other: Lin) -> Lin:
        return self._combine(other, 1)

    def __sub__(self, other: Lin) -> Lin:
        return self._combine(other, -1)

    def scale(self, k: int) -> Lin:
        return Lin(tuple((v, c * k) for v, c in self.terms if c * k), self.const * k)

    def _combine(self, other: Lin, sign: int) -> Lin:
        out: dict[str | Atom, int] = dict(self.terms)
        for v, c in other.terms:
            out[v] = out.get(v, 0) + sign * c
        return Lin(_norm(out), self.const + sign * other.const)

    def rename(self, fn: Callable[[str], str]) -> Lin:
        return Lin(_norm({(fn(k) if isinstance(k, str) else k.rename(fn)): c for k, c in self.terms}), self.const)

    def substitute(self, lookup: Callable[[str], Lin | None]) -> Lin:
        out: dict[str | Atom, int] = {}
        const = self.const
        changed = False
        for v, c in self.terms:
            if isinstance(v, str):
                bound = lookup(v)
            else:
                left, right = v.left.substitute(lookup), v.right.substitute(lookup)
                bound = Atom(v.op, left, right).simplify()
                if len(bound.terms) == 1 and not bound.const and isinstance(bound.terms[0][0], Atom):
                    bound = lookup(atom_key(bound.terms[0][0])) or bound  # an atom equated to a size
                if bound == Lin(((v, 1),), 0):
                    bound = None
            if bound is None:
                out[v] = out.get(v, 0) + c
                continue
            changed = True
            const += bound.const * c
            for bv, bc in bound.terms:
                out[bv] = out.get(bv, 0) + bc * c
        if not changed:
            return self
        return Lin(_norm(out), const)

    def render(self, name: Callable[[str], str] = str, nested: bool = False) -> str:
        parts: list[str] = []
        for v, c in self.terms:
            n = name(v) if isinstance(v, str) else v.render(name)
            if not isinstance(v, str) and (c != 1 or len(self.terms) > 1 or self.const):
                n = f"({n})"
            parts.append(n if c == 1 else f"-{n}" if c == -1 else f"{c}*{n}")
        if self.const or not parts:
            parts.append(str(self.const))
        text = "+".join(parts).replace("+-", "-")
        if nested and (len(parts) > 1 or (self.terms and self.terms[0][1] != 1)):
            return f"({text})"
        return text

    def at_least(self) -> int:
        """A lower bound of the value when every variable is a size (>= 0); -inf as a large negative."""
        if any(c < 0 for _, c in self.terms):
            return -(10**18)
        return self.const


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
            items.append(Dim(_parse_term(elem), token, broadcast))
    return tuple(items)


def _parse_term(text: str) -> Lin | None:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    return _term(tree)


def _term(node: ast.expr) -> Lin | None:
    if isinstance(node, ast.Name):
        return Lin.var(node.id)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Lin.fixed(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _term(node.operand)
        return inner.scale(-1) if inner is not None else None
    if isinstance(node, ast.BinOp):
        left, right = _term(node.left), _term(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return Atom("mul", left, right).simplify()
        if isinstance(node.op, ast.FloorDiv) and right.is_const and right.const > 0:
            return Atom("floordiv", left, right).simplify()
    return None


def declared_position(dims: Sequence[Item], dim: str, rank: int) -> int:
    """Where ``dim`` is declared among ``dims``, as a position in a shape of ``rank`` axes."""
    i = next(k for k, item in enumerate(dims) if isinstance(item, Dim) and item.term == Lin.var(dim))
    if any(isinstance(item, Variadic) for item in dims[:i]):
        return rank - (len(dims) - i)
    return i


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
    """A failed unification; the checker turns it into a diagnostic.

    ``kind``: ``"size"`` (two fixed sizes), ``"fixed"`` (a fixed size against a free one),
    ``"variable"`` (two independent sizes), ``"divisibility"`` (no whole size fits),
    ``"rank"``, or ``"unverifiable"`` (a relation typedml cannot decide).
    """

    kind: str
    expected: str
    found: str
    variable: str | None = None
    other_origin: str | None = None
    detail: str | None = None  # e.g. "must be a multiple of 2"
    keys: tuple[str, ...] = ()  # the variables involved (namespaced keys)
    found_side: bool = False  # ``variable`` is one of the found term's (not the expected's)


@dataclasses.dataclass(frozen=True)
class SizeConstraint:
    """What a signature implies about sizes: ``term >= 0``, or ``term % modulus == 0``."""

    term: Lin
    modulus: int | None
    origin: str  # the port or edge that implies it

    def holds(self, value: int) -> bool:
        return value >= 0 if self.modulus is None else value % self.modulus == 0

    def describe(self, name: Callable[[str], str] = str) -> str:
        text = self.term.render(name)
        if self.modulus is None:
            return f"{text} >= 0"
        return f"{text} is a multiple of {self.modulus}"


class ShapeStore:
    """Bindings of flexible shape variables, with where each came from."""

    def __init__(self, rigid: set[str] | None = None) -> None:
        self.rigid: set[str] = set(rigid or ())
        self.existential: dict[str, str] = {}  # rigid key -> what makes it (a stage call)
        self.dims: dict[str, Lin] = {}
        self.seqs: dict[str, list[SeqItem]] = {}
        self.origin: dict[str, str] = {}
        self.display: dict[str, str] = {}
        self.constraints: list[SizeConstraint] = []
        self.assumed: set[str] = set()  # equalities reported as unverifiable (rendered ``e - f``)
        self._fresh = 0

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

    def fresh(self, base: str) -> str:
        self._fresh += 1
        return f"{base}'{self._fresh}"

    # unification
    def unify_term(self, found: Term, expected: Term, origin: str, broadcast: bool = False) -> Conflict | None:
        if found is None or expected is None:
            return None
        f, e = self.resolve(found), self.resolve(expected)
        if broadcast and f.is_const and f.const == 1:
            return None
        diff = e - f
        keys = tuple(sorted(set(diff.vars())))
        var = _first_var(expected, self) or _first_var(found, self)
        other = self.origin.get(var) if var else None
        if not diff.terms:
            if diff.const == 0:
                return None
            side = _first_var(expected, self) is None
            return Conflict("size", self.render(e), self.render(f), var, other, keys=keys, found_side=side)
        g = math.gcd(*(c for _, c in diff.terms))
        if diff.const % g:
            detail = f"{self.render(f)} must be a multiple of {g}" if f.is_const or e.is_const else None
            if f.is_const:
                detail = f"{f.const} is not a multiple of {g}"
            return Conflict("divisibility", self.render(e), self.render(f), var, other, detail, keys)
        diff = Lin(tuple((k, c // g) for k, c in diff.terms), diff.const // g)
        plain = [(k, c) for k, c in diff.terms if isinstance(k, str)]
        for key, coef in plain:
            if key in self.rigid or coef not in (1, -1):
                continue
            rest = diff - Lin(((key, coef),), 0)
            if key in rest.vars():  # n = f(n): no solution by substitution
                continue
            self.dims[key] = rest.scale(-coef)  # key*coef + rest == 0
            self.origin.setdefault(key, origin)
            return None
        flexible = [(k, c) for k, c in plain if k not in self.rigid]
        if len(flexible) == 1 and diff.is_affine:
            # c*k + rest == 0 with |c| > 1 and rest fixed by rigid sizes: rest must be a multiple
            # of c, which only data can tell (or nothing, when rest involves a made-up size)
            key, coef = flexible[0]
            numerator = (diff - Lin(((key, coef),), 0)).scale(-1 if coef > 0 else 1)  # key == numerator / |coef|
            if any(v in self.existential for v in numerator.vars()):
                return Conflict(
                    "divisibility",
                    self.render(e),
                    self.render(f),
                    key,
                    other,
                    f"{numerator.render(self.name)} must be a multiple of {abs(coef)}, and nothing proves it",
                    keys,
                )
            self.constraints.append(SizeConstraint(numerator, abs(coef), origin))
            self.dims[key] = Atom("floordiv", numerator, Lin.fixed(abs(coef))).simplify()
            self.origin.setdefault(key, origin)
            return None
        if len(flexible) == 2 and diff.is_affine and len(plain) == 2 and diff.const == 0:
            (a, ca), (b, cb) = flexible
            if (ca > 0) != (cb > 0):  # ca*a == -cb*b: a = |cb|*j, b = |ca|*j
                j = self.fresh(a)
                self.dims[a] = Lin(((j, abs(cb)),), 0)
                self.dims[b] = Lin(((j, abs(ca)),), 0)
                self.origin.setdefault(a, origin)
                self.origin.setdefault(b, origin)
                return None
        if flexible or any(k not in self.rigid for k in diff.vars()):
            # reported unverified once; an edge that relies on the same equality says nothing more
            text, negated = diff.render(), diff.scale(-1).render()
            if text in self.assumed or negated in self.assumed:
                return None
            self.assumed.add(text)
            atoms = [(k, c) for k, c in diff.terms if isinstance(k, Atom) and c in (1, -1)]
            if len(atoms) == 1 and not set(atoms[0][0].vars()) <= self.rigid:
                atom, coef = atoms[0]  # remembered as equal, so later edges are checked against it
                self.dims[atom_key(atom)] = (diff - Lin(((atom, coef),), 0)).scale(-coef)
            return Conflict("unverifiable", self.render(e), self.render(f), var, other, keys=keys)
        # only rigid sizes (the pipeline's, or made up by a call): the signatures call them independent
        kind = "fixed" if e.is_const or f.is_const else "variable"
        return Conflict(kind, self.render(e), self.render(f), var, other, keys=keys)

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
            elif list(middle) != [var]:  # (a variable is not bound to itself)
                self.seqs[var.key] = list(middle)
                self.origin.setdefault(var.key, origin)
            return conflicts
        if len(f_var) == 1 and f_var[0] <= len(e) and isinstance(f[f_var[0]], SeqVar):
            k = f_var[0]
            var = f[k]
            assert isinstance(var, SeqVar)
            tail = len(f) - k - 1
            if var.key not in self.rigid and k + tail <= len(e):
                # a free variadic on the found side (a record input's axes being inferred) takes
                # what the expectation has in its place
                conflicts = self._pairwise(f[:k], e[:k], origin, broadcast, 0)
                conflicts += self._pairwise(f[len(f) - tail :], e[len(e) - tail :], origin, broadcast, len(e) - tail)
                self.seqs[var.key] = list(e[k : len(e) - tail])
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
            seq.append(item.term.rename(lambda v: prefix + v) if prefix else item.term)
    return seq, broadcast


def valid_expr(text: str) -> bool:
    """Whether an axis expression parses as Python (its leading ``#*?_`` markers aside)."""
    try:
        ast.parse(text.lstrip("#*?_"), mode="eval")
    except SyntaxError:
        return False
    return True


def divides_by_zero(text: str) -> bool:
    """Whether an axis expression divides (``//``, ``%``, ``/``) by a constant that is zero."""
    try:
        tree = ast.parse(text.lstrip("#*?_"), mode="eval")
    except SyntaxError:
        return False
    return any(
        isinstance(node, ast.BinOp)
        and isinstance(node.op, (ast.FloorDiv, ast.Mod, ast.Div))
        and _constant(node.right) == 0
        for node in ast.walk(tree)
    )


def _constant(node: ast.expr) -> int | None:
    """The value of an integer expression without names (``0``, ``2-2``, ``(1-1)*3``), else None."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        left, right = _constant(node.left), _constant(node.right)
        if left is None or right is None:
            return None
        return (
            left + right
            if isinstance(node.op, ast.Add)
            else left - right
            if isinstance(node.op, ast.Sub)
            else left * right
        )
    return None
