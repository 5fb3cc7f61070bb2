#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds qemu-system-x86_64 from Debian bookworm's QEMU 7.2 source package with the apple-dma-pci
# device (passthrough/qemu/hw/apple-dma) and dartlab's device core, mapper and DART linked in.
#
#   scripts/build-qemu.sh [DARTLAB_BUILD_DIR]      (default build/release)
#
# Needs the dartlab libraries built first (cmake --build --preset release --target dartlab_apple_dma).
# Layout, all inside the worktree's build/:
#   build/apt/       a private apt configuration: deb-src entries derived from the machine's
#                    deb sources, their lists and cache (the system's apt setup is never changed)
#   build/qemu-dl/   the downloaded source package (.dsc, .orig.tar.xz, .debian.tar.xz)
#   build/qemu-src/  the unpacked source with Debian's patches and our files copied in
#   build/qemu/      the out-of-tree QEMU build; build/qemu/qemu-system-x86_64 is the result,
#                    with the firmware a real guest boots with in its data directory (step 5)
# A stamp (build/qemu/.dartlab-stamp) holds a hash of our device files and libraries: when it
# matches, the script does nothing. Packages are installed by scripts/install-deps.sh (without
# prompts, with sudo when not root); the source package needs no root.
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
  "$dartlab_build/passthrough/backends/libdartlab_backends.a"
  "$dartlab_build/passthrough/mapper/libdartlab_mapper.a"
  "$dartlab_build/models/dart/libdartlab_dart.a"
  "$dartlab_build/base/libdartlab_base.a"
)
# What the QEMU build needs beyond dartlab's own packages (Debian bookworm names).
qemu_packages=(meson ninja-build python3 pkg-config libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev flex bison dpkg-dev seabios)
# (libfdt: QEMU 7.2's x86_64 target requires the device-tree library even for the pc board;
#  seabios: the BIOS a real guest boots with, step 5.)
seabios=/usr/share/seabios/bios-256k.bin
firmware=(bios-256k.bin linuxboot_dma.bin pvh.bin kvmvapic.bin)

log() { echo "build-qemu: $*" >&2; }
die() { echo "build-qemu: error: $*" >&2; exit 1; }

for lib in "${libs[@]}"; do
  [ -f "$lib" ] || die "$lib is missing: build the dartlab_apple_dma target first"
done

# Our changes to QEMU's own files (each a unified diff with its reason at the top).
patches=("$root"/passthrough/qemu/patches/*.patch)

stamp_of() {
  # Everything that changes the binary: our device files, the core header, our patches, the
  # libraries, this script.
  cat "$device_dir"/* "$core_header" "${patches[@]}" "${libs[@]}" "$0" | sha256sum | cut -d' ' -f1
}
stamp=$(stamp_of)
firmware_present() {
  local f
  for f in "${firmware[@]}"; do
    [ -n "$(find "$out/qemu-bundle" -path "*/share/qemu/$f" -print -quit 2>/dev/null)" ] || return 1
  done
}
if [ -x "$out/qemu-system-x86_64" ] && [ "$(cat "$out/.dartlab-stamp" 2>/dev/null)" = "$stamp" ] && firmware_present; then
  exit 0  # cached: nothing of ours changed
fi

"$root/scripts/install-deps.sh" "${qemu_packages[@]}" >&2 || die "could not install ${qemu_packages[*]}"

# 1. The source package, once. `apt-get source` needs deb-src entries; the machine may have none.
#    They are derived from the machine's own deb sources (scripts/deb-src-entries.sh: same URIs,
#    suites, components, keys) into a private apt configuration under build/apt/, used only by
#    the apt calls below: the system's sources, lists and caches are never touched, and no root
#    is needed. (bookworm's QEMU is 7.2 and builds with bookworm's meson.)
if [ ! -f "$src/.dartlab-unpacked" ]; then
  aptdir="$root/build/apt"
  rm -rf "$aptdir"
  mkdir -p "$aptdir/sources.list.d" "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
  : >"$aptdir/sources.list"
  "$root/scripts/deb-src-entries.sh" >"$aptdir/sources.list.d/deb-src.sources" \
    || die "could not derive deb-src entries from the configured apt sources"
  private_apt=(
    -o Dir::Etc::sourcelist="$aptdir/sources.list" -o Dir::Etc::sourceparts="$aptdir/sources.list.d"
    -o Dir::State::lists="$aptdir/lists" -o Dir::Cache="$aptdir/cache"
  )
  log "reading the source indexes of the configured archives (private apt state in $aptdir)"
  apt-get "${private_apt[@]}" update -qq >"$aptdir/update.log" 2>&1 \
    || { cat "$aptdir/update.log" >&2; die "apt-get update of the deb-src entries failed"; }
  version=$(apt-cache "${private_apt[@]}" showsrc qemu | sed -n 's/^Version: \(1:7\.2.*\)/\1/p' | sort -V | tail -1)
  [ -n "$version" ] || die "no QEMU 7.2 source package in the configured archives (entries: $aptdir/sources.list.d)"
  log "fetching qemu $version source"
  rm -rf "$dl" "$src"
  mkdir -p "$dl"
  (cd "$dl" && apt-get "${private_apt[@]}" source --download-only "qemu=$version" >"$aptdir/source.log" 2>&1) \
    || { cat "$aptdir/source.log" >&2; die "apt-get source qemu=$version failed"; }
  dsc=$(ls "$dl"/*.dsc)
  # dpkg-source applies Debian's patch series (security fixes included).
  # (--no-copy: no copy of the orig tarball beside build/qemu-src)
  dpkg-source --no-copy -x "$dsc" "$src" >/dev/null 2>&1 || die "dpkg-source -x $dsc failed"
  touch "$src/.dartlab-unpacked"
fi

# 2. Our patches to QEMU's files, each applied once (a patch that reverses cleanly is in already).
for p in "${patches[@]}"; do
  if ! patch -d "$src" -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1; then
    patch -d "$src" -p1 -s -f < "$p" >/dev/null || die "patch $p does not apply to $src"
    log "applied $(basename "$p")"
  fi
done

# 3. Our files into the tree, and the three one-line hooks (each added once).
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
# Devices: no defaults, only what the tests and the guest use. The pristine list is kept beside
# it once, and the list is regenerated from it: a changed block replaces the old one, an
# unchanged one leaves the mtime (and so meson) alone.
devices="$src/configs/devices/x86_64-softmmu/default.mak"
[ -f "$devices.orig" ] || sed '/^# dartlab/,$d' "$devices" > "$devices.orig"
{
  cat "$devices.orig"
  cat <<'EOF'
# dartlab: the apple-dma-pci device; edu, the DMA-capable test device it manages in the qtest
# tests; the NVMe controller, the managed device of the Linux guest (scripts/run-guest.sh);
# ivshmem-plain, the guest's results channel (docs/guest-image.md); the pc board's 16550 serial
# ports (already selected by the board, named so the guest's console never depends on it).
CONFIG_APPLE_DMA_PCI=y
CONFIG_EDU=y
CONFIG_NVME_PCI=y
CONFIG_IVSHMEM_DEVICE=y
CONFIG_SERIAL_ISA=y
EOF
} > "$devices.new"
install_if_changed "$devices.new" "$devices"
rm -f "$devices.new"
# Boards other than pc are not built (fewer objects); edited once so the mtime stays put.
boards="$src/configs/devices/i386-softmmu/default.mak"
if grep -qE '^CONFIG_(ISAPC|Q35|MICROVM)=y$' "$boards"; then
  sed -i 's/^CONFIG_ISAPC=y$/CONFIG_ISAPC=n/; s/^CONFIG_Q35=y$/CONFIG_Q35=n/; s/^CONFIG_MICROVM=y$/CONFIG_MICROVM=n/' "$boards"
fi

# 4. Configure once (out of tree), then build only the emulator.
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

# 5. Firmware for booting a real Linux guest (scripts/run-guest.sh), put where this QEMU looks by
#    itself: the data directory of its build tree (qemu-bundle/<prefix>/share/qemu), so no -L is
#    needed. The qtest tests pass their own -bios and run no CPU: they do not care.
#    - SeaBIOS: bios-256k.bin from Debian's seabios package (installed above; a data package).
#    - The option ROMs QEMU hands SeaBIOS for -kernel: linuxboot_dma.bin (bzImage entry), pvh.bin
#      (PVH entry of an uncompressed vmlinux), kvmvapic.bin (loaded by the pc board's APIC).
#      Built here from pc-bios/optionrom of the very source tree we build, with the host gcc
#      (-m16, under a second), rather than taken from Debian's qemu-system-data: built from our
#      tree they speak this QEMU's fw_cfg protocol by construction (same version, same Debian
#      patches), and no second binary package has to match the source package's version.
#      (configure sets the ROM build up only when i386-softmmu is a target; we give it the
#      config.mak it would have written.)
optionrom="$out/pc-bios/optionrom"
mkdir -p "$optionrom"
ln -sf "$src/pc-bios/optionrom/Makefile" "$optionrom/Makefile"
printf 'TOPSRC_DIR=%s\nCC=gcc\nCCAS=gcc\nLD=ld\nOBJCOPY=objcopy\nPYTHON=python3\n' "$src" > "$optionrom/config.mak"
make -s -C "$optionrom" linuxboot_dma.bin pvh.bin kvmvapic.bin >"$optionrom/make.log" 2>&1 \
  || { cat "$optionrom/make.log" >&2; die "building the option ROMs failed"; }
datadir=$(find "$out/qemu-bundle" -type d -path '*/share/qemu' -print -quit)
[ -n "$datadir" ] || die "no share/qemu under $out/qemu-bundle: did the build create its bundle?"
for rom in linuxboot_dma.bin pvh.bin kvmvapic.bin; do
  install_if_changed "$optionrom/$rom" "$datadir/$rom"
done
[ -f "$seabios" ] || die "$seabios is missing: is Debian's seabios package installed?"
install_if_changed "$seabios" "$datadir/bios-256k.bin"
stamp_of > "$out/.dartlab-stamp"
