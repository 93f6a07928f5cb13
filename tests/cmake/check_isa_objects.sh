#!/usr/bin/env bash
# The per-ISA kernel objects (src/cpu/fast/isa/isa_rules.h) must not define any symbol the linker
# could share with the rest of the library (weak or unique definitions: inline functions and
# templates). Such a symbol compiled with AVX2 could be the copy the generic path runs.
# usage: check_isa_objects.sh OBJECT...
set -euo pipefail
(( $# > 0 )) || { echo "no objects given"; exit 2; }
status=0
for obj in "$@"; do
  shared="$(nm -C "$obj" | awk '$2 ~ /^[WVu]$/' || true)"
  if [[ -n "$shared" ]]; then
    echo "FAIL: $obj defines symbols the linker may share with other objects:"
    echo "$shared"
    status=1
  else
    echo "ok: $obj ($(nm "$obj" | awk '$2 == "T"' | wc -l) functions, none shared)"
  fi
done
exit $status
