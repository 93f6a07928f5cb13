#!/usr/bin/env bash
# The Triton backend's KIND_GPU instances on a GPU machine, through the real tritonserver 2.51.0
# of the nvidia-pytriton wheel (docs/serving.md, "GPU instances"). Run from the repository root
# with the device pack at .device (scripts/device-pack; the server and backend from
# scripts/build-device-triton in .device/triton, or RESNETRS_TRITON_PACK=DIR):
#   tests/gpu_triton/run_gpu_triton_check.sh [LOGDIR]
# Exit 0: every check passed; 1: a check failed or the pack is incomplete; 77: no CUDA device.
# The checks themselves: tests/gpu_triton/gpu_triton_check.py. About a minute on an H100/H200.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PACK="${RESNETRS_DEVICE_PACK:-.device}"
TPACK="${RESNETRS_TRITON_PACK:-$PACK/triton}"
LOGDIR="${1:-device-out/triton}"
mkdir -p "$LOGDIR"
if ! nvidia-smi -L > /dev/null 2>&1; then echo "SKIPPED: no CUDA device"; exit 77; fi
for f in "$TPACK/tritonserver.tar.xz" "$TPACK/backend/libtriton_resnetrs.so" "$TPACK/backend/libresnetrs.so.0" \
         "$TPACK/backend/resnetrs-parse-weights" "$TPACK/backend/write_synthetic_weights"; do
  [[ -f "$f" ]] || { echo "FAIL: $f missing (scripts/build-device-triton $TPACK)"; exit 1; }
done
WORK="$(mktemp -d /tmp/resnetrs-gpu-triton.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
tar -C "$WORK" -xJf "$TPACK/tritonserver.tar.xz" || { echo "FAIL: cannot unpack $TPACK/tritonserver.tar.xz"; exit 1; }
mkdir -p "$WORK/backends/resnetrs"
cp "$TPACK/backend/libtriton_resnetrs.so" "$TPACK/backend/libresnetrs.so.0" "$TPACK/backend/resnetrs-parse-weights" \
  "$WORK/backends/resnetrs/"
ABS_PACK="$(cd "$PACK" && pwd)"
# The server's libraries, then the pack's (OpenBLAS, libjpeg ... for libresnetrs). Only the server
# process gets this path; the Python client does not (it imports torch with its own libraries).
LIBS="$WORK/tritonserver/lib:$WORK/backends/resnetrs:$ABS_PACK/lib"
# cuBLAS/cuDNN: the loader's default path, else the torch wheel's (nvidia/*/lib), said so.
if LD_LIBRARY_PATH="$LIBS" ldd "$WORK/backends/resnetrs/libresnetrs.so.0" > "$WORK/ldd.txt" 2>&1 && grep -q "not found" "$WORK/ldd.txt"; then
  TORCH_LIBS="$(python3 -c 'import glob, os, nvidia; print(":".join(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], "*", "lib")))))' 2>/dev/null || true)"
  echo "NOTE  libraries not on the loader path: $(grep 'not found' "$WORK/ldd.txt" | awk '{print $1}' | tr '\n' ' ')- using the torch wheel's: $TORCH_LIBS"
  LIBS="$LIBS:$TORCH_LIBS"
fi
LD_LIBRARY_PATH="$LIBS" ldd "$WORK/backends/resnetrs/libresnetrs.so.0" | grep "not found" && { echo "FAIL: libresnetrs lacks libraries"; exit 1; }
LD_LIBRARY_PATH="$LIBS" "$TPACK/backend/write_synthetic_weights" "$WORK/rs50.h5" 50 11 > "$LOGDIR/weights.log" 2>&1 \
  || { echo "FAIL: write_synthetic_weights"; cat "$LOGDIR/weights.log"; exit 1; }
timeout --kill-after=10 240 python3 tests/gpu_triton/gpu_triton_check.py --server "$WORK/tritonserver/bin/tritonserver" \
  --server-lib-path "$LIBS" --backends "$WORK/backends" --weights "$WORK/rs50.h5" --work "$WORK" --log "$LOGDIR"
rc=$?
[[ $rc -eq 124 || $rc -eq 137 ]] && echo "FAIL: the check ran past 240 s" && rc=1
exit $rc
