#!/usr/bin/env bash
# Session 15's GPU call (after scripts/pack-device.sh and `scripts/device-aside.sh out q1-b2-tune q1-b1-sliding
# q3-b2-seeds`; v8's worst designs copied to .device/diag; carry .device):
# 1. issue 24's blind check of time model v9 (SEED=2032: ten designs never seen, + the four named), eager, graphed
#    (each graphed step traced by kernel class) and decoding, on a profile calibrated in this call;
# 2. v8's worst-predicted designs traced on the same profile (scripts/gpu/time-trace.sh);
# 3. Q1's equal-wall-clock arm: q1-b1-sliding's twelve designs timed alone as graphs (their runs are done);
# 4. Q3's decoding latency measured on its shared designs (batch 1, the KV cache);
# 5. what time is left: Q1's B2 tuning (lab.sh; resumes where cut).
set -uo pipefail
OUT=${OUT:-/tmp/slmgen-out}; mkdir -p "$OUT"; limit=${LIMIT_S:-575}
OUT=$OUT/t WHAT=time N=10 SEED=${SEED:-2032} TIME_STEPS=5 PER_PROCESS=10 MODES="graphed decode eager" TRACE=1 TIME_LIMIT=${TIME_LIMIT:-270} bash scripts/gpu/artifact-time.sh
tar -xzf "$OUT/t/artifact-time.tgz" -C /tmp ./time/profile.json && profile=/tmp/time/profile.json || profile=""
export SLMGEN_NATIVE=/tmp/slmgen-native/libslmgen_native.so SLMGEN_DATA=$PWD/data
[ -n "$profile" ] && PROFILE=$profile DESIGNS=".device/diag/*.yaml" MODES=graphed EACH_S=40 timeout 150 bash scripts/gpu/time-trace.sh | tail -3
SLMGEN_CUDA_GRAPHS=1 timeout 120 bash .device/run.sh slmgen sweep results/lab2/experiments/q1-b1-sliding.yaml --time > "$OUT/wall-timing.log" 2>&1
cp results/lab2/records/q1-b1-sliding/timing.jsonl "$OUT/q1-b1-sliding-timing.jsonl"; tail -2 "$OUT/wall-timing.log"
timeout 90 bash .device/run.sh slmgen time results/lab2/records/q3-b2-seeds/points/*.yaml --decode --device cuda ${profile:+--device-profile $profile} --json "$OUT/q3-decode.jsonl" > "$OUT/q3-decode.log" 2>&1; tail -3 "$OUT/q3-decode.log"
left=$((limit - SECONDS))
[ "$left" -gt 90 ] && LAB_DIR=results/lab2 LAB_TIME=0 LAB_GRAPHS=1 LAB_JOBS=16 LAB_MPS=1 LAB_EXPERIMENTS="q1-b2-tune" LIMIT_S=$left bash scripts/gpu/lab.sh 2>&1 | tail -6
echo "call: $SECONDS s"
