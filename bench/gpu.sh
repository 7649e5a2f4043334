#!/usr/bin/env bash
# The GPU check, one prepared script (about 8 minutes on one H100):
#   1. training throughput, naive vs fast path, every architecture (+ hands_on compiled);
#   2. packing: aggregate throughput of 1, 2, 4 and 8 trials sharing the card;
#   3. a short real trial per architecture (needs the data: FAKEDET_DATA_DIR or .data/);
#   4. fused packs (bench.pack): K in 1..32 trials as one model, per architecture; writes
#      pack-$DEVICE.json, which `--pack auto` reads (for the GPU model it names);
#   5. K separate processes per architecture (packing-$DEVICE-<arch>.json), and with MPS
#      where its daemon starts (packing-$DEVICE-mps.json), to compare with 4.
# JSON and logs go to $OUT (default bench/results). It needs torch, numpy, pandas,
# pyarrow, scikit-learn, scipy and rich, not Ray. From the repository root:
#   mkdir -p .data && cp /usr/share/datasets/fashion-mnist/*.gz .data/   # once, here
#   bash bench/gpu.sh                    # on the GPU machine (carry .data)
#   SLOW=20 DEVICE=cpu STEPS=5 PACK_STEPS=5 TRIAL_STEPS=5 TRIAL_TIMEOUT=300 OUT=/tmp/gpu \
#     FUSED_KS=1,2 FUSED_STEPS=1 FUSED_IMAGES=256 FUSED_BATCH=4 SEPARATE_KS=1,2 bash bench/gpu.sh
#                                        # a dry run of the script on a CPU
set -uo pipefail
OUT=${OUT:-bench/results}
DEVICE=${DEVICE:-cuda}
SLOW=${SLOW:-1}  # multiplies every step's time limit (a dry run on a CPU)
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
[ -z "${FAKEDET_DATA_DIR:-}" ] && [ -d .data ] && export FAKEDET_DATA_DIR="$PWD/.data"
status=0

"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv

echo "== 1. throughput"
timeout $((120 * SLOW)) "$PY" -m bench.throughput --device "$DEVICE" --steps "${STEPS:-200}" --repeats 2 \
  --compile --out "$OUT/throughput-$DEVICE.json" 2>&1 | tee "$OUT/throughput-$DEVICE.log" || status=1

echo "== 2. packing"
timeout $((60 * SLOW)) "$PY" -m bench.packing --device "$DEVICE" --arch hands_on --counts 1,2,4,8 \
  --steps "${PACK_STEPS:-200}" --out "$OUT/packing-$DEVICE.json" 2>&1 | tee "$OUT/packing-$DEVICE.log" || status=1

echo "== 3. short real trials"
if [ -n "${FAKEDET_DATA_DIR:-}" ]; then
  for arch in hands_on brownlee tf_dcgan; do
    timeout "${TRIAL_TIMEOUT:-30}" "$PY" -m fakedet.trial --arch "$arch" --held-out 0,6,9 \
      --seed 0 --max-steps "${TRIAL_STEPS:-1000}" --results "/tmp/gpu-trials-$$" \
      --device "$DEVICE" 2>&1 | tee "$OUT/trial-$arch-$DEVICE.log"
    rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || { echo "trial $arch ended with status $rc (124: timed out)"; status=1; }
  done
else
  echo "skipped: no FAKEDET_DATA_DIR and no .data/ folder"; status=1
fi

echo "== 4. fused packs"
timeout $((120 * SLOW)) "$PY" -m bench.pack --device "$DEVICE" --ks "${FUSED_KS:-1,2,4,8,16,32}" \
  --steps "${FUSED_STEPS:-30}" --warmup 3 --images "${FUSED_IMAGES:-37800}" \
  ${FUSED_BATCH:+--batch "$FUSED_BATCH"} --out "$OUT/pack-$DEVICE.json" 2>&1 \
  | tee "$OUT/pack-$DEVICE.log" || status=1

echo "== 5. separate processes, then with MPS"
for arch in hands_on brownlee tf_dcgan; do
  timeout $((45 * SLOW)) "$PY" -m bench.packing --device "$DEVICE" --arch "$arch" \
    --counts "${SEPARATE_KS:-1,4,16,32}" --steps "${PACK_STEPS:-200}" \
    --out "$OUT/packing-$DEVICE-$arch.json" 2>&1 | tee "$OUT/packing-$DEVICE-$arch.log" || status=1
done
if [ "$DEVICE" = cuda ] && command -v nvidia-cuda-mps-control >/dev/null \
   && nvidia-cuda-mps-control -d 2>/dev/null; then
  timeout $((60 * SLOW)) "$PY" -m bench.packing --device "$DEVICE" --arch hands_on \
    --counts "${SEPARATE_KS:-1,4,16,32}" --steps "${PACK_STEPS:-200}" \
    --out "$OUT/packing-$DEVICE-mps.json" 2>&1 | tee "$OUT/packing-$DEVICE-mps.log" || status=1
  echo quit | nvidia-cuda-mps-control
else
  echo "MPS: not started here (no nvidia-cuda-mps-control, not a GPU, or it failed to start)"
fi
exit $status
