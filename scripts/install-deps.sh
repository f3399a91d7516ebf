#!/usr/bin/env bash
# install-deps.sh — install the Debian 12 packages claimfs needs to build, run
# and test, and prepare FUSE. Idempotent: installs only what dpkg says is
# missing and runs `apt-get update` only when something is.
#
# Works as root; otherwise uses sudo when present, else prints the exact
# command to run and fails.
set -euo pipefail

PACKAGES=(
	# build and the daemon
	build-essential pkg-config meson ninja-build
	libfuse3-dev fuse3
	libsqlite3-dev sqlite3
	libmicrohttpd-dev libjansson-dev libyaml-dev uuid-dev libarchive-dev
	# zlib: CRC-32 of the redo log's records
	zlib1g-dev
	# tests: Check, fixtures, valgrind phase, libFuzzer (clang + its runtime),
	# openssl (a throwaway TLS certificate for the HTTPS tests)
	check curl python3 valgrind clang libclang-rt-14-dev openssl
	# claimfs-csi (gRPC core + protobuf-c) and its Python gRPC test client;
	# without them meson skips the driver, so they are installed, not optional
	libgrpc-dev libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev
	python3-grpcio python3-grpc-tools
	# the schema table's generator (tools/schema) and its regeneration test;
	# the official Python client, driven by the client-python integration test
	python3-kubernetes
	# PostgreSQL 15 (/usr/lib/postgresql/15/bin): the bench's real group
	# (make bench: initdb, postgres, pgbench) and the pgbench test (the same
	# and pg_amcheck, in a claim while the supervised worker is killed); git
	# for the bench's clone workload and the bench-real-checks test
	postgresql-15 git
	# the volume plugin's Podman test: rootful podman with Debian's runc (crun
	# refuses hybrid cgroups), catatonit (the pause process of kube play's
	# pods) and an image imported from busybox-static's rootfs
	podman runc catatonit busybox-static
)
# kubectl (the kubectl integration tests) is not a Debian 12 package; the
# machine image provides it and those tests skip without it.

# as_root CMD... — run CMD as root (directly, or through sudo).
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "install-deps: not root and no sudo; run as root:" >&2
		echo "  $*" >&2
		return 1
	fi
}

# is_installed PKG — true when dpkg reports PKG as installed ("ii").
is_installed() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) || return 1
	[ "${status:0:2}" = "ii" ]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
	is_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: not root and no sudo; run as root:" >&2
		echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# allow_other for non-root mounters (the daemon mounts with allow_other).
if [ -f /etc/fuse.conf ] && ! grep -qx 'user_allow_other' /etc/fuse.conf; then
	if as_root sh -c 'echo user_allow_other >> /etc/fuse.conf'; then
		echo "install-deps: enabled user_allow_other in /etc/fuse.conf"
	else
		echo "install-deps: warning: could not enable user_allow_other" >&2
	fi
fi

# The FUSE device; in some containers the module cannot be loaded, and the
# integration tests then skip (exit 77) rather than fail.
if [ ! -e /dev/fuse ]; then
	as_root modprobe fuse 2>/dev/null || echo "install-deps: warning: /dev/fuse missing and modprobe fuse failed" >&2
fi
exit 0
