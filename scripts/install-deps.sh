#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages dartlab builds and tests with; a no-op when all are present.
#   scripts/install-deps.sh [PACKAGE...]   (default: the list below)
# Every package comes from Debian's archive (see README "Dependencies" for why each is here).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  clang-14 libclang-rt-14-dev                     # libFuzzer and its sanitizers, tests/fuzz
  libsystemc-dev                                  # SystemC 2.3.4, timed models
  catch2                                          # Catch2 2.13, unit and property tests
  libboost-dev                                    # Boost 1.74 headers (ICL, intrusive)
  libbenchmark-dev                                # Google Benchmark, bench/
  libcli11-dev                                    # CLI11, command-line parsing
  nlohmann-json3-dev                              # JSON output
  libfmt-dev                                      # formatting of tables and messages
  libzstd-dev                                     # zstd compression of binary traces, and .zst inputs
  zlib1g-dev                                      # gzip-compressed inputs (traces/byte_source.cpp); QEMU needs it too
  chromium                                        # headless browser: the HTML report's rendering test
  # QEMU 7.2 with apple-dma-pci (scripts/build-qemu.sh; the source comes from `apt-get source`)
  meson python3 libglib2.0-dev libpixman-1-dev libfdt-dev flex bison dpkg-dev seabios
  # The Linux guest (scripts/build-guest.sh; the kernel itself is downloaded, never installed)
  gcc-12 libc6-dev kmod xz-utils libelf1 libssl3
  libtomlplusplus-dev                             # toml++ 3.3, sweep configs in TOML
  parallel                                        # GNU parallel, the sharded-sweep test
  help2man                                        # man pages made from each subcommand's --help (make install)
)

# With arguments, those packages instead of the list (build-qemu.sh and build-guest.sh name theirs).
[ $# -eq 0 ] || packages=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
