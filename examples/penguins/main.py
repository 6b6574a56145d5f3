"""Fit body mass on flipper and bill length for the Palmer penguins, units shown throughout.

python -m examples.penguins.main      (needs: pip install palmerpenguins)
"""

from __future__ import annotations

import numpy as np

import typedml as tm

from .broken import mixed
from .pipeline import body_mass_model, standardised


def load() -> dict[str, object]:
    """The penguins with all three measurements, as quantities in the data set's own units."""
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna(subset=["flipper_length_mm", "bill_length_mm", "body_mass_g"])
    ureg = tm.get_registry()

    def column(name: str, unit: str) -> object:
        return ureg.Quantity(frame[name].to_numpy(dtype=np.float32), unit)

    return {
        "flipper": column("flipper_length_mm", "mm"),
        "bill": column("bill_length_mm", "mm"),
        "mass": column("body_mass_g", "g"),
    }


def main() -> dict[str, object]:
    data = load()
    print("model:", body_mass_model.check())
    fit = body_mass_model(**data)
    print(f"{len(data['mass'].magnitude)} penguins")  # type: ignore[attr-defined]
    print(f"coefficients: {np.round(np.asarray(fit.coef.magnitude), 2)} {fit.coef.units} (flipper, bill)")
    print(f"intercept:    {float(fit.intercept.magnitude):.0f} {fit.intercept.units}")
    print(f"RMSE:         {float(fit.rmse.magnitude):.0f} {fit.rmse.units}, R² {float(fit.r2):.3f}")
    # the same data in cm and kg: the model converts on its edges, the fit is the same
    in_other_units = {k: v.to({"flipper": "cm", "bill": "cm", "mass": "kg"}[k]) for k, v in data.items()}  # type: ignore[attr-defined]
    again = body_mass_model(**in_other_units)
    print(f"from cm and kg: {np.round(np.asarray(again.coef.magnitude), 2)} {again.coef.units}")
    print()
    print("a length and a mass in one matrix, before any data:")
    print(mixed.check().errors[0])
    print("standardised first:", standardised.check())
    return {"coef": np.asarray(fit.coef.magnitude), "r2": float(fit.r2), "units": str(fit.coef.units)}


if __name__ == "__main__":
    main()
