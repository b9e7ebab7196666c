#!/usr/bin/env bash
# The icl suite's full GPU tier on one GPU, in under 8 minutes: prints accuracies
# against the baselines and throughput (samples/s, achieved TFLOP/s).
#   bench/gpu_icl.sh                      # Fashion-MNIST from /usr/share/datasets/fashion-mnist
#   bench/gpu_icl.sh --fashion-dir DIR    # ... or from DIR (the four idx .gz files)
#   bench/gpu_icl.sh --tiny               # a CPU-sized run of the same path (about a minute)
# Needs the repository and a Python with torch (CUDA build for the GPU); numpy,
# scikit-learn and the engine's small dependencies are pip-installed if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "gpu_icl: $PY has no torch; install a CUDA build of torch first (or set PYTHON=...)" >&2
  exit 2
fi
missing=$("$PY" - <<'PY'
import importlib.util as u
need = {"numpy": "numpy", "sklearn": "scikit-learn", "pydantic": "pydantic"}
print(" ".join(pkg for mod, pkg in need.items() if u.find_spec(mod) is None))
PY
)
if [ -n "$missing" ]; then
  echo "gpu_icl: installing $missing from PyPI" >&2
  "$PY" -m pip install -q $missing
fi
exec "$PY" bench/gpu_icl.py "$@"
