"""Random typedml programs for fuzzing the builder: well-typed pipelines and single mutations.

A :class:`Program` is a small module (stages, optional inner pipelines, one ``main`` pipeline)
kept as data and rendered to Python source, so a failing example prints as code that can be
pasted into a file. :func:`programs` draws well-typed ones: random signatures with shared
shape variables and fixed sizes, concrete units and unit variables, conversions on edges
(``m`` into a ``km`` port), reductions, products, pipelines nested in pipelines, and the size
forms: an axis named after a static ``int`` parameter (``repeat(x, m=3) -> "... m"``), doubled
and halved axes (``"2*a"``), and output axes no input determines (a fresh size per call).
:func:`mutations` draws one program plus a single change that makes it ill-typed (a unit of
another dimension, a size, a dropped axis, a dtype) and the diagnostic it must produce.
"""

from __future__ import annotations

import dataclasses
import hashlib
import linecache
from typing import Any

from hypothesis import strategies as st

import typedml as tm

FAMILIES: tuple[tuple[str, ...], ...] = (
    ("m", "km", "mm"),
    ("s", "ms", "min"),
    ("V", "mV"),
    ("kg", "g"),
    ("",),
)
PIPELINE_VARS = ("n", "k")
FIXED = 3
LOCAL_NAMES = "abcdefgh"


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    dims: tuple[str, ...]  # the stage's own axis names and sizes
    unit: str  # a concrete unit, "" (dimensionless) or an expression of unit variables
    dtype: str = "Float"

    def annotation(self) -> str:
        return f'Q[{self.dtype}[Array, "{" ".join(self.dims)}"], "{self.unit}"]'


@dataclasses.dataclass(frozen=True)
class StageDef:
    name: str
    params: tuple[Param, ...]
    result: Param
    body: str
    static: str = ""  # e.g. "m: int = 2"

    def source(self) -> str:
        params = ", ".join(
            [*(f"{p.name}: {p.annotation()}" for p in self.params), *([self.static] if self.static else [])]
        )
        return f"@tm.stage\ndef {self.name}({params}) -> {self.result.annotation()}:\n    return {self.body}\n"


@dataclasses.dataclass(frozen=True)
class InnerDef:
    """A pipeline that calls one stage, called in turn by ``main``."""

    name: str
    param: Param
    result: Param
    stage: str

    def source(self) -> str:
        return (
            f"@tm.pipeline\ndef {self.name}({self.param.name}: {self.param.annotation()}) -> "
            f"{self.result.annotation()}:\n    return {self.stage}({self.param.name})\n"
        )


@dataclasses.dataclass(frozen=True)
class Value:
    """A value inside ``main``: its pipeline-level shape (variables, sizes) and concrete unit."""

    name: str
    shape: tuple[str, ...]
    unit: str


@dataclasses.dataclass(frozen=True)
class Program:
    stages: tuple[StageDef, ...]
    inners: tuple[InnerDef, ...]
    inputs: tuple[Param, ...]
    calls: tuple[tuple[str, str, tuple[str, ...]], ...]  # (result, callee, arguments)
    output: Param
    returned: str
    values: tuple[Value, ...] = ()  # every value in main: inputs, then call results

    def source(self) -> str:
        # postponed annotations: a malformed jaxtyping shape reaches typedml, not the def statement
        head = "from __future__ import annotations\n\nimport jax.numpy as jnp\nfrom jaxtyping import Array, Bool, Float, Int, Shaped\nimport typedml as tm\nfrom typedml import Q\n"
        parts = [head, *(s.source() for s in self.stages), *(i.source() for i in self.inners)]
        params = ", ".join(f"{p.name}: {p.annotation()}" for p in self.inputs)
        body = "".join(f"    {r} = {c}({', '.join(args)})\n" for r, c, args in self.calls)
        parts.append(
            f"@tm.pipeline\ndef main({params}) -> {self.output.annotation()}:\n{body}    return {self.returned}\n"
        )
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return "Program(\n" + self.source() + ")"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def build(self) -> Any:
        """Define the program's stages and pipelines; returns ``main``."""
        source = self.source()
        filename = f"<fuzz-{hashlib.sha1(source.encode()).hexdigest()[:12]}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict[str, Any] = {"__name__": filename}
        exec(compile(source, filename, "exec"), namespace)
        return namespace["main"]

    def param_at(self, owner: str, param: str) -> Param:
        """The annotation of port ``param`` of stage or inner pipeline ``owner`` (``main``'s output: "output")."""
        if owner == "output":
            return self.output
        for s in self.stages:
            if s.name == owner:
                return next(p for p in s.params if p.name == param)
        return next(i.param for i in self.inners if i.name == owner)

    def with_param(self, owner: str, param: str, new: Param) -> Program:
        """This program with the annotation of one port replaced."""
        if owner == "output":
            return dataclasses.replace(self, output=new)
        stages = tuple(
            dataclasses.replace(s, params=tuple(new if (s.name == owner and p.name == param) else p for p in s.params))
            for s in self.stages
        )
        inners = tuple(dataclasses.replace(i, param=new) if i.name == owner else i for i in self.inners)
        return dataclasses.replace(self, stages=stages, inners=inners)


def _family(unit: str) -> tuple[str, ...]:
    return next((f for f in FAMILIES if unit in f), (unit,))


def _unit_product(a: str, b: str) -> str:
    ureg = tm.get_registry()
    return format(ureg.Unit(a or "dimensionless") * ureg.Unit(b or "dimensionless"), "~").replace(" ", "")


def _unit_power(a: str, p: int) -> str:
    return format(tm.get_registry().Unit(a or "dimensionless") ** p, "~").replace(" ", "")


def _local_dims(shape: tuple[str, ...]) -> tuple[str, ...]:
    """The stage's own names for a pipeline-level shape (fixed sizes stay sizes)."""
    names: dict[str, str] = {}
    out: list[str] = []
    for axis in shape:
        if axis.isdigit():
            out.append(axis)
        else:
            out.append(names.setdefault(axis, LOCAL_NAMES[len(names)]))
    return tuple(out)


def _doubled(axis: str) -> str:
    """The pipeline-level size of an axis twice as long."""
    if axis.isdigit():
        return str(2 * int(axis))
    return f"2*{axis}" if "*" not in axis else f"2*({axis})"


def _size_code(axis: str) -> str:
    """The code that a wrong fixed size (7, or FIXED+1) on an axis of this pipeline-level size gets."""
    if axis.isdigit():
        return "TM103"
    if axis.startswith("2*"):
        return "TM120"  # 7 is not a multiple of 2
    return "TM105"


@st.composite
def _shape(draw: st.DrawFn) -> tuple[str, ...]:
    return tuple(draw(st.lists(st.sampled_from((*PIPELINE_VARS, str(FIXED))), min_size=1, max_size=2)))


@st.composite
def programs(draw: st.DrawFn, max_calls: int = 4) -> Program:
    """A well-typed program: ``main`` checks clean and runs on any valid input."""
    n_inputs = draw(st.integers(1, 3))
    inputs: list[Param] = []
    values: list[Value] = []
    for i in range(n_inputs):
        shape = draw(_shape())
        unit = draw(st.sampled_from(draw(st.sampled_from(FAMILIES))))
        inputs.append(Param(f"i{i}", shape, unit))
        values.append(Value(f"i{i}", shape, unit))
    unused = [v.name for v in values]
    stages: list[StageDef] = []
    inners: list[InnerDef] = []
    calls: list[tuple[str, str, tuple[str, ...]]] = []
    n_calls = draw(st.integers(1, max_calls))
    c = -1
    while c + 1 < n_calls or unused:  # every input is used by some call
        c += 1
        # consume inputs not used yet first, so no input is left dangling
        first = next((v for v in values if v.name in unused), None) or draw(st.sampled_from(values[::-1]))
        kind = draw(st.sampled_from(("convert", "power", "product", "reduce", "nested", "sizes")))
        if kind == "sizes":  # the size forms: static-named, doubled, halved, made-up
            kind = draw(st.sampled_from(("repeat", "double", "halve", "fresh")))
        partners = [v for v in values if v.shape == first.shape and v.name != first.name]
        if (
            (kind == "product" and not partners)
            or (kind in ("reduce", "double") and not first.shape)
            or (kind == "halve" and not (first.shape and first.shape[0].startswith("2*")))
            or (kind == "repeat" and len(first.shape) > 2)
        ):
            kind = "convert"
        name = f"s{c}"
        dims = _local_dims(first.shape)
        result_name = f"v{c}"
        args: tuple[str, ...] = (first.name,)
        if kind in ("convert", "nested"):
            unit = draw(st.sampled_from(_family(first.unit)))
            stage = StageDef(name, (Param("x", dims, unit),), Param("return", dims, unit), "x * 2.0")
            result = Value(result_name, first.shape, unit)
        elif kind == "power":
            power = draw(st.sampled_from((1, 2)))
            out_unit = "'u" if power == 1 else "'u**2"
            stage = StageDef(
                name, (Param("x", dims, "'u"),), Param("return", dims, out_unit), "x * x" if power == 2 else "x + x"
            )
            result = Value(result_name, first.shape, _unit_power(first.unit, power))
        elif kind == "product":
            second = draw(st.sampled_from(partners))
            args = (first.name, second.name)
            if draw(st.booleans()):
                ux, uy = "'u", "'v"
                out_unit, actual = "'u*'v", _unit_product(first.unit, second.unit)
            else:
                ux, uy = draw(st.sampled_from(_family(first.unit))), draw(st.sampled_from(_family(second.unit)))
                out_unit = actual = _unit_product(ux, uy)
            stage = StageDef(
                name, (Param("x", dims, ux), Param("y", dims, uy)), Param("return", dims, out_unit), "x * y"
            )
            result = Value(result_name, first.shape, actual)
            if second.name in unused:
                unused.remove(second.name)
        elif kind == "repeat":  # an axis named after a static int parameter takes the call's value
            stage = StageDef(
                name,
                (Param("x", dims, "'u"),),
                Param("return", (*dims, "m"), "'u"),
                "jnp.repeat(x[..., None], m, axis=-1)",
                "m: int = 2",
            )
            args = (first.name, f"m={FIXED}")
            result = Value(result_name, (*first.shape, str(FIXED)), first.unit)
        elif kind == "double":
            stage = StageDef(
                name,
                (Param("x", dims, "'u"),),
                Param("return", (f"2*{dims[0]}", *dims[1:]), "'u"),
                "jnp.concatenate([x, x], axis=0)",
            )
            result = Value(result_name, (_doubled(first.shape[0]), *first.shape[1:]), first.unit)
        elif kind == "halve":
            inner = first.shape[0][2:].strip("()")
            local = _local_dims((inner, *first.shape[1:]))
            stage = StageDef(
                name,
                (Param("x", (f"2*{local[0]}", *local[1:]), "'u"),),
                Param("return", local, "'u"),
                "x.reshape((2, -1) + x.shape[1:]).sum(axis=0)",
            )
            result = Value(result_name, (inner, *first.shape[1:]), first.unit)
        elif kind == "fresh":  # an output axis no input determines: a fresh size per call
            stage = StageDef(name, (Param("x", dims, "'u"),), Param("return", ("u",), "'u"), "x.reshape(-1)[:1]")
            result = Value(result_name, (f"u{c}",), first.unit)
        else:  # reduce over the first axis
            stage = StageDef(name, (Param("x", dims, "'u"),), Param("return", dims[1:], "'u"), "x.sum(axis=0)")
            result = Value(result_name, first.shape[1:], first.unit)
        stages.append(stage)
        callee = name
        if kind == "nested":
            inner_dims = tuple(d if d.isdigit() else d.upper() * 2 for d in _local_dims(first.shape))
            inner_in = draw(st.sampled_from(_family(first.unit)))
            inner_out = draw(st.sampled_from(_family(first.unit)))
            callee = f"inner{c}"
            inners.append(
                InnerDef(callee, Param("x", inner_dims, inner_in), Param("return", inner_dims, inner_out), name)
            )
            result = Value(result_name, first.shape, inner_out)
        calls.append((result_name, callee, args))
        if first.name in unused:
            unused.remove(first.name)
        values.append(result)
    last = values[-1]
    output_unit = draw(st.sampled_from(_family(last.unit)))
    return Program(
        tuple(stages),
        tuple(inners),
        tuple(inputs),
        tuple(calls),
        Param("return", last.shape, output_unit),
        last.name,
        tuple(values),
    )


@dataclasses.dataclass(frozen=True)
class Mutation:
    """A program made ill-typed by one change, and the diagnostic that must report it."""

    program: Program
    kind: str
    stage: str
    port: str
    code: str

    def __repr__(self) -> str:
        return f"Mutation({self.kind} on {self.stage}.{self.port}, expect {self.code},\n{self.program!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def _sites(program: Program) -> dict[tuple[str, str], Value]:
    """Every annotated port a value flows into, with that value: stage and inner-pipeline
    inputs (a stage inside an inner pipeline receives the inner pipeline's input) and main's
    output (keyed ``("output", "return")``)."""
    values = {v.name: v for v in program.values}
    inners = {i.name: i for i in program.inners}
    found: dict[tuple[str, str], Value] = {}
    for _, callee, args in program.calls:
        if callee in inners:
            inner = inners[callee]
            found[(callee, "x")] = values[args[0]]
            found[(inner.stage, "x")] = Value("x", inner.param.dims, inner.param.unit)
            continue
        stage = next(s for s in program.stages if s.name == callee)
        for param, arg in zip(stage.params, args, strict=False):  # static arguments follow the ports
            found[(callee, param.name)] = values[arg]
    found[("output", "return")] = values[program.returned]
    return found


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    """A well-typed program with one port annotation changed so that its edge is ill-typed."""
    program = draw(programs())
    flows = _sites(program)
    owner, port = draw(st.sampled_from(sorted(flows)))
    param = program.param_at(owner, port)
    value = flows[(owner, port)]
    kinds = ["size", "axis", "dtype"] if param.dims else ["dtype"]
    if not param.unit.startswith("'"):
        kinds.append("unit")
    kind = draw(st.sampled_from(kinds))
    if kind == "unit":
        others = [f for f in FAMILIES if value.unit not in f]
        new = dataclasses.replace(param, unit=draw(st.sampled_from(draw(st.sampled_from(others)))))
        code = "TM102"
    elif kind == "size":
        i = draw(st.integers(0, len(param.dims) - 1))
        fixed = value.shape[i].isdigit()
        dims = list(param.dims)
        dims[i] = str(int(value.shape[i]) + 1) if fixed else "7"
        new = dataclasses.replace(param, dims=tuple(dims))
        code = _size_code(value.shape[i])
    elif kind == "axis":
        i = draw(st.integers(0, len(param.dims) - 1))
        new = dataclasses.replace(param, dims=param.dims[:i] + param.dims[i + 1 :])
        code = "TM104"
    else:
        new = dataclasses.replace(param, dtype="Int")
        code = "TM101"
    stage = "output:return" if owner == "output" else owner
    return Mutation(program.with_param(owner, port, new), kind, stage, port, code)


# -- malformed annotations: anything may happen, but only as typedml's own errors ----------

ODD_UNITS = ("m/", "bogus", "'", "'u'v", "m**'u", "degC**2", "1/0", "", "dimensionless", "m s", "'u**0.5", "delta('u)")
ODD_DIMS = ("", "n+", "*a *b", "... n", "#n", "_ _", "n-5", "2*n", "a=3", "*#b n", "0", "n n", "((n)", "?n")


@st.composite
def garbled(draw: st.DrawFn) -> Program:
    """A well-typed program with one annotation replaced by a random, often malformed one."""
    program = draw(programs(max_calls=2))
    stage = draw(st.sampled_from(program.stages))
    param = draw(st.sampled_from(stage.params))
    new = dataclasses.replace(
        param,
        unit=draw(st.one_of(st.sampled_from(ODD_UNITS), st.just(param.unit))),
        dims=tuple(draw(st.sampled_from(ODD_DIMS)).split()) if draw(st.booleans()) else param.dims,
        dtype=draw(st.sampled_from(("Float", "Int", "Bool", "Shaped"))),
    )
    return program.with_param(stage.name, param.name, new)
