"""Real data in and out: the Palmer penguins through Parquet files, with their units.

python -m examples.islands.main [--out FOLDER]      (needs: pip install 'typedml[parquet]' palmerpenguins)

1. write: the penguins of the palmerpenguins data set (a CSV file shipped in its wheel, read
   offline) go to two Parquet files, as two field stations would keep them: Biscoe island's in
   mm and g, the other islands' in cm and kg, each unit in its field's ``"unit"`` metadata.
2. stream: both files are folded into one moments state, a few rows at a time, each chunk
   converted from its file's units: the mean body mass comes out in g for all 342 penguins.
3. read, check, run: each file is read as an Arrow table, its columns mapped to the pipeline's
   ports with the units the file states, and ``fit_and_predict`` gives each penguin's predicted
   mass and residual.
4. write: the per-penguin results go back to Parquet with their unit (g) in the metadata, and
   are read back.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import typedml as tm

from .pipeline import fit_and_predict

MEASURES = {"flipper_length": "flipper_length_mm", "bill_length": "bill_length_mm", "body_mass": "body_mass_g"}


def write_stations(folder: Path) -> list[Path]:
    """Two Parquet files of the penguins, in different units, each stated in its metadata."""
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna(subset=list(MEASURES.values()))
    units = {"flipper_length_mm": "mm", "bill_length_mm": "mm", "body_mass_g": "g"}
    paths = []
    for name, rows, to in (
        (
            "biscoe.parquet",
            frame[frame.island == "Biscoe"],
            {"flipper_length": "mm", "bill_length": "mm", "body_mass": "g"},
        ),
        (
            "dream_torgersen.parquet",
            frame[frame.island != "Biscoe"],
            {"flipper_length": "cm", "bill_length": "cm", "body_mass": "kg"},
        ),
    ):
        cols = tm.columns(rows, **{k: v for k, v in MEASURES.items()}, units=units, dtype=np.float32)
        path = folder / name
        tm.write_parquet(path, {k: q.to(to[k]) for k, q in cols.items()})
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> dict[str, object]:
    import pyarrow.parquet as pq

    parser = argparse.ArgumentParser(description="The Palmer penguins through Parquet files, with their units.")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the Parquet files (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        paths = write_stations(folder)
        for path in paths:
            schema = pq.read_schema(path)
            shown = ", ".join(f"{f.name} [{f.metadata[b'unit'].decode()}]" for f in schema)
            print(f"{path.name}: {pq.ParquetFile(path).metadata.num_rows} penguins; {shown}")

        # 2. stream both files into one state, a few rows at a time
        init = tm.stdlib.moments_init(tm.Quantity(np.float32(0.0), "g"))
        chunks = tm.parquet_chunks(paths, "body_mass", rows=64)
        mass = tm.stream(tm.stdlib.moments_update, chunks, init=init, finalize=tm.stdlib.moments_finalize)
        print(f"mean body mass of {int(mass.n)} penguins: {float(mass.mean.magnitude):.1f} {mass.mean.units}")

        # 3. read each file as a table, check and run; 4. write the results with their unit
        results = {}
        for path in paths:
            cols = tm.columns(pq.read_table(path), x=["flipper_length", "bill_length"], mass="body_mass")
            out = fit_and_predict(**cols)
            written = folder / f"{path.stem}_predicted.parquet"
            tm.write_parquet(written, out)
            (back,) = tm.parquet_chunks([written], {"residual": "residual"}, rows=1000)
            rmse = float(np.sqrt(np.mean(np.square(back["residual"].magnitude))))
            print(
                f"{path.stem}: read in {cols['x'].units} and {cols['mass'].units}; residuals written in "
                f"{pq.read_schema(written).field('residual').metadata[b'unit'].decode()}, RMSE {rmse:.0f} {back['residual'].units}"
            )
            results[path.stem] = rmse
    return {"mean_mass_g": float(mass.mean.magnitude), "n": int(mass.n), "rmse_g": results}


if __name__ == "__main__":
    main()
