#!/usr/bin/env bash
# Builds qemu-system-x86_64 from Debian bookworm's QEMU 7.2 source package with the apple-dma-pci
# device (passthrough/qemu/hw/apple-dma) and dartlab's device core, mapper and DART linked in.
#
#   scripts/build-qemu.sh [DARTLAB_BUILD_DIR]      (default build/release)
#
# Needs the dartlab libraries built first (cmake --build --preset release --target dartlab_apple_dma).
# Layout, all inside the worktree's build/:
#   build/qemu-dl/   the downloaded source package (.dsc, .orig.tar.xz, .debian.tar.xz)
#   build/qemu-src/  the unpacked source with Debian's patches and our files copied in
#   build/qemu/      the out-of-tree QEMU build; build/qemu/qemu-system-x86_64 is the result
# A stamp (build/qemu/.dartlab-stamp) holds a hash of our device files and libraries: when it
# matches, the script does nothing. Apt is used without prompts, with sudo when not root.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dartlab_build=$(cd "${1:-$root/build/release}" && pwd)
dl="$root/build/qemu-dl"
src="$root/build/qemu-src"
out="$root/build/qemu"
device_dir="$root/passthrough/qemu/hw/apple-dma"
core_header="$root/passthrough/qemu/core/apple_dma.h"
libs=(
  "$dartlab_build/passthrough/qemu/core/libdartlab_apple_dma.a"
  "$dartlab_build/models/dart/libdartlab_dart.a"
  "$dartlab_build/passthrough/mapper/libdartlab_mapper.a"
)
# What the QEMU build needs beyond dartlab's own packages (Debian bookworm names).
qemu_packages=(meson ninja-build python3 pkg-config libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev flex bison dpkg-dev)
# (libfdt: QEMU 7.2's x86_64 target requires the device-tree library even for the pc board.)

log() { echo "build-qemu: $*" >&2; }
die() { echo "build-qemu: error: $*" >&2; exit 1; }

for lib in "${libs[@]}"; do
  [ -f "$lib" ] || die "$lib is missing: build the dartlab_apple_dma target first"
done

stamp_of() {
  # Everything that changes the binary: our device files, the core header, the libraries, this script.
  cat "$device_dir"/* "$core_header" "${libs[@]}" "$0" | sha256sum | cut -d' ' -f1
}
stamp=$(stamp_of)
if [ -x "$out/qemu-system-x86_64" ] && [ "$(cat "$out/.dartlab-stamp" 2>/dev/null)" = "$stamp" ]; then
  exit 0  # cached: nothing of ours changed
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "need root or sudo for apt"
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive

missing=()
for p in "${qemu_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 1. The source package, once. `apt-get source` needs a deb-src entry: add Debian's own archive
#    if none is configured (bookworm's QEMU is 7.2 and builds with bookworm's meson).
if [ ! -f "$src/.dartlab-unpacked" ]; then
  # (captured first: grep -q closing the pipe early would fail the pipeline under pipefail)
  sources=$(apt-cache showsrc qemu 2>/dev/null || true)
  if ! grep -q '^Version: 1:7\.2' <<<"$sources"; then
    log "adding a deb-src entry for deb.debian.org (bookworm)"
    $sudo tee /etc/apt/sources.list.d/dartlab-deb-src.sources >/dev/null <<'EOF'
# Added by dartlab scripts/build-qemu.sh: Debian's own source archive, for `apt-get source qemu`.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  fi
  version=$(apt-cache showsrc qemu | sed -n 's/^Version: \(1:7\.2.*\)/\1/p' | sort -V | tail -1)
  [ -n "$version" ] || die "no QEMU 7.2 source package in the configured archives"
  log "fetching qemu $version source"
  rm -rf "$dl" "$src"
  mkdir -p "$dl"
  (cd "$dl" && apt-get source --download-only "qemu=$version" >/dev/null 2>&1) || die "apt-get source qemu=$version failed"
  dsc=$(ls "$dl"/*.dsc)
  # dpkg-source applies Debian's patch series (security fixes included).
  dpkg-source -x "$dsc" "$src" >/dev/null 2>&1 || die "dpkg-source -x $dsc failed"
  touch "$src/.dartlab-unpacked"
fi

# 2. Our files into the tree, and the three one-line hooks (each added once).
#    Files are replaced only when their content changed: a new mtime on meson.build or Kconfig
#    would make ninja re-run meson.
install_if_changed() {  # install_if_changed SRC DST
  cmp -s "$1" "$2" || cp "$1" "$2"
}
mkdir -p "$src/hw/apple-dma"
for f in apple-dma-pci.c trace-events trace.h Kconfig; do
  install_if_changed "$device_dir/$f" "$src/hw/apple-dma/$f"
done
install_if_changed "$core_header" "$src/hw/apple-dma/apple_dma.h"
lib_list=$(printf "'%s', " "${libs[@]}")
sed "s|@DARTLAB_LIBS@|${lib_list%, }|" "$device_dir/meson.build" > "$src/hw/apple-dma/meson.build.new"
install_if_changed "$src/hw/apple-dma/meson.build.new" "$src/hw/apple-dma/meson.build"
rm -f "$src/hw/apple-dma/meson.build.new"
grep -q "subdir('apple-dma')" "$src/hw/meson.build" || sed -i "s|^subdir('misc')$|&\nsubdir('apple-dma')|" "$src/hw/meson.build"
grep -q "source apple-dma/Kconfig" "$src/hw/Kconfig" || sed -i "s|^source misc/Kconfig$|&\nsource apple-dma/Kconfig|" "$src/hw/Kconfig"
grep -q "'hw/apple-dma'" "$src/meson.build" || sed -i "s|^    'hw/misc',$|&\n    'hw/apple-dma',|" "$src/meson.build"
# Devices: no defaults, only what the tests use (the pc board, edu as the managed DMA engine).
devices="$src/configs/devices/x86_64-softmmu/default.mak"
grep -q "dartlab" "$devices" || cat >> "$devices" <<'EOF'
# dartlab: the apple-dma-pci device and edu, the DMA-capable test device it manages in tests.
CONFIG_APPLE_DMA_PCI=y
CONFIG_EDU=y
EOF
# Boards other than pc are not built (fewer objects); edited once so the mtime stays put.
boards="$src/configs/devices/i386-softmmu/default.mak"
if grep -qE '^CONFIG_(ISAPC|Q35|MICROVM)=y$' "$boards"; then
  sed -i 's/^CONFIG_ISAPC=y$/CONFIG_ISAPC=n/; s/^CONFIG_Q35=y$/CONFIG_Q35=n/; s/^CONFIG_MICROVM=y$/CONFIG_MICROVM=n/' "$boards"
fi

# 3. Configure once (out of tree), then build only the emulator.
configure_args=(
  --target-list=x86_64-softmmu --without-default-features --without-default-devices
  --enable-tcg --enable-kvm --enable-fdt=system --enable-trace-backends=log --disable-docs --disable-install-blobs
  --disable-user --disable-tools --disable-guest-agent
)
if [ ! -f "$out/build.ninja" ] || [ "$(cat "$out/.dartlab-configure" 2>/dev/null)" != "${configure_args[*]}" ]; then
  log "configuring in $out"
  rm -rf "$out"
  mkdir -p "$out"
  (cd "$out" && "$src/configure" "${configure_args[@]}" >configure.log 2>&1) || die "configure failed: see $out/configure.log"
  echo "${configure_args[*]}" > "$out/.dartlab-configure"
fi
# meson.build links the libraries by path, so ninja does not see them change: relink by hand.
rm -f "$out/qemu-system-x86_64"
log "building qemu-system-x86_64 (-j${JOBS:-2})"
start=$(date +%s)
ninja -C "$out" -j "${JOBS:-2}" qemu-system-x86_64 >"$out/ninja.log" 2>&1 || { tail -40 "$out/ninja.log" >&2; die "build failed: see $out/ninja.log"; }
log "built in $(( $(date +%s) - start )) s"
stamp_of > "$out/.dartlab-stamp"
