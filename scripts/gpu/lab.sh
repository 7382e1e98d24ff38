#!/usr/bin/env bash
# The compact-model lab on the GPU machine (after scripts/pack-device.sh; carry .device): each experiment template
# of results/lab/experiments trained by `slmgen sweep --jobs N --time` (N processes share the GPU; then every
# point's step is timed alone), into results/lab/runs/ (ignored by git; kept on a warm machine, so a sweep cut off
# by a call's time limit resumes in the next call). Each finished experiment's records are bundled into
# $OUT/lab-<experiment>.tar.gz (results.jsonl, timing.jsonl, the points' specs, each run's result.json, train.log
# and metrics.jsonl); scripts/lab-import.sh puts them into results/lab/records/ (LAB_DIR=results/lab2: into
# results/lab2/records/, where the second lab's sweeps write: its templates' out folders).
#   LAB_EXPERIMENTS="sharing width" LAB_JOBS=12 bash scripts/gpu/lab.sh
# The second lab (results/lab2, PROTOCOL.md §9): LAB_DIR=results/lab2 LAB_TIME=0 (its designs were timed alone in call A)
# and LIMIT_S (seconds for the whole script: a sweep still running then is stopped and bundled with what finished; the
# next call resumes it — a point with a result.json is not trained again).
#   LAB_DIR=results/lab2 LAB_TIME=0 LAB_EXPERIMENTS="q1-b1-tune q3-b1-tune q4-tune" LAB_JOBS=16 LIMIT_S=560 bash scripts/gpu/lab.sh
# LAB_MPS=1: the processes share the GPU through CUDA MPS (below).
# LAB_PTQ="q4-seeds": after that sweep, its runs' final weights through every after-training quantiser (lab2-ptq.sh).
set -uo pipefail
lab="${LAB_DIR:-results/lab}"
deadline=$((SECONDS + ${LIMIT_S:-86400}))
# Everything this script writes goes to $parts and is bundled, after every sweep, into $OUT/lab-bundle.tar: the device
# tool returns at most 8 files a call (session 12 lost q4-tune's records to that limit). scripts/lab-import.sh reads
# the bundle. Finished runs are also kept in /tmp/lab-keep (on a warm machine): each call's copy of the working tree
# removes the untracked records an earlier call left in it, so a sweep resumes from /tmp/lab-keep.
final="${OUT:-/tmp/lab-out}"; mkdir -p "$final"
out=/tmp/lab-parts; rm -rf "$out"; mkdir -p "$out" /tmp/lab-keep
bundle() { tar -cf "$final/lab-bundle.tar.tmp" -C "$out" . && mv "$final/lab-bundle.tar.tmp" "$final/lab-bundle.tar"; cp "$out/walls.txt" "$final/" 2>/dev/null; }
export SLMGEN_DATA="$PWD/data" SLMGEN_CACHE=/tmp/slmgen-tokens OMP_NUM_THREADS=1
jobs="${LAB_JOBS:-12}"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$out/device.txt"
# SlmGen's default CUDA path has its fused kernels, which need libslmgen_native built against this machine's PyTorch
# (≈ 70 s; kept in /tmp on a warm machine). Until session 11 this script did not build it, so the lab's runs were
# unfused (their train.log says so; since then result.json records fused_kernels). LAB_NATIVE=0: the unfused path.
# LAB_GRAPHS=1: each run's step as one CUDA graph (the library needed; result.json's cuda_graph_steps says it ran).
if [ "${LAB_NATIVE:-1}" = 1 ]; then
  . scripts/gpu/native.sh "$out/native-build.log" "${NATIVE_KEEP:-}"   # a carried build in .device/native/, or a fresh one
  echo "libslmgen_native: ${SLMGEN_NATIVE:-not built (see native-build.log): unfused}" | tee -a "$out/device.txt"
fi
[ "${LAB_GRAPHS:-0}" = 1 ] && export SLMGEN_CUDA_GRAPHS=1
# LAB_MPS=1: the runs share the GPU through CUDA's Multi-Process Service, so kernels of different processes run at
# the same time instead of taking turns (session 12 measured that 16 processes without it gain ≈ nothing on these
# launch-bound steps: the GPU time-slices between their contexts). The daemon is this script's own (pipe and log in
# /tmp, stopped at the end); it changes no GPU setting. If a CUDA probe fails under it, it is stopped and the runs
# share the GPU as before (walls.txt says which).
mps_stop() { [ -n "${CUDA_MPS_PIPE_DIRECTORY:-}" ] && echo quit | nvidia-cuda-mps-control > /dev/null 2>&1; unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY; }
if [ "${LAB_MPS:-0}" = 1 ]; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/slmgen-mps/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/slmgen-mps/log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d > "$out/mps.txt" 2>&1 && sleep 1 && \
     timeout 60 python3 -c 'import torch; x=torch.ones(1024,device="cuda"); print("mps probe", float((x*2).sum()))' >> "$out/mps.txt" 2>&1; then
    echo "MPS: on" | tee -a "$out/walls.txt" "$out/device.txt"
    trap mps_stop EXIT
  else
    echo "MPS: failed (mps.txt), off" | tee -a "$out/walls.txt" "$out/device.txt"; mps_stop
  fi
fi
for e in ${LAB_EXPERIMENTS:-sharing width precision-float precision-qat}; do
  # LAB_RESUME=1: start from the committed records (runs with a result.json are not trained again).
  if [ "${LAB_RESUME:-0}" = 1 ] && [ ! -d "$lab/runs/$e" ]; then mkdir -p "$lab/runs" && cp -r "$lab/records/$e" "$lab/runs/"; fi
done
outdir() {  # the sweep's out folder (the template's `out:`, relative to it): results/lab/runs/<e> for the first lab,
           # results/lab2/records/<e> (committed) for the second; prints its parent
  local rel; rel=$(sed -n 's/^out:[[:space:]]*//p' "$lab/experiments/$1.yaml" | tr -d '"' | head -1)
  mkdir -p "$lab/experiments/$(dirname "$rel")" && (cd "$lab/experiments" && cd "$(dirname "$rel")" && pwd)
}
for e in ${LAB_EXPERIMENTS:-sharing width precision-float precision-qat}; do
  start=$(date +%s)
  dir=$(outdir "$e") || { echo "sweep $e: no out folder" | tee -a "$out/walls.txt"; continue; }
  # Resume from what an earlier call on this machine finished (kept in /tmp/lab-keep; never overwrites).
  [ -d "/tmp/lab-keep/$e" ] && mkdir -p "$dir/$e" && cp -rn "/tmp/lab-keep/$e/." "$dir/$e/"
  left=$((deadline - SECONDS)); [ "$left" -gt 30 ] || { echo "sweep $e: not started (out of time)" | tee -a "$out/walls.txt"; continue; }
  timeout --signal=INT --kill-after=20 "$((left - 25))" bash .device/run.sh slmgen sweep "$lab/experiments/$e.yaml" --jobs "$jobs" $([ "${LAB_TIME:-1}" = 1 ] && echo --time) > "$out/lab-$e.txt" 2>&1
  echo "sweep $e: exit $?, wall seconds $(( $(date +%s) - start ))" | tee -a "$out/lab-$e.txt" "$out/walls.txt"
  [ -d "$dir/$e" ] || continue
  # LAB_PTQ names the seed sweeps whose final weights are also shipped by every after-training quantiser
  # (scripts/gpu/lab2-ptq.sh: Q4's post-training arm) while their checkpoints are on this machine.
  if [[ " ${LAB_PTQ:-} " == *" $e "* ]]; then
    left=$((deadline - SECONDS))
    if [ "$left" -gt 60 ]; then
      SLMGEN="bash .device/run.sh slmgen" JOBS="$jobs" timeout --kill-after=20 "$((left - 30))" bash scripts/gpu/lab2-ptq.sh "$dir/$e" > "$out/lab-$e-ptq.txt" 2>&1
      echo "ptq $e: exit $?, wall seconds $(( $(date +%s) - start ))" | tee -a "$out/walls.txt"
      # without the timeout's cut: write what finished as the -ptq sweep
      python3 scripts/gpu/lab2_ptq.py "$dir/$e" "$dir/$e-ptq/work/plans.tsv" >> "$out/lab-$e-ptq.txt" 2>&1
    else
      echo "ptq $e: not started (out of time)" | tee -a "$out/walls.txt"
    fi
    [ -d "$dir/$e-ptq" ] && cp -r "$dir/$e-ptq" /tmp/lab-keep/ && (cd "$dir" && tar -czf "$out/lab-$e-ptq.tar.gz" "$e-ptq")
  fi
  cp -r "$dir/$e" /tmp/lab-keep/
  (cd "$dir" && tar -czf "$out/lab-$e.tar.gz" --exclude='*.ckpt' --exclude='*.slmq' --exclude='events*' --exclude='tensorboard' --exclude='*.tmp' "$e")
  bundle
done
bundle
