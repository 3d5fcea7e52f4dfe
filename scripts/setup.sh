#!/usr/bin/env bash
# Create .venv and install tabpipe with pinned dependency versions.
#   bash scripts/setup.sh            # CPU (torch 2.13.0 CPU build)
#   TABPIPE_EXTRAS=dev,gpu bash scripts/setup.sh   (default extras: dev,ray,mlflow,dashboard,feast)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
EXTRAS="${TABPIPE_EXTRAS:-dev,ray,mlflow,dashboard,feast}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# the CPU build first: a bare `torch` requirement would pull the multi-GB CUDA build
.venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q -c requirements/constraints.txt -e ".[${EXTRAS}]"
# byte-compile the editable sources and the tests once: pip compiles what it installs, but an
# editable checkout is compiled on import, and not cached where PYTHONDONTWRITEBYTECODE is set
# (as on CI), which cost every tabpipe process ~0.35 s of CPU
.venv/bin/python -m compileall -q src tests train.py > /dev/null
echo "tabpipe installed in .venv ($(.venv/bin/python -c 'import tabpipe; print(tabpipe.__version__)'))"
