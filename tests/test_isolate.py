"""The worker process that runs user code: time limit, death, recycling, and a protocol that
nothing the code prints or reads can corrupt."""

from __future__ import annotations

import pytest

import typedml as tm
from typedml._isolate import Worker, WorkerDied, WorkerTimeout

TARGET = "tests.isolate_target:answer"


def test_answers_time_limit_death_and_recycling():
    with Worker(TARGET, timeout=20, recycle_after=3) as worker:
        first = worker.call({"echo": "a", "print": "noise on stdout"})
        assert first["echo"] == "a"
        assert "ValueError: broken" in worker.call({"raise": "broken"})["error"]  # data, not a dead worker
        with pytest.raises(WorkerTimeout):
            worker.call({"sleep": 30}, timeout=0.5)
        second = worker.call({"echo": "b"})
        assert second["echo"] == "b" and second["pid"] != first["pid"]  # a fresh process after the time limit
        with pytest.raises(WorkerDied, match="status 7"):
            worker.call({"exit": 7})
        pids = {worker.call({})["pid"] for _ in range(4)}
        assert len(pids) == 2  # replaced after 3 answers: bounded memory over a long session
        assert worker.restarts == 3 and worker.rss_mb > 0


def test_a_check_with_a_time_limit_finds_what_the_check_in_process_finds(tmp_path):
    path = tmp_path / "typo.py"
    path.write_text(
        "from jaxtyping import Array, Float\nimport typedml as tm\nfrom typedml import Q\n\n\n"
        "@tm.stage\n"
        'def double(x: Q[Float[Array, "n"], "m"]) -> Q[Float[Array, "n"], "m"]:\n    return 2 * x\n\n\n'
        "@tm.pipeline\n"
        'def twice(x: Q[Float[Array, "n"], "km"]) -> Q[Float[Array, "n"], "m"]:\n    return double(xx=x)\n'
    )
    here = tm.check_file(path)
    there = tm.check_file(path, timeout=60)
    assert there.diagnostics == here.diagnostics and [d.code for d in here.errors] == ["TM110", "TM111"]
    assert here.errors[0].fixes and there.errors[0].fixes == here.errors[0].fixes
    assert (
        (there.pipeline_names, there.stage_names) == (["twice"], ["double"]) == (here.pipeline_names, here.stage_names)
    )
    assert there.pipelines == {} and here.pipelines["twice"].spec.name == "twice"


def test_garbage_is_collected_between_requests_and_survivors_set_aside():
    """Between requests the worker collects garbage and freezes survivors (so passes during a
    request walk only new objects); no garbage cycle outlives the request after the one that
    made it, including across the periodic full pass."""
    from typedml import _isolate

    with Worker("tests.isolate_target:cycles", timeout=30) as worker:
        answers = [worker.call({}) for _ in range(_isolate._FULL_PASS + 5)]
    assert answers[0]["frozen"] > 0  # the warm-up is set aside
    # the cycle made by request k is collected after its answer: request k+1 sees at most its own
    assert all(a["alive"] == 1 for a in answers), [a["alive"] for a in answers if a["alive"] != 1][:5]
    assert answers[-1]["made"] == _isolate._FULL_PASS + 5
