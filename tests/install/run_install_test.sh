#!/usr/bin/env bash
# Installs libresnetrs from a build tree into a temporary prefix, then builds examples/classify.c
# against the INSTALLED package twice, with CMake's find_package(resnetrs) and with
# `pkg-config --cflags --libs resnetrs`, runs both on synthetic weights on the CPU backend and
# checks their output.
#   usage: run_install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD_DIR=$(cd "$1" && pwd)
SOURCE_DIR=$(cd "$2" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/resnetrs_install_test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PREFIX="$TMP/prefix"
fail() { echo "install test: FAILED: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "cmake --install into $PREFIX"
cmake --install "$BUILD_DIR" --prefix "$PREFIX" > "$TMP/install.log" || { cat "$TMP/install.log"; fail "cmake --install"; }

# Where things went: the library dir follows GNUInstallDirs (lib, or lib/<multiarch> for /usr).
PC_FILE=$(find "$PREFIX" -name resnetrs.pc -path '*/pkgconfig/*' | head -n1)
[[ -n "$PC_FILE" ]] || fail "resnetrs.pc was not installed"
LIBDIR=$(dirname "$(dirname "$PC_FILE")")
for f in "$PREFIX/include/resnetrs/resnetrs.h" "$LIBDIR/libresnetrs.so" "$LIBDIR/libresnetrs.so.0" \
         "$LIBDIR/cmake/resnetrs/resnetrsConfig.cmake" "$LIBDIR/cmake/resnetrs/resnetrsConfigVersion.cmake" \
         "$LIBDIR/cmake/resnetrs/resnetrsTargets.cmake"; do
  [[ -e "$f" ]] || fail "missing after install: ${f#"$PREFIX"/}"
done
REAL=$(readlink -f "$LIBDIR/libresnetrs.so")
[[ "$REAL" =~ libresnetrs\.so\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "libresnetrs.so should point to libresnetrs.so.X.Y.Z, points to $REAL"
SONAME=$(objdump -p "$REAL" | awk '/SONAME/ {print $2}')
[[ "$SONAME" =~ ^libresnetrs\.so\.[0-9]+$ ]] || fail "SONAME is '$SONAME', expected libresnetrs.so.<major>"
# Only the C API is exported.
OTHERS=$(nm -D --defined-only "$REAL" | awk '$2 ~ /^[TDBRVW]$/ && $3 !~ /^resnetrs_/ {print $3}')
[[ -z "$OTHERS" ]] || fail "libresnetrs exports symbols outside the C API: $(echo "$OTHERS" | head -n5 | tr '\n' ' ')"
echo "installed: ${REAL#"$PREFIX"/} (SONAME $SONAME), exports: $(nm -D --defined-only "$REAL" | grep -c ' resnetrs_') resnetrs_* functions"

RUN_ARGS=(--synthetic 50 --seed 3 --res 64 --batch 2 --backend cpu)
check_output() {  # file
  grep -q '^libresnetrs .*RS-50, 1000 classes, 64x64 input, cpu backend' "$1" || fail "unexpected header in $1: $(head -n1 "$1")"
  [[ $(grep -c '^image [0-9] top-5:' "$1") -eq 2 ]] || fail "expected 2 lines of top-5 in $1, got: $(cat "$1")"
  # Five "class (p=...)" pairs per image, probabilities in [0, 1].
  grep '^image' "$1" | while read -r line; do
    [[ $(grep -o '(p=[01]\.[0-9]\{4\})' <<< "$line" | wc -l) -eq 5 ]] || fail "malformed line: $line"
  done
}

step "CMake: find_package(resnetrs) with CMAKE_PREFIX_PATH"
cmake -S "$SOURCE_DIR/examples" -B "$TMP/build-cmake" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="-Werror" > "$TMP/cmake.log" 2>&1 || { cat "$TMP/cmake.log"; fail "configuring examples/"; }
cmake --build "$TMP/build-cmake" > "$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; fail "building examples/"; }
"$TMP/build-cmake/classify" "${RUN_ARGS[@]}" > "$TMP/out-cmake.txt" || fail "classify (CMake build) exited $?"
cat "$TMP/out-cmake.txt"
check_output "$TMP/out-cmake.txt"

step "pkg-config: cc \$(pkg-config --cflags --libs resnetrs)"
command -v pkg-config > /dev/null || fail "pkg-config is not installed (scripts/setup installs it)"
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
[[ "$(pkg-config --modversion resnetrs)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "pkg-config --modversion resnetrs"
# Plain paths (no .../lib/pkgconfig/../../lib: an rpath of that form needs the pkgconfig folder).
PC_LIBDIR=$(pkg-config --variable=libdir resnetrs)
[[ "$PC_LIBDIR" == "$LIBDIR" ]] || fail "resnetrs.pc libdir is '$PC_LIBDIR', expected '$LIBDIR'"
PC_INCLUDEDIR=$(pkg-config --variable=includedir resnetrs)
[[ "$PC_INCLUDEDIR" == "$PREFIX/include" ]] || fail "resnetrs.pc includedir is '$PC_INCLUDEDIR', expected '$PREFIX/include'"
# shellcheck disable=SC2046  # word splitting of pkg-config's flags is intended
${CC:-cc} -std=c99 -Wall -Wextra -Wpedantic -Werror "$SOURCE_DIR/examples/classify.c" $(pkg-config --cflags --libs resnetrs) \
  -Wl,-rpath,"$PC_LIBDIR" -o "$TMP/classify-pc" || fail "compiling with pkg-config flags"
"$TMP/classify-pc" "${RUN_ARGS[@]}" > "$TMP/out-pc.txt" || fail "classify (pkg-config build) exited $?"
cat "$TMP/out-pc.txt"
check_output "$TMP/out-pc.txt"

# Same library, same weights, same pixels: the same classes and probabilities.
diff <(grep '^image' "$TMP/out-cmake.txt") <(grep '^image' "$TMP/out-pc.txt") > /dev/null ||
  fail "the CMake and pkg-config builds printed different results"

# The installed library finds the installed helper that parses weights files: a file on which
# libhdf5 1.10.8 crashes is WEIGHTS_INVALID (exit 1), never the end of the program, never the
# warning of an in-process parse (docs/weights-format.md, "How a file is read").
HELPER="$PREFIX/libexec/resnetrs/resnetrs-parse-weights"
[[ -x "$HELPER" ]] || fail "missing after install: libexec/resnetrs/resnetrs-parse-weights"
set +e
env -u RESNETRS_WEIGHTS_PARSER "$TMP/classify-pc" --weights "$SOURCE_DIR/tests/data/hostile-weights/segv-msg-iterate-1.h5" \
  --backend cpu > /dev/null 2> "$TMP/err.txt"; rc=$?
set -e
if [[ $rc -ne 1 ]] || ! grep -q 'WEIGHTS_INVALID' "$TMP/err.txt" || grep -q 'parsing it in this process' "$TMP/err.txt"; then
  fail "a hostile weights file should exit 1 with WEIGHTS_INVALID, parsed by the installed helper; got $rc: $(cat "$TMP/err.txt")"
fi
echo "a hostile weights file: $(grep -o 'WEIGHTS_INVALID.*' "$TMP/err.txt" | cut -c1-160)"

# Bad flags are a usage error (exit 2); an API error is reported with its status (exit 1).
set +e
"$TMP/classify-pc" --res > /dev/null 2>&1; [[ $? -eq 2 ]] || fail "classify with a bad flag should exit 2"
"$TMP/classify-pc" --weights /nonexistent.h5 --backend cpu > /dev/null 2> "$TMP/err.txt"; rc=$?
set -e
if [[ $rc -ne 1 ]] || ! grep -q 'IO_ERROR' "$TMP/err.txt"; then
  fail "a missing weights file should exit 1 with IO_ERROR, got $rc: $(cat "$TMP/err.txt")"
fi
# The valgrind suppressions ship with the package, named by resnetrs.pc and the CMake package, and
# are what a consumer needs: memcheck on the installed program (library load, a failing call, exit)
# reports no error with them.
SUPP="$PREFIX/share/resnetrs/valgrind.supp"
[[ -f "$SUPP" ]] || fail "missing after install: share/resnetrs/valgrind.supp"
[[ "$(pkg-config --variable=valgrind_suppressions resnetrs)" == "$SUPP" ]] ||
  fail "resnetrs.pc valgrind_suppressions is '$(pkg-config --variable=valgrind_suppressions resnetrs)', expected '$SUPP'"
grep -q "resnetrs valgrind suppressions: $SUPP\$" "$TMP/cmake.log" ||
  fail "find_package(resnetrs) did not set resnetrs_VALGRIND_SUPPRESSIONS to $SUPP: $(grep 'valgrind' "$TMP/cmake.log")"
if command -v valgrind > /dev/null; then
  step "valgrind with the installed suppressions"
  set +e
  valgrind --error-exitcode=99 --suppressions="$SUPP" "$TMP/classify-pc" --weights /nonexistent.h5 --backend cpu \
    > /dev/null 2> "$TMP/valgrind.txt"
  rc=$?
  set -e
  [[ $rc -eq 1 ]] || fail "classify under valgrind exited $rc (99: memcheck errors), expected 1: $(tail -n 30 "$TMP/valgrind.txt")"
  grep 'ERROR SUMMARY' "$TMP/valgrind.txt"
else
  echo "valgrind not installed: the suppressions were not exercised (scripts/setup installs it)"
fi
echo "install test: PASSED"
