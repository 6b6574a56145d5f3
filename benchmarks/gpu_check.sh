#!/usr/bin/env bash
# The GPU checks in one short run, for a machine with an NVIDIA GPU:
#   1. the tests marked gpu (tests/test_gpu.py, the sharded run on every GPU in tests/test_shard.py);
#   2. benchmarks/perf/run.py --device gpu (steady state and first call on the GPU).
# Each step has a time limit (GPU_CHECK_TIMEOUT seconds, default 240); the whole run fits in
# about 10 minutes. Without a GPU visible to JAX it says so and exits 0 (nothing to check);
# JAX needs its CUDA build for the GPU: pip install -U "jax[cuda12]".
#
#   bash benchmarks/gpu_check.sh                     # from the repository root
#   PYTHON=python3 GPU_CHECK_TIMEOUT=120 bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
LIMIT=${GPU_CHECK_TIMEOUT:-240}
OUT=${GPU_CHECK_OUT:-benchmarks/results}

gpus=$(timeout 120 "$PY" -c "import jax; print(sum(d.platform == 'gpu' for d in jax.devices()))" 2>/dev/null | tail -1)
if [ "${gpus:-0}" = "0" ]; then
    echo "gpu_check: skipped, no GPU available to JAX"
    exit 0
fi
echo "gpu_check: $gpus GPU(s)"
mkdir -p "$OUT"
status=0
timeout "$LIMIT" "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py tests/test_shard.py || status=$?
echo "gpu_check: tests exit status $status"
bench=0
timeout "$LIMIT" "$PY" benchmarks/perf/run.py --device gpu --json "$OUT/perf_gpu.json" || bench=$?
echo "gpu_check: benchmark exit status $bench (results in $OUT/perf_gpu.json)"
[ "$status" -eq 0 ] && [ "$bench" -eq 0 ]
