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
import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

__all__ = [
    "Anon",
    "Atom",
    "Dim",
    "Lin",
    "ShapeStore",
    "Variadic",
    "atom_key",
    "divides_by_zero",
    "exact_log",
    "floordiv",
    "multiply",
    "opaque_powers",
    "parse_dims",
    "power",
    "valid_expr",
]


def atom_key(atom: Atom) -> str:
    """The store key under which an atom (``k*m``) equated to a size is kept."""
    return f"<{atom.render(str)}>"


def _key_text(key: str | Atom) -> str:
    return key if isinstance(key, str) else key.render(str)


def _norm(out: Mapping[str | Atom, int]) -> tuple[tuple[str | Atom, int], ...]:
    return tuple(sorted(((k, c) for k, c in out.items() if c), key=lambda t: _key_text(t[0])))


@dataclasses.dataclass(frozen=True)
class Atom:
    """A product (``op == "mul"``), a floor division by a constant (``"floordiv"``) or a power
    of a constant (``"pow"``, ``2**p``) whose operands are not all known.

    Atoms are built in one canonical form, so that equal expressions written differently are
    the same term: a product is a monomial (``k*(m+1)`` is ``k*m + k``; the factors, variables
    or floor divisions, in one order), and a floor division keeps only what it cannot pull out
    (``(n+2)//2`` is ``n//2 + 1``; ``(x//a)//b`` is ``x//(a*b)``).
    """

    op: str
    left: Lin
    right: Lin

    def vars(self) -> list[str]:
        return [*self.left.vars(), *self.right.vars()]

    def rename(self, fn: Callable[[str], str]) -> Atom:
        return Atom(self.op, self.left.rename(fn), self.right.rename(fn))

    def simplify(self) -> Lin:
        """This atom as a term in canonical form: an ordinary one when its operands allow it."""
        a, b = self.left, self.right
        if self.op == "mul":
            return multiply(a, b)
        if self.op == "floordiv" and b.is_const and b.const > 0:
            return floordiv(a, b.const)
        if self.op == "pow":
            return power(a, b)
        return Lin(((self, 1),), 0)

    def render(self, name: Callable[[str], str]) -> str:
        if self.op == "mul":
            return "*".join(_factor_text(f, name) for f in _factors(self))
        sym = "//" if self.op == "floordiv" else "**"
        return f"{self.left.render(name, nested=True)}{sym}{self.right.render(name, nested=True)}"


def _factors(key: str | Atom) -> list[str | Atom]:
    """The factors of a monomial key (a variable, a floor division or a power is one factor)."""
    if not isinstance(key, Atom) or key.op != "mul":
        return [key]
    found: list[str | Atom] = []
    for side in (key.left, key.right):
        for k, _ in side.terms:
            found.extend(_factors(k))
    return found


def _factor_text(key: str | Atom, name: Callable[[str], str]) -> str:
    if isinstance(key, str):
        return name(key)
    return f"({key.render(name)})"  # k*(n//2) is not (k*n)//2


def _monomial(factors: list[str | Atom]) -> str | Atom:
    """The canonical key of a product of factors: sorted, nested to the right."""
    ordered = sorted(factors, key=_key_text)
    key: str | Atom = ordered[-1]
    for f in reversed(ordered[:-1]):
        key = Atom("mul", Lin(((f, 1),), 0), Lin(((key, 1),), 0))
    return key


def multiply(a: Lin, b: Lin) -> Lin:
    """``a * b`` expanded: a sum of monomials (``k*(m+1)`` is ``k*m + k``)."""
    out: dict[str | Atom, int] = {}
    for k, c in a.terms:
        out[k] = out.get(k, 0) + c * b.const
    for k, c in b.terms:
        out[k] = out.get(k, 0) + c * a.const
    for ka, ca in a.terms:
        for kb, cb in b.terms:
            m = _monomial([*_factors(ka), *_factors(kb)])
            out[m] = out.get(m, 0) + ca * cb
    return Lin(_norm(out), a.const * b.const)


def floordiv(a: Lin, d: int) -> Lin:
    """``a // d`` for a constant ``d > 0``, with every whole multiple of ``d`` pulled out:
    ``(d*q + r)//d == q + r//d`` for integer sizes, so ``(n+2)//2`` is ``n//2 + 1``."""
    if d == 1:
        return a
    whole: dict[str | Atom, int] = {}
    rest: dict[str | Atom, int] = {}
    for k, c in a.terms:
        q, r = divmod(c, d)
        if q:
            whole[k] = q
        if r:
            rest[k] = r
    q, r = divmod(a.const, d)
    out = Lin(_norm(whole), q)
    if not rest:
        return out  # 0 <= r < d: r//d == 0
    inner = Lin(_norm(rest), r)
    (k0, c0), *others = inner.terms
    if not others and c0 == 1 and r == 0 and isinstance(k0, Atom) and k0.op == "floordiv" and k0.right.is_const:
        return out + floordiv(k0.left, k0.right.const * d)  # (x//a)//b == x//(a*b)
    return out + Lin(((Atom("floordiv", inner, Lin.fixed(d)), 1),), 0)


def power(base: Lin, exponent: Lin) -> Lin:
    """``base ** exponent``: a number, a product (``n**2`` is ``n*n``), or a power of a constant
    base whose exponent is not known (``2**p``)."""
    if exponent.is_const and exponent.const >= 0:
        if base.is_const and (abs(base.const) < 2 or exponent.const * abs(base.const).bit_length() <= 4096):
            return Lin.fixed(base.const**exponent.const)  # not folded past 4096 bits: kept as written
        if exponent.const <= 16:
            out = Lin.fixed(1)
            for _ in range(exponent.const):
                out = multiply(out, base)
            return out
    return Lin(((Atom("pow", base, exponent), 1),), 0)


def opaque_powers(term: Lin) -> tuple[list[Atom], list[str]]:
    """The powers with an unknown exponent in ``term`` (``2**p``), and the variables used
    outside them: a body check gives each such power a size of its own."""
    powers: list[Atom] = []
    outside: list[str] = []
    for key, _ in term.terms:
        for factor in _factors(key):
            if isinstance(factor, Atom) and factor.op == "pow":
                powers.append(factor)
            else:
                outside.extend([factor] if isinstance(factor, str) else factor.vars())
    return powers, outside


def exact_log(value: int, base: int) -> int | None:
    """``e`` with ``base**e == value`` (``value`` a power of ``base``), else None."""
    if base < 2 or value < 1:
        return None
    e = 0
    while value % base == 0:
        value //= base
        e += 1
    return e if value == 1 else None


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
        if isinstance(node.op, ast.Pow) and (
            (right.is_const and right.const >= 0) or (left.is_const and left.const >= 2 and right.is_affine)
        ):
            return Atom("pow", left, right).simplify()  # n**2, or 2**p
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
            names.update(expr_names(item.text))
        elif isinstance(item, Variadic) and item.name is not None:
            names.add(item.name)
    return names


def expr_names(text: str, *, called: bool = True) -> set[str]:
    """The names an axis expression uses; without ``called``, not those it calls (``max``)."""
    tree = _parsed(text)
    if tree is None:
        return set()
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    if not called:
        names -= {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return names


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> ast.expr | None:
    """An axis expression as a Python expression (its leading ``#*?_`` markers aside), or None
    when it is not one; parsed once per text (a call may evaluate it on every check)."""
    try:
        return ast.parse(text.lstrip("#*?_"), mode="eval").body
    except SyntaxError:
        return None


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
    label: str | None = None  # how to name what ``variable`` stands in, when that is an expression (``2*k``)


@dataclasses.dataclass(frozen=True)
class SizeConstraint:
    """What a signature implies about sizes: ``term >= 0``, ``term % modulus == 0``, or, with
    ``modulus == 0``, ``term == 0`` (two sizes the wiring needs equal, which only data can tell)."""

    term: Lin
    modulus: int | None
    origin: str  # the port or edge that implies it

    def holds(self, value: int) -> bool:
        if self.modulus is None:
            return value >= 0
        return value == 0 if self.modulus == 0 else value % self.modulus == 0

    @property
    def sides(self) -> tuple[Lin, Lin]:
        """An equality ``term == 0`` as two sides: the positive terms, and the negated rest."""
        left = Lin(tuple((k, c) for k, c in self.term.terms if c > 0), max(self.term.const, 0))
        return left, left - self.term

    def describe(self, name: Callable[[str], str] = str) -> str:
        text = self.term.render(name)
        if self.modulus is None:
            return f"{text} >= 0"
        if self.modulus == 0:
            left, right = self.sides
            return f"{left.render(name)} = {right.render(name)}"
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
        var = _first_var(expected, self) or _first_var(found, self)
        other = self.origin.get(var) if var else None
        conflict = self._conflict(expected, e, f, var, other, origin)
        if conflict is not None:
            if var is not None and _first_var(expected, self) == var and expected != Lin.var(var):
                conflict.label = expected.render(self.name)  # the expression, not its first variable
        return conflict

    def _conflict(
        self, expected: Lin, e: Lin, f: Lin, var: str | None, other: str | None, origin: str
    ) -> Conflict | None:
        """Unify the resolved terms ``e`` (expected) and ``f`` (found); the conflict, if any."""
        diff = e - f
        keys = tuple(sorted(set(diff.vars())))
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
        pows: list[tuple[Atom, int]] = [
            (k, c) for k, c in diff.terms if isinstance(k, Atom) and k.op == "pow" and c in (1, -1)
        ]
        if pows and len(pows) == len(diff.terms) <= 2:
            solved = self._solve_powers(pows, diff.const, origin)
            if solved is not False:
                if solved is None:
                    return None
                return dataclasses.replace(
                    solved, expected=self.render(e), found=self.render(f), variable=var, other_origin=other, keys=keys
                )
        if flexible or any(k not in self.rigid for k in diff.vars()):
            # reported unverified once; an edge that relies on the same equality says nothing more
            text, negated = diff.render(), diff.scale(-1).render()
            if text in self.assumed or negated in self.assumed:
                return None
            self.assumed.add(text)
            shown = self.render(e), self.render(f)  # as written, before the atom is remembered as equal
            atoms = [(k, c) for k, c in diff.terms if isinstance(k, Atom) and c in (1, -1)]
            if len(atoms) == 1 and not set(atoms[0][0].vars()) <= self.rigid:
                atom, coef = atoms[0]  # remembered as equal, so later edges are checked against it
                self.dims[atom_key(atom)] = (diff - Lin(((atom, coef),), 0)).scale(-coef)
            return Conflict("unverifiable", *shown, var, other, keys=keys)
        # only rigid sizes (the pipeline's, or made up by a call)
        if not diff.is_affine and not any(k in self.existential for k in diff.vars()):
            verdict = self._decide(diff)
            if verdict == "equal":
                return None
            if verdict == "sometimes":  # true for some sizes: said before data, checked on it
                text, negated = diff.render(), diff.scale(-1).render()
                if text not in self.assumed and negated not in self.assumed:
                    self.assumed.add(text)
                    self.constraints.append(SizeConstraint(diff, 0, origin))
                    return Conflict(
                        "unverifiable",
                        self.render(e),
                        self.render(f),
                        var,
                        other,
                        "equal for some sizes only: checked on the data of each call",
                        keys,
                    )
                return None
        # the signatures call them independent (written differently, they differ for every size tried)
        kind = "fixed" if e.is_const or f.is_const else "variable"
        return Conflict(kind, self.render(e), self.render(f), var, other, keys=keys)

    def _solve_powers(
        self, pows: Sequence[tuple[Atom, int]], const: int, origin: str
    ) -> Conflict | Literal[False] | None:
        """``b**x == N`` binds ``x`` to the exact logarithm (or is a conflict: N is no power of
        b); ``b**x == b**y`` unifies the exponents. False: not a relation of that form."""
        atom, coef = pows[0]
        base = atom.left.const if atom.left.is_const else None
        if base is None:
            return False
        if len(pows) == 1:
            target = -const * coef  # coef * b**x + const == 0
            exponent = exact_log(target, base)
            if exponent is None:
                return Conflict("divisibility", "", "", detail=f"{target} is not a power of {base}")
            return self.unify_term(Lin.fixed(exponent), atom.right, origin)
        other, other_coef = pows[1]
        if const or other_coef != -coef or other.left != atom.left:
            return False
        return self.unify_term(other.right, atom.right, origin)

    def _decide(self, diff: Lin) -> str:
        """Whether ``diff == 0`` holds for the sizes of the pipeline's signature: ``"equal"``
        (proven, known multiples taken into account: ``2*(n//2) == n`` for an even ``n``),
        ``"never"`` (nonzero for every size tried, or for some sizes when it relates several
        independent ones) or ``"sometimes"`` (a property of one size: ``n*n == n``)."""
        names = sorted(set(diff.vars()))
        multiples: dict[str, Lin] = {}
        for c in self.constraints:
            term = self.resolve(c.term)
            if c.modulus and len(term.terms) == 1 and term.terms[0][1] == 1 and not term.const:
                key = term.terms[0][0]
                if isinstance(key, str) and key in names:
                    multiples[key] = Lin(((f"{key}'multiple", c.modulus),), 0)  # n == d*j
        if not diff.substitute(multiples.get).terms and not diff.substitute(multiples.get).const:
            return "equal"
        checks = [c for c in self.constraints if set(self.resolve(c.term).vars()) <= set(names)]
        zero = nonzero = 0
        for values in _samples(names):
            fixed = {k: Lin.fixed(v) for k, v in values.items()}
            if any(not c.holds(self.resolve(c.term).substitute(fixed.get).const) for c in checks):
                continue
            value = diff.substitute(fixed.get)
            if not value.is_const:
                return "sometimes"
            zero, nonzero = zero + (value.const == 0), nonzero + (value.const != 0)
        if nonzero and (not zero or len(names) > 1):
            return "never"  # (sizes the signature calls independent are not made equal by a coincidence)
        return "sometimes"

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


_SAMPLE_SIZES: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 24, 30, 64, 97, 210)


def _samples(names: Sequence[str]) -> list[dict[str, int]]:
    """Sizes to try a relation at: every combination for one or two sizes, a spread beyond."""
    if len(names) <= 2:
        grid = [dict(zip(names, combo, strict=True)) for combo in itertools.product(_SAMPLE_SIZES, repeat=len(names))]
        return grid
    count = len(_SAMPLE_SIZES)
    return [{n: _SAMPLE_SIZES[(i * (j + 1) + j) % count] for j, n in enumerate(names)} for i in range(count * 8)]


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
    return _parsed(text) is not None


def divides_by_zero(text: str) -> bool:
    """Whether an axis expression divides (``//``, ``%``, ``/``) by a constant that is zero."""
    tree = _parsed(text)
    return tree is not None and any(
        isinstance(node, ast.BinOp)
        and isinstance(node.op, (ast.FloorDiv, ast.Mod, ast.Div))
        and _constant(node.right) == 0
        for node in ast.walk(tree)
    )


def evaluate_size(text: str, size: Callable[[str], int | None]) -> int | None:
    """The value of an axis expression the size algebra does not represent (``n**m``,
    ``n-n%4``, ``max(n, 1)``) once every size it names is known (``size(name)``), as jaxtyping
    evaluates it; None when a size is unknown or the expression is not whole-number arithmetic."""
    tree = _parsed(text)
    if tree is None:
        return None
    ops: dict[type[ast.operator], Callable[[int, int], int]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.FloorDiv: lambda a, b: a // b,
        ast.Mod: lambda a, b: a % b,
        ast.Pow: lambda a, b: a**b,
    }

    def value(node: ast.expr) -> int | None:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            return size(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = value(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            left, right = value(node.left), value(node.right)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.FloorDiv | ast.Mod) and right == 0:
                return None
            if isinstance(node.op, ast.Pow) and (right < 0 or right > 64 or abs(left) > 2**32):
                return None  # a whole number of a size an array can have, computed cheaply
            return ops[type(node.op)](left, right)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("min", "max")
            and node.args
            and not node.keywords
        ):
            args = [value(a) for a in node.args]
            if any(a is None for a in args):
                return None
            known = [a for a in args if a is not None]
            return min(known) if node.func.id == "min" else max(known)
        return None

    return value(tree)


def divides_truly(text: str) -> bool:
    """Whether an axis expression uses true division (``n/2``), which gives no whole size."""
    tree = _parsed(text)
    return tree is not None and any(
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) for node in ast.walk(tree)
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
