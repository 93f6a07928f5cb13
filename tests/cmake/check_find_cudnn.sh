#!/usr/bin/env bash
# cmake/FindCUDNN.cmake against the layouts that fooled it (issue 9, item 12), built in a temporary
# folder around the machine's own cuDNN (the one the build found):
#  1. a pip-style cuDNN (include/cudnn.h, lib/libcudnn.so.9 and no libcudnn.so) given by CUDNN_PATH
#     must be paired with its own library, not with another cuDNN on the search path;
#  2. a header and a library of different versions must stop the configure, naming both.
#   usage: check_find_cudnn.sh SOURCE_DIR CUDNN_INCLUDE_DIR CUDNN_LIBRARY
set -euo pipefail
SRC=$(cd "$1" && pwd); SYS_INC=$2; SYS_LIB=$(readlink -f "$3")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/resnetrs_find_cudnn.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FindCUDNN check: FAILED: $*" >&2; exit 1; }
configure() {  # name, cmake args...
  local name=$1; shift
  cmake -S "$SRC/tests/cmake/find_cudnn" -B "$TMP/$name" "$@" > "$TMP/$name.log" 2>&1
}
version_of() { grep -hE "define CUDNN_(MAJOR|MINOR|PATCHLEVEL) " "$1/cudnn_version.h" | awk '{print $3}' | paste -sd.; }
SYS_VERSION=$(version_of "$SYS_INC")

# 1. The pip layout: the machine's cuDNN library file under the name libcudnn.so.9, in a folder
#    next to a copy of its headers.
PIP="$TMP/site-packages/nvidia/cudnn"
mkdir -p "$PIP/include" "$PIP/lib"
cp "$SYS_INC"/cudnn*.h "$PIP/include/"
ln -s "$SYS_LIB" "$PIP/lib/libcudnn.so.9"
configure pip -DCUDNN_PATH="$PIP" || { cat "$TMP/pip.log"; fail "configuring with the pip-style cuDNN"; }
grep -q "check: CUDNN_LIBRARY=$PIP/lib/libcudnn.so.9\$" "$TMP/pip.log" ||
  fail "the pip-style cuDNN's header was paired with another library: $(grep 'check: CUDNN_LIBRARY' "$TMP/pip.log")"
grep -q "check: CUDNN_VERSION=$SYS_VERSION CUDNN_LIBRARY_VERSION=$SYS_VERSION\$" "$TMP/pip.log" ||
  fail "versions not reported: $(grep 'check: CUDNN_VERSION' "$TMP/pip.log")"
echo "pip layout: $PIP/lib/libcudnn.so.9 paired with its header ($SYS_VERSION)"


# 2. A header that says another version than the library.
OTHER="$TMP/other"
mkdir -p "$OTHER/include"
cp "$SYS_INC"/cudnn*.h "$OTHER/include/"
sed -i -E 's/(define CUDNN_MINOR )[0-9]+/\177/' "$OTHER/include/cudnn_version.h"
OTHER_VERSION=$(version_of "$OTHER/include")
if configure mismatch -DCUDNN_INCLUDE_DIR="$OTHER/include" -DCUDNN_LIBRARY="$SYS_LIB"; then
  fail "a $OTHER_VERSION header with the $SYS_VERSION library $SYS_LIB was accepted: $(grep -i cudnn "$TMP/mismatch.log")"
fi
# CMake wraps the message: compare it as one line.
msg=$(tr -s ' \n' '  ' < "$TMP/mismatch.log")
[[ "$msg" == *"cudnn_version.h is $OTHER_VERSION but the library $SYS_LIB is $SYS_VERSION"* ]] ||
  fail "the mismatch was refused without naming both versions: $(grep -i -A3 cudnn "$TMP/mismatch.log" | head -n 8)"
echo "mismatch: header $OTHER_VERSION with library $SYS_VERSION refused"
echo "FindCUDNN check: PASSED"
