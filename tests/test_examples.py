"""The drift example writes its HTML report, with a row and a histogram for every edge of the graph."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np

from examples.drift.main import main
from examples.drift.pipeline import station
from typedml._graph import value_label


class Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.histograms: set[str] = set()
        self.edges = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("data-value"):
            self.rows[a["data-value"]] = (a.get("class") or "").split()
        if tag == "svg" and "histogram" in (a.get("class") or ""):
            self.histograms.add(a["data-value"] or "")
        if tag == "g" and a.get("class") == "edge":
            self.edges += 1


def test_the_example_writes_a_report_with_every_edge(tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["--out", str(out)]) == 0
    assert out.exists()
    page = out.read_text(encoding="utf-8")
    parsed = Rows()
    parsed.feed(page)
    edge_values = {
        value_label(u, d["src_port"]) for u, _, d in station.graph.edges(data=True) if not u.startswith("output:")
    }
    edge_values = {v.removeprefix("input:") for v in edge_values}
    assert edge_values == {"raw", "gain", "offset", "counts", "thermistor", "humidity", "dew_point", "spread"}
    assert edge_values <= set(parsed.rows), f"edges without a row: {edge_values - set(parsed.rows)}"
    assert edge_values <= parsed.histograms
    assert parsed.edges == station.graph.number_of_edges()  # the graph picture is in the page
    # the humidity sensor drifted; the thermistor readings came in volts, which is not a drift
    moved = {name for name, classes in parsed.rows.items() if "shifted" in classes}
    assert {"counts", "humidity", "dew_point"} <= moved
    assert not moved & {"raw", "thermistor", "gain", "offset"}
    assert re.search(r"<script", page) is None and "http" not in page.replace("http-equiv", "")  # self-contained
    assert f"report written to {out}" in capsys.readouterr().out


def test_the_learned_model_trains_to_the_noise_level(capsys):
    from examples.learned.main import main as train
    from examples.learned.pipeline import loss

    assert loss.output_units == {"return": "kWh**2"}  # the loss is in the target's unit squared
    report = loss.check()
    assert report.ok and report.warnings == [] and report.infos == []  # the weights record: checked before data
    errors = train(steps=150)
    assert errors["test"] < 1.6  # the synthetic data's noise is 1 kWh; an untrained net is off by ~10
    printed = capsys.readouterr().out
    assert "test RMSE:" in printed and "kilowatt_hour" in printed


def test_the_penguins_example_matches_scikit_learn(capsys):
    import numpy as np
    import pytest

    pytest.importorskip("palmerpenguins")
    from sklearn.linear_model import LinearRegression

    from examples.penguins.main import load, main

    result = main()
    data = load()
    x = np.stack([data["flipper"].magnitude, data["bill"].magnitude], axis=1).astype(np.float64)
    reference = LinearRegression().fit(x, np.asarray(data["mass"].magnitude, dtype=np.float64))
    np.testing.assert_allclose(result["coef"], reference.coef_, rtol=1e-3)
    assert result["units"] == "gram / millimeter"
    assert result["r2"] == pytest.approx(reference.score(x, data["mass"].magnitude), rel=1e-3)
    printed = capsys.readouterr().out
    assert "error[TM102] unit mismatch on edge mass -> columns.b" in printed
    assert "standardised first: ok" in printed


def test_the_sketches_example_is_within_its_stated_errors(capsys):
    from examples.sketches.main import main as run

    result = run(["--rows", "400000", "--chunk-rows", "100000"])
    assert abs(result["users_rel_error"]) < 0.065  # 4 standard errors of a 4096-register HyperLogLog
    assert result["rank_error"] < 0.036  # the quantile sketch's stated bound (probability 0.99)
    assert result["unit"] == "second"
    assert "400000 requests in 4 chunks" in capsys.readouterr().out


def test_every_mistake_in_the_catalogue_is_caught_before_data(capsys):
    from examples.mistakes.catalogue import HANDLED, MISTAKES
    from examples.mistakes.main import main as show

    found = show()
    for pipeline, code in MISTAKES:
        assert found[pipeline.spec.name][:1] == [code], (pipeline.spec.name, found[pipeline.spec.name])
    for pipeline in HANDLED:
        assert found[pipeline.spec.name] == []  # converted on the edges, not an error
    assert capsys.readouterr().out.count("error[TM") == len(MISTAKES)


def test_the_causal_example_uses_dimensionless_features_only(capsys):
    from examples.causal.broken import raw_rmse_ratio
    from examples.causal.main import main as run

    assert run(["--pairs", "12"]) >= 0.75
    assert "directions right" in capsys.readouterr().out
    (error,) = [d for d in raw_rmse_ratio.check().errors if d.code == "TM102"][:1]
    assert "unit mismatch on edge" in error.message and "ratio" in error.message


def test_the_vibration_example_filters_to_the_vibration_alone(capsys):
    from examples.vibration.main import main as measure
    from examples.vibration.pipeline import vibration

    report = vibration.check()
    assert report.ok and report.warnings == [] and [d.code for d in report.infos] == ["TM311"]  # the host body
    found = measure(seconds=2.0)
    np.testing.assert_allclose(found["rms"], found["expected"], rtol=0.05)
    assert (found["unfiltered"] > 2 * found["expected"]).all()  # the drift dominates without the filter
    assert str(found["levels"].peak.units) == "meter / second ** 2"


def test_the_islands_example_streams_and_fits_through_parquet_in_two_units(tmp_path, capsys):
    import numpy as np
    import pytest

    pytest.importorskip("pyarrow")
    pytest.importorskip("palmerpenguins")
    from palmerpenguins import load_penguins

    from examples.islands.main import main

    result = main(["--out", str(tmp_path)])
    frame = load_penguins().dropna(subset=["flipper_length_mm", "bill_length_mm", "body_mass_g"])
    assert result["n"] == len(frame) == 342
    assert result["mean_mass_g"] == pytest.approx(frame.body_mass_g.mean(), rel=1e-5)  # half the rows were in kg
    for stem, rows in (("biscoe", frame.island == "Biscoe"), ("dream_torgersen", frame.island != "Biscoe")):
        part = frame[rows]
        x = np.column_stack([np.ones(len(part)), part.flipper_length_mm, part.bill_length_mm])
        coef, *_ = np.linalg.lstsq(x, part.body_mass_g.to_numpy(), rcond=None)
        rmse = float(np.sqrt(np.mean((part.body_mass_g.to_numpy() - x @ coef) ** 2)))
        assert result["rmse_g"][stem] == pytest.approx(rmse, rel=1e-3)
    assert (tmp_path / "dream_torgersen_predicted.parquet").exists()
    assert "residuals written in g" in capsys.readouterr().out
