"""A signature's inputs as abstract values: what the body check evaluates a body on.

Each axis of a stage's inputs gets a symbol (:class:`Symbols`); the inputs become
``jax.ShapeDtypeStruct`` values whose sizes are JAX symbolic dimensions, constrained by what
the signature implies (``n-2`` means ``n >= 2``), or distinct primes where symbolic evaluation
cannot decide. :class:`AbstractInputs` is that half of the body checker
(:mod:`typedml._body`); :func:`abstract_inputs_at` gives the inputs at given sizes (what
``pipeline.cost`` and stage budgets compile at).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jax import export

from ._shapes import Anon, Atom, Dim, Lin, Variadic, atom_key, opaque_powers
from ._spec import Spec, static_sizes

__all__ = [
    "AbstractInputs",
    "Impossible",
    "Size",
    "Skip",
    "Symbols",
    "Unknown",
    "abstract_inputs_at",
    "lin_value",
    "names_of",
]

Size = Any  # an int, or a JAX symbolic dimension expression

_RESERVED = frozenset({"max", "min", "mod", "floordiv", "non_negative"})  # functions to JAX's shape parser
_PREFERRED_DTYPES = ("float32", "int32", "uint32", "bool", "complex64")


@functools.lru_cache(maxsize=512)
def _symbolic_dims(names: tuple[str, ...], constraints: tuple[str, ...] = ()) -> tuple[Size, ...]:
    """JAX symbolic dimensions for ``names``, the same objects for the same names.

    Reusing them lets JAX's own caches (each ``jnp`` function is a small jitted function)
    hit across stages whose axes have the same names: checking many bodies costs much less.
    ``constraints`` (``"n >= 2"``) are what the signature implies about the sizes.
    """
    return tuple(export.symbolic_shape(", ".join(names), scope=export.SymbolicScope(constraints)))


class Skip(Exception):
    """The body cannot be checked at all: the reason becomes a TM350 warning."""


class Unknown(Exception):
    """An axis expression typedml cannot evaluate."""


class Impossible(Unknown):
    """An axis expression no array can have at these sizes: it divides by zero, or is far
    larger than any array axis (``2**p`` at ``p = 10**10``). The reason is the message."""


_MAX_BITS = 64  # no array axis has a size of 2**64 or more


def _power(base: Size, exponent: Size, text: str) -> Size:
    """``base ** exponent`` for a size, refusing what it cannot compute quickly and exactly."""
    if not isinstance(exponent, int) or exponent < 0:
        raise Unknown(text)  # a symbolic or negative exponent
    if isinstance(base, int):
        if abs(base) >= 2 and exponent * (abs(base).bit_length() - 1) >= _MAX_BITS:
            raise Impossible(f"{text} is at least 2**{_MAX_BITS}, larger than any array axis")
        return base**exponent
    if exponent > _MAX_BITS:
        raise Unknown(text)  # a symbolic base (0, 1 or large) to a large power
    return functools.reduce(lambda a, _: a * base, range(exponent - 1), base) if exponent else 1


def _divide(left: Size, right: Size, op: str, text: str) -> Size:
    if isinstance(right, int) and right == 0:
        raise Impossible(f"{text} divides by zero")
    return left // right if op == "floordiv" else left % right


@dataclasses.dataclass
class Symbols:
    """The symbols standing for a stage's axes, and how to show them with the stage's names."""

    dims: dict[str, str] = dataclasses.field(default_factory=dict[str, str])  # shape var -> symbol
    seqs: dict[str, str] = dataclasses.field(default_factory=dict[str, str])  # *name -> symbol
    anons: list[str] = dataclasses.field(default_factory=list[str])  # one per `_` or `...` in the inputs
    alone: dict[str, str] = dataclasses.field(default_factory=dict[str, str])  # symbol -> text as a whole axis
    inline: dict[str, str] = dataclasses.field(default_factory=dict[str, str])  # symbol -> text inside an expression

    def add(self, name: str, alone: str, inline: str) -> str:
        taken = set(self.alone)
        symbol = name if name.isidentifier() and not name.startswith("_") and name not in _RESERVED else "_v"
        if symbol in taken or symbol == "_v":
            symbol = next(f"_v{i}" for i in range(len(taken) + 1) if f"_v{i}" not in taken)
        self.alone[symbol] = alone
        self.inline[symbol] = inline
        return symbol

    def rename(self, text: str) -> str:
        """JAX's text of an expression, with the stage's own names."""
        if not self.inline:
            return text
        pattern = r"\b(" + "|".join(re.escape(s) for s in sorted(self.inline, key=len, reverse=True)) + r")\b"
        return re.sub(pattern, lambda m: self.inline[m[1]], text)


class AbstractInputs:
    """The inputs half of the body checker: a symbol per axis, and inputs built at given sizes."""

    def __init__(self, spec: Spec, static: dict[str, Any], pytrees: dict[str, Any]) -> None:
        self.spec = spec
        self.static = static
        self.pytrees = pytrees
        self.symbols = Symbols()
        self.notes: list[str] = []  # added to every diagnostic of this stage
        self.sizes: dict[str, int] = {}  # symbol -> prime, when checked at concrete sizes only
        # axes named like a static int parameter: the call's value, not a symbol
        self.fixed: dict[str, int] = static_sizes(spec, spec.defaults | static)
        self._lookup: tuple[Mapping[str, Size], dict[str, Size]] | None = None  # env -> sizes by axis name
        self.powers: dict[str, Atom] = {}  # symbol -> the power with an unknown exponent it stands for

    def _static_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for param in self.spec.static:
            if param.name in self.static:
                kwargs[param.name] = self.static[param.name]
            elif param.name in self.spec.defaults:
                kwargs[param.name] = self.spec.defaults[param.name]
            else:
                raise Skip(f"static parameter {param.name!r} has no default (check it in a pipeline that sets it)")
        for port in self.spec.inputs:
            if port.type is None and port.name not in self.pytrees:
                raise Skip(f"input {port.name!r} is a pytree value whose structure is not known here")
        return kwargs

    def _collect_symbols(self) -> None:
        s = self.symbols
        for port in self.spec.inputs:
            for item in port.type.dims if port.type is not None else ():
                if isinstance(item, Variadic):
                    if item.name is None:
                        s.anons.append(s.add("_", "...", "_"))
                    elif item.name not in s.seqs:
                        s.seqs[item.name] = s.add(item.name, f"*{item.name}", item.name)
                elif isinstance(item, Anon):
                    s.anons.append(s.add("_", "_", "_"))
                else:
                    names = names_of(item)
                    if item.term is not None:
                        powers, names = opaque_powers(item.term.substitute(self._fixed_terms().get))
                        for atom in powers:  # 2**p: a size of its own (JAX has no symbolic powers)
                            text = atom.render(str)
                            if atom_key(atom) not in s.dims:
                                s.dims[atom_key(atom)] = s.add("_", text, f"({text})")
                                self.powers[s.dims[atom_key(atom)]] = atom
                    for name in names:
                        if name not in s.dims and name not in self.fixed:
                            s.dims[name] = s.add(name, name, name)
        seqs = sorted(self.symbols.seqs) + (["..."] if any(a == "..." for a in s.alone.values()) else [])
        if seqs:
            shown = ", ".join(n if n == "..." else f"*{n}" for n in seqs)
            self.notes.append(f"variadic axes checked with one axis each: {shown}")

    def _fixed_terms(self) -> dict[str, Lin]:
        return {k: Lin.fixed(v) for k, v in self.fixed.items()}

    def _symbolic_env(self) -> dict[str, Size]:
        names = list(self.symbols.alone)
        if not names:
            return {}
        try:
            dims = _symbolic_dims(tuple(names), self._constraints())
        except Exception:  # noqa: BLE001 - a constraint JAX cannot parse: check without constraints
            dims = _symbolic_dims(tuple(names))
        return dict(zip(names, dims, strict=True))

    def _constraints(self) -> tuple[str, ...]:
        """What the signature implies about sizes: an axis declared ``n-2`` means ``n >= 2``.

        Without them JAX cannot simplify ``max(0, n - 2)`` (what ``x[:-2]`` has) to ``n - 2``.
        """
        found: list[str] = []
        for term in self._implied():
            lhs = " + ".join(
                f"{c}*{self.symbols.dims[v]}" if c != 1 else self.symbols.dims[v]
                for v, c in term.terms
                if isinstance(v, str)
            )
            found.append(f"{lhs} >= {-term.const}")
        return tuple(sorted(set(found)))

    def _implied(self) -> list[Lin]:
        """Declared axis terms that are not obviously sizes (``n-2``): each must be ``>= 0``."""
        found: list[Lin] = []
        fixed = {k: Lin.fixed(v) for k, v in self.fixed.items()}
        for port in (*self.spec.inputs, *self.spec.outputs):
            for item in port.type.dims if port.type is not None else ():
                term = item.term if isinstance(item, Dim) else None
                if term is None:
                    continue
                term = term.substitute(fixed.get)
                if not term.terms or not term.is_affine or term.at_least() >= 0:
                    continue
                if any(v not in self.symbols.dims for v in term.vars()):
                    continue
                found.append(term)
        return found

    def _prime_env(self) -> dict[str, Size]:
        """Distinct primes per axis, large enough for what the signature implies (``t-15``: t >= 15)."""
        fixed: set[int] = {0, 1}
        for port in (*self.spec.inputs, *self.spec.outputs):
            for item in port.type.dims if port.type is not None else ():
                if isinstance(item, Dim) and item.term is not None:
                    fixed.add(abs(item.term.const))
        primes = (p for p in _primes() if p not in fixed)
        self.sizes = {symbol: next(primes) for symbol in self.symbols.alone}
        implied = self._implied()
        for _ in range(64):
            by_name = {name: self.sizes[symbol] for name, symbol in self.symbols.dims.items()}
            broken = [t for t in implied if lin_value(t, by_name) < 0]
            if not broken:
                break
            for term in broken:
                short = -lin_value(term, by_name)
                for v, c in term.terms:
                    if isinstance(v, str) and c > 0:
                        symbol = self.symbols.dims[v]
                        floor = self.sizes[symbol] + -(-short // c)
                        taken = set(self.sizes.values())
                        self.sizes[symbol] = next(p for p in _primes() if p >= floor and p not in taken | fixed)
                        break
        for symbol, atom in self.powers.items():  # 2**p is a power of 2 (a prime would break reshapes)
            if atom.left.is_const and atom.left.const >= 2:
                taken = set(self.sizes.values()) - {self.sizes[symbol]}
                base = atom.left.const
                self.sizes[symbol] = next(base**e for e in range(3, 64) if base**e not in taken | fixed)
        return dict(self.sizes)

    def _inputs(self, env: dict[str, Size]) -> dict[str, Any]:
        """The body's inputs as abstract values with the sizes of ``env``."""
        inputs: dict[str, Any] = {}
        anons = iter(self.symbols.anons)
        for port in self.spec.inputs:
            if port.type is None:
                inputs[port.name] = self.pytrees[port.name]
                continue
            shape: list[Size] = []
            for item in port.type.dims:
                if isinstance(item, Variadic):
                    shape.append(env[next(anons) if item.name is None else self.symbols.seqs[item.name]])
                elif isinstance(item, Anon):
                    shape.append(env[next(anons)])
                else:
                    try:
                        shape.append(self._dim_value(item, env))
                    except Unknown:
                        raise Skip(f"cannot build input {port.name!r}: axis {item.text!r} is not supported") from None
            inputs[port.name] = jax.ShapeDtypeStruct(tuple(shape), _input_dtype(port.name, port.type.dtypes))
        return inputs

    def _dim_value(self, item: Dim, env: Mapping[str, Size], bound: Mapping[str, Size] | None = None) -> Size:
        cached = self._lookup
        if cached is None or cached[0] is not env:
            cached = self._lookup = (
                env,
                {name: env[symbol] for name, symbol in self.symbols.dims.items()} | dict(self.fixed),
            )
        lookup: dict[str, Size] = cached[1] | dict(bound) if bound else cached[1]
        if item.term is not None and not any(atom_key(a) in lookup for a in opaque_powers(item.term)[0]):
            try:  # the form the signature writes, which is what a body computes ((n+2)//2, not n//2+1)
                return _expr_value(ast.parse(item.text.lstrip("#?"), mode="eval").body, lookup)
            except (Unknown, SyntaxError):
                pass
        if item.term is not None:
            return lin_value(item.term, lookup)
        return _expr_value(ast.parse(item.text.lstrip("#?"), mode="eval").body, lookup)


def abstract_inputs_at(spec: Spec, sizes: Mapping[str, int]) -> dict[str, Any]:
    """A signature's array inputs as abstract values, every axis at its size in ``sizes``.

    A variadic axis (``*rest``) is one axis of its size; raises ``KeyError(axis)`` for an axis
    without a size (``"_"`` for an anonymous one) and ``ValueError`` for a pytree input.
    """
    checker = AbstractInputs(spec, {}, {})
    checker._collect_symbols()  # pyright: ignore[reportPrivateUsage]
    if checker.symbols.anons:
        raise KeyError("_")
    if any(p.type is None for p in spec.inputs):
        raise ValueError("pytree inputs have no shape to size")
    env: dict[str, Size] = {}
    for table in (checker.symbols.dims, checker.symbols.seqs):
        for name, symbol in table.items():
            env[symbol] = sizes[name]
    return checker._inputs(env)  # pyright: ignore[reportPrivateUsage]


def names_of(item: Dim) -> list[str]:
    if item.term is not None:
        return item.term.vars()
    try:
        tree = ast.parse(item.text.lstrip("#?"), mode="eval")
    except SyntaxError:
        return []
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})


def lin_value(term: Lin, lookup: Mapping[str, Size]) -> Size:
    value: Size = term.const
    for var, coef in term.terms:
        if isinstance(var, Atom):
            if atom_key(var) in lookup:  # a power with an unknown exponent: its own size
                value = value + coef * lookup[atom_key(var)]
                continue
            left, right = lin_value(var.left, lookup), lin_value(var.right, lookup)
            if var.op == "mul":
                value = value + coef * left * right
            elif var.op == "floordiv":
                value = value + coef * _divide(left, right, "floordiv", var.render(str))
            else:
                value = value + coef * _power(left, right, var.render(str))
            continue
        if var not in lookup:
            raise Unknown(var)
        value = value + coef * lookup[var]
    return value


_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
}


def _expr_value(node: ast.expr, lookup: Mapping[str, Size]) -> Size:
    """An axis expression (``n*n``, ``n//2``, ``n**2``) evaluated without ``eval``."""
    if isinstance(node, ast.Name) and node.id in lookup:
        return lookup[node.id]
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_expr_value(node.operand, lookup)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            base, exponent = _expr_value(node.left, lookup), _expr_value(node.right, lookup)
            return _power(base, exponent, ast.unparse(node))
        if isinstance(node.op, ast.FloorDiv | ast.Mod):
            left, right = _expr_value(node.left, lookup), _expr_value(node.right, lookup)
            op_name = "floordiv" if isinstance(node.op, ast.FloorDiv) else "mod"
            return _divide(left, right, op_name, ast.unparse(node))
        op = _BINOPS.get(type(node.op))
        if op is not None:
            return op(_expr_value(node.left, lookup), _expr_value(node.right, lookup))
    raise Unknown(ast.unparse(node))


def _input_dtype(name: str, dtypes: tuple[str, ...] | None) -> Any:
    if dtypes is None:
        return jnp.float32
    if dtypes == ("prng_key",):  # jaxtyping's Key: the dtype of a typed PRNG key array
        return _key_dtype()
    preferred = next((d for d in _PREFERRED_DTYPES if d in dtypes), dtypes[0])
    try:
        return jax.dtypes.canonicalize_dtype(jnp.dtype(preferred))
    except TypeError:
        raise Skip(f"input {name!r} has dtype {preferred}, which JAX cannot build") from None


@functools.cache
def _key_dtype() -> Any:
    return jax.eval_shape(jax.random.key, 0).dtype  # pyright: ignore[reportUnknownMemberType]


def _primes() -> Iterator[int]:
    n = 13  # large enough not to collide with the small constants bodies use (2, 3, 4, 10)
    while True:
        if all(n % p for p in range(2, int(n**0.5) + 1)):
            yield n
        n += 1
