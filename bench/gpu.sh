#!/usr/bin/env bash
# The GPU check, one prepared script (about 8 minutes on one H100):
#   1. training throughput, naive vs fast path, every architecture (+ hands_on compiled);
#   2. packing: aggregate throughput of 1, 2, 4 and 8 trials sharing the card;
#   3. a short real trial per architecture (needs the data: FAKEDET_DATA_DIR or .data/).
# JSON and logs go to $OUT (default bench/results). It needs torch, numpy, pandas,
# pyarrow, scikit-learn, scipy and rich, not Ray. From the repository root:
#   mkdir -p .data && cp /usr/share/datasets/fashion-mnist/*.gz .data/   # once, here
#   bash bench/gpu.sh                    # on the GPU machine (carry .data)
#   DEVICE=cpu STEPS=5 PACK_STEPS=5 TRIAL_STEPS=5 TRIAL_TIMEOUT=300 OUT=/tmp/gpu bash bench/gpu.sh
#                                        # a dry run of the script on a CPU
set -uo pipefail
OUT=${OUT:-bench/results}
DEVICE=${DEVICE:-cuda}
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
[ -z "${FAKEDET_DATA_DIR:-}" ] && [ -d .data ] && export FAKEDET_DATA_DIR="$PWD/.data"
status=0

"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv

echo "== 1. throughput"
timeout 270 "$PY" -m bench.throughput --device "$DEVICE" --steps "${STEPS:-300}" --repeats 2 \
  --compile --out "$OUT/throughput-$DEVICE.json" 2>&1 | tee "$OUT/throughput-$DEVICE.log" || status=1

echo "== 2. packing"
timeout 150 "$PY" -m bench.packing --device "$DEVICE" --arch hands_on --counts 1,2,4,8 \
  --steps "${PACK_STEPS:-400}" --out "$OUT/packing-$DEVICE.json" 2>&1 | tee "$OUT/packing-$DEVICE.log" || status=1

echo "== 3. short real trials"
if [ -n "${FAKEDET_DATA_DIR:-}" ]; then
  for arch in hands_on brownlee tf_dcgan; do
    timeout "${TRIAL_TIMEOUT:-60}" "$PY" -m fakedet.trial --arch "$arch" --held-out 0,6,9 \
      --seed 0 --max-steps "${TRIAL_STEPS:-2000}" --results "/tmp/gpu-trials-$$" \
      --device "$DEVICE" 2>&1 | tee "$OUT/trial-$arch-$DEVICE.log"
    rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || { echo "trial $arch ended with status $rc (124: timed out)"; status=1; }
  done
else
  echo "skipped: no FAKEDET_DATA_DIR and no .data/ folder"; status=1
fi
exit $status
