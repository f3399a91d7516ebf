#!/usr/bin/env bash
# build-fuzzers.sh [OUTDIR] — build the libFuzzer targets of tests/fuzz/ with
# clang (-fsanitize=fuzzer,address,undefined) straight from the sources, so
# the meson build (gcc) needs no fuzz option. The library sources are the
# ones src/<layer>/meson.build lists, compiled once with coverage
# instrumentation.
#
# Targets: quantity, names, claim, api, http (+ yaml when src/lib/yaml_body.c exists).
# Needs clang and its libFuzzer runtime (Debian: libclang-rt-14-dev).
# Output: OUTDIR/fuzz_<target> (default OUTDIR: build-fuzz/ at the top).
# CLAIMFS_SRC=DIR builds against another copy of src/ (e.g. `git archive HEAD src`).
# Exit 77 when clang or libFuzzer is missing (run-fuzzers.sh fails on it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build-fuzz}
srcdir=${CLAIMFS_SRC:-$root/src}
CC=${CC:-clang}
mkdir -p "$out/obj"

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "build-fuzzers: $CC not found (apt-get install -y clang libclang-rt-14-dev)" >&2
	exit 77
fi
probe="$out/obj/probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }' >"$probe"
if ! "$CC" -fsanitize=fuzzer "$probe" -o "$out/obj/probe" 2>/dev/null; then
	echo "build-fuzzers: $CC has no libFuzzer runtime (apt-get install -y libclang-rt-14-dev)" >&2
	exit 77
fi

pkgs="sqlite3 jansson yaml-0.1 uuid fuse3 libmicrohttpd zlib libarchive"
layers=(lib store fs model api)
version=$(sed -n "s/^  version : '\(.*\)',/\1/p" "$root/meson.build" | head -1)
CFLAGS=(-std=gnu17 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -DFUSE_USE_VERSION=312
	"-DCLAIMFS_VERSION=\"${version:-fuzz}\"" "${layers[@]/#/-I$srcdir/}" -I"$here" $(pkg-config --cflags $pkgs)
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -Wall -Wno-unused-parameter)
LIBS=($(pkg-config --libs $pkgs) -lpthread)

# The libraries as meson builds them: every 'x.c' named in src/<layer>/meson.build.
sources=()
for layer in "${layers[@]}"; do
	mapfile -t names < <(grep -o "'[A-Za-z0-9_]*\.c'" "$srcdir/$layer/meson.build" | tr -d "'" | sort -u)
	sources+=("${names[@]/#/$layer/}")
done
objects=()
for src in "${sources[@]}"; do
	obj="$out/obj/$(basename "${src%.c}").o"
	"$CC" "${CFLAGS[@]}" -fsanitize=fuzzer-no-link -c "$srcdir/$src" -o "$obj"
	objects+=("$obj")
done
"$CC" "${CFLAGS[@]}" -c "$here/fuzz_util.c" -o "$out/obj/fuzz_util.o"

targets=(quantity names claim api http)
if [ -f "$srcdir/lib/yaml_body.c" ] && printf '%s\n' "${sources[@]}" | grep -qx lib/yaml_body.c; then
	targets+=(yaml)
fi
for t in "${targets[@]}"; do
	"$CC" "${CFLAGS[@]}" -fsanitize=fuzzer "$here/fuzz_$t.c" "$out/obj/fuzz_util.o" \
		"${objects[@]}" "${LIBS[@]}" -o "$out/fuzz_$t"
	echo "build-fuzzers: $out/fuzz_$t"
done
