"""A small layered layout for the HTML picture of a graph, computed in Python (no Graphviz).

Nodes go into topological layers, left to right (outputs in the last one; a node without
inputs just before its first consumer); an edge that skips a few layers passes through one
invisible point per layer it crosses, while a longer one is drawn straight to its target, so
the invisible points stay in proportion to the edges; each layer's order is improved by a few
barycentre sweeps to reduce crossings. Text is measured as monospace.

Every step is linear in the nodes, edges and invisible points (up to sorting each layer), so
a 5,000-stage graph lays out in about the time it takes to write its SVG
(``benchmarks/bench_layout.py`` measures the growth).
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
from collections.abc import Sequence

__all__ = ["Box", "Layout", "Route", "layout"]

CHAR_WIDTH = 7.3  # 12px monospace
LINE_HEIGHT = 15.0
PAD = 5.0
MARGIN = 24.0
V_GAP = 34.0
MIN_GAP = 70.0
MAX_ROUTED_SPAN = 6
"""An edge across more layers than this is drawn straight, without invisible points per layer."""


@dataclasses.dataclass
class Box:
    x: float
    y: float
    w: float
    h: float


@dataclasses.dataclass
class Route:
    path: str  # SVG path data
    label_at: tuple[float, float]  # centre of the label


@dataclasses.dataclass
class Layout:
    nodes: dict[str, Box]
    edges: list[Route]  # in the order given
    width: float
    height: float
    line_height: float = LINE_HEIGHT
    pad: float = PAD

    @staticmethod
    def text_size(lines: Sequence[str]) -> tuple[float, float]:
        return max((len(line) for line in lines), default=0) * CHAR_WIDTH + 2 * PAD, len(lines) * LINE_HEIGHT + 2 * PAD


def _layers(ids: list[str], edges: Sequence[tuple[str, str, object]], outputs: set[str]) -> dict[str, int]:
    preds: dict[str, list[str]] = {n: [] for n in ids}
    succs: dict[str, list[str]] = {n: [] for n in ids}
    for src, dst, _ in edges:
        preds[dst].append(src)
        succs[src].append(dst)
    indegree = {n: len(preds[n]) for n in ids}
    ready = collections.deque(n for n in ids if indegree[n] == 0)
    layer: dict[str, int] = {}
    while ready:
        node = ready.popleft()
        layer[node] = max((layer[p] + 1 for p in preds[node]), default=0)
        for s in succs[node]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    last = max(layer.values(), default=0)
    for node in ids:  # a cycle cannot be traced, but never loop forever on one
        if node not in layer:
            last += 1
            layer[node] = last
    for node in ids:  # a node without inputs sits just before its first consumer
        if not preds[node] and succs[node]:
            layer[node] = max(min(layer[s] for s in succs[node]) - 1, 0)
    if outputs:
        final = max([layer[n] for n in ids if n not in outputs] + [-1]) + 1
        for node in outputs:
            layer[node] = max(final, layer[node])
    return layer


def layout(
    nodes: Sequence[tuple[str, Sequence[str]]],
    edges: Sequence[tuple[str, str, Sequence[str]]],
    outputs: set[str] | None = None,
) -> Layout:
    """Place ``nodes`` (id, text lines) and route ``edges`` (source, target, label lines)."""
    ids = [n for n, _ in nodes]
    size = {n: Layout.text_size(lines) for n, lines in nodes}
    degree = {n: [0, 0] for n in ids}
    for src, dst, _ in edges:
        degree[src][1] += 1
        degree[dst][0] += 1
    # room for the rounded ends, and for several edges to meet a node apart
    size = {n: (max(w + h / 2, 90.0), max(h + 4, 18.0 * max(degree[n]) + 8)) for n, (w, h) in size.items()}
    layer = _layers(ids, edges, outputs or set())
    depth = max(layer.values(), default=0) + 1
    # chains of stops per edge: the source, one invisible point per crossed layer, the target
    chains: list[list[str]] = []
    for i, (src, dst, _) in enumerate(edges):
        chain = [src]
        if layer[dst] - layer[src] <= MAX_ROUTED_SPAN:
            for k in range(layer[src] + 1, layer[dst]):
                dummy = f"\0{i}:{k}"
                layer[dummy] = k
                size[dummy] = (0.0, 12.0)
                chain.append(dummy)
        chain.append(dst)
        chains.append(chain)
    columns: list[list[str]] = [[] for _ in range(depth)]
    for item in [*ids, *(d for c in chains for d in c[1:-1])]:
        columns[layer[item]].append(item)
    up: dict[str, list[str]] = {n: [] for n in layer}
    down: dict[str, list[str]] = {n: [] for n in layer}
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)
    # barycentre sweeps; positions are updated column by column, never recomputed whole
    position = {n: i for col in columns for i, n in enumerate(col)}
    for sweep in range(8):
        order = range(1, depth) if sweep % 2 == 0 else range(depth - 2, -1, -1)
        neighbours = up if sweep % 2 == 0 else down
        for k in order:

            def key(n: str, neighbours: dict[str, list[str]] = neighbours) -> float:
                near = neighbours[n]
                return sum(position[m] for m in near) / len(near) if near else float(position[n])

            columns[k] = sorted(columns[k], key=key)
            position.update((n, i) for i, n in enumerate(columns[k]))
    # label widths decide the gap after each column
    label_size = [Layout.text_size(lines) for _, _, lines in edges]
    gaps = [MIN_GAP] * depth
    for i, chain in enumerate(chains):
        k = layer[chain[0]]
        gaps[k] = max(gaps[k], label_size[i][0] + 36)
    col_w = [max((size[n][0] for n in col), default=0.0) for col in columns]
    col_x: list[float] = []
    x = MARGIN
    for k in range(depth):
        col_x.append(x)
        x += col_w[k] + gaps[k]
    width = x - gaps[-1] + MARGIN if depth else 2 * MARGIN
    heights = [sum(size[n][1] for n in col) + V_GAP * max(len(col) - 1, 0) for col in columns]
    tallest = max(heights, default=0.0)
    boxes: dict[str, Box] = {}
    for k, col in enumerate(columns):
        y = MARGIN + (tallest - heights[k]) / 2
        for n in col:
            w, h = size[n]
            boxes[n] = Box(col_x[k] + (col_w[k] - w) / 2, y, w, h)
            y += h + V_GAP
    # attachment points: spread along the right (left) side, ordered by where the edge goes
    outs: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    ins: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    for i, chain in enumerate(chains):
        for j in range(len(chain) - 1):
            outs[chain[j]].append((i, j))
            ins[chain[j + 1]].append((i, j + 1))
    out_y: dict[tuple[int, int], float] = {}
    in_y: dict[tuple[int, int], float] = {}
    for n, found in outs.items():
        box = boxes[n]
        found.sort(key=lambda ij: _centre(boxes[chains[ij[0]][ij[1] + 1]]))
        for r, ij in enumerate(found):
            out_y[ij] = box.y + box.h * (r + 1) / (len(found) + 1)
    for n, found in ins.items():
        box = boxes[n]
        found.sort(key=lambda ij: _centre(boxes[chains[ij[0]][ij[1] - 1]]))
        for r, ij in enumerate(found):
            in_y[ij] = box.y + box.h * (r + 1) / (len(found) + 1)
    routes: list[Route] = []
    in_gap: list[list[int]] = [[] for _ in range(depth)]  # the edges whose label sits after column k
    for i, chain in enumerate(chains):
        parts: list[str] = []
        first_mid: tuple[float, float] = (0.0, 0.0)
        for j in range(len(chain) - 1):
            a, b = boxes[chain[j]], boxes[chain[j + 1]]
            ka = layer[chain[j]]
            x0 = a.x + a.w if a.w else col_x[ka] + col_w[ka]
            y0 = out_y[(i, j)]
            x1 = b.x if b.w else col_x[ka + 1]
            y1 = in_y[(i, j + 1)]
            if j == 0:
                parts.append(f"M {x0:.1f} {y0:.1f}")
                first_mid = ((col_x[ka] + col_w[ka] + col_x[ka + 1]) / 2, (y0 + y1) / 2) if ka + 1 < depth else (x0, y0)
            elif not a.w:
                parts.append(f"L {x0:.1f} {y0:.1f}")
            dx = (x1 - x0) / 2
            parts.append(f"C {x0 + dx:.1f} {y0:.1f} {x1 - dx:.1f} {y1:.1f} {x1:.1f} {y1:.1f}")
        routes.append(Route(" ".join(parts), first_mid))
        in_gap[layer[chain[0]]].append(i)
    # labels in one gap must not overlap: push them apart, top to bottom
    for found in in_gap:
        found.sort(key=lambda i: routes[i].label_at[1])
        previous_bottom = -1e9
        for i in found:
            x_mid, y_mid = routes[i].label_at
            h = label_size[i][1]
            y_mid = max(y_mid, previous_bottom + h / 2 + 3)
            routes[i].label_at = (x_mid, y_mid)
            previous_bottom = y_mid + h / 2
    bottom = max(
        [b.y + b.h for b in boxes.values()] + [r.label_at[1] + label_size[i][1] / 2 for i, r in enumerate(routes)],
        default=0.0,
    )
    return Layout({n: boxes[n] for n in ids}, routes, width, bottom + MARGIN)


def _centre(box: Box) -> float:
    return box.y + box.h / 2
