#!/usr/bin/env bash
# One GPU-machine call: speed (PyTorch and SlmGen side by side), the training runs, then study runs for
# the minutes left.
set -uo pipefail
bash scripts/gpu/speed.sh
bash scripts/gpu/train.sh
bash scripts/gpu/study.sh "${1:-2}" "${2:-1}" "${3:-study}"
