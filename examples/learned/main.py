"""Train a small MLP through a typed pipeline with ``jax.grad``, then report errors in kWh.

python -m examples.learned.main

The data are synthetic daily heating energies of buildings: proportional to floor area and to
the gap between 18 °C and the outdoor temperature (heating degrees), plus noise. The loss
pipeline's pure JAX function (``loss.jax_fn``) is differentiated with respect to the network's
weights (a ``Weights`` record, a pytree of arrays); its value is a mean squared error in kWh², and its square root an error in kWh.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import typedml as tm

from .pipeline import Standardization, Weights, fit_standardization, init_weights, loss, predict


def make_buildings(n: int, seed: int) -> dict[str, Any]:
    """Outdoor temperature (degC), floor area (m²) and heating energy (kWh) of n building-days."""
    rng = np.random.default_rng(seed)
    temperature = rng.uniform(-10.0, 17.0, n)
    area = rng.uniform(60.0, 400.0, n)
    kwh_per_m2_per_degree = 0.006
    energy = kwh_per_m2_per_degree * area * (18.0 - temperature) * (1 + 0.1 * np.tanh(-temperature / 10))
    energy = energy + rng.normal(0.0, 1.0, n)
    return {"temperature": temperature, "area": area, "energy": energy}


def main(steps: int = 400) -> dict[str, float]:
    ureg = tm.get_registry()
    train, test = make_buildings(800, seed=0), make_buildings(200, seed=1)

    def q(values: Any, unit: str) -> Any:
        return ureg.Quantity(np.asarray(values, dtype=np.float32), unit)

    def features(split: dict[str, Any]) -> dict[str, Any]:
        return {"temperature": q(split["temperature"], "degC"), "area": q(split["area"], "m**2")}

    # standardisation constants from the training set only (never from the test set): one record
    scales = fit_standardization(**features(train), energy=q(train["energy"], "kWh"))
    print("standardization:", {k: f"{float(v.magnitude):.2f} {v.units:~}" for k, v in scales._asdict().items()})
    print("loss pipeline:", loss.check())
    print("loss inputs:", {k: v for k, v in loss.input_units.items() if v}, "-> output", loss.output_units["return"])

    # jax_fn takes magnitudes in declared units, a record as a record of arrays
    units = [loss.input_units[f"scales.{field}"] for field in Standardization._fields]
    fixed_scales = Standardization(*(jnp.asarray(v.to(u).magnitude) for v, u in zip(scales, units, strict=True)))
    fixed = [jnp.asarray(v.magnitude) for v in features(train).values()] + [jnp.asarray(train["energy"], jnp.float32)]

    def objective(weights: Weights) -> Any:
        (value,) = loss.jax_fn(weights, fixed_scales, *fixed)
        return value

    @jax.jit
    def step(weights: Weights, state: Any, t: Any) -> tuple[Any, Any, Any]:
        value, grads = jax.value_and_grad(objective)(weights)
        m, v = state
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        lr = 0.01
        weights = jax.tree.map(
            lambda p, m, v: p - lr * (m / (1 - 0.9**t)) / (jnp.sqrt(v / (1 - 0.999**t)) + 1e-8), weights, m, v
        )
        return weights, (m, v), value

    weights = init_weights(jax.random.key(0))
    state = (jax.tree.map(jnp.zeros_like, weights), jax.tree.map(jnp.zeros_like, weights))
    for t in range(1, steps + 1):
        weights, state, value = step(weights, state, t)
        if t in (1, steps // 2, steps):
            print(f"step {t:4d}: training loss {float(value):8.3f} kWh**2")

    results: dict[str, float] = {}
    for split_name, split in (("train", train), ("test", test)):
        prediction = predict(weights, scales, **features(split))
        error = prediction - q(split["energy"], "kWh")
        rmse = np.sqrt(np.mean(np.asarray(error.magnitude) ** 2))
        results[split_name] = float(rmse)
        print(f"{split_name} RMSE: {rmse:.3f} {error.units} (energies average {split['energy'].mean():.1f} kWh)")
    return results


if __name__ == "__main__":
    main()
