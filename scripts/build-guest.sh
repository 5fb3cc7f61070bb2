#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Linux guest that scripts/run-guest.sh boots: Debian bookworm's amd64 kernel, the
# apple_dma module built against that kernel's headers, the static tools from tests/guest/*.c and
# an initramfs with busybox, the NVMe modules, the module, the tools and tests/guest/init.sh.
# Nothing is installed on the host: the packages are downloaded (`apt-get download`, from the
# machine's configured archives) and unpacked (`dpkg-deb -x`) inside build/. Details and the
# guest's protocol: docs/guest-image.md.
#
#   scripts/build-guest.sh
#
# Layout, inside the worktree's build/:
#   build/guest-dl/        the downloaded .deb files (kept: a second run downloads nothing)
#   build/guest/root/      the packages unpacked: kernel image and modules, headers, kbuild, busybox
#   build/guest/NAME/      a copy of each out-of-tree module's source and its build (apple_dma.ko from
#                          passthrough/guest/, adma_hostile.ko from tests/guest/hostile/)
#   build/guest/tools/     the static guest tools
#   build/guest/vmlinuz    the kernel (bzImage); build/guest/vmlinux: the same kernel uncompressed
#                          (an ELF with the PVH entry note, booted directly by QEMU's pvh.bin)
#   build/guest/initramfs.cpio   the initramfs (newc, uncompressed: the fastest to unpack)
#   build/guest/kernel-release   the kernel's release string (uname -r)
# Every step keeps a stamp (build/guest/.stamps/) of its inputs' hash and is skipped while it
# matches. The kernel follows linux-image-amd64's current dependency in the apt lists: a new
# Debian kernel is an input that changed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
self="$root/scripts/build-guest.sh"
dl="$root/build/guest-dl"
out="$root/build/guest"
stamps="$out/.stamps"
# Out-of-tree modules: NAME=SOURCE DIR; each builds NAME.ko into build/guest/NAME/ and the
# initramfs's /lib/modules/VERSION/extra/. apple_dma is the product; adma_hostile a test driver
# that misuses the DMA API (tests/guest/scenarios/hostile.sh).
ext_modules=("apple_dma=$root/passthrough/guest" "adma_hostile=$root/tests/guest/hostile")
init_script="$root/tests/guest/init.sh"
guest_lib="$root/tests/guest/guest-lib.sh"   # helpers for scenarios: /lib/dartlab/guest-lib.sh
# The drivers the initramfs carries, with their modules.dep closure: the managed NVMe's driver.
guest_modules=(nvme)
# Host tools (Debian bookworm): gcc-12 is the compiler bookworm's kernel is built with; libc6-dev
# has the libc.a the static tools link; libelf1 and libssl3 are what the unpacked kbuild programs
# (modpost, objtool, sign-file) link against; kmod's depmod computes modules.dep; xz-utils unpacks
# the kernel for the PVH entry; python3 runs scripts/mkcpio.py, which writes the initramfs.
host_packages=(gcc-12 libc6-dev make libelf1 libssl3 kmod xz-utils python3)

log() { echo "build-guest: $*" >&2; }
die() { echo "build-guest: error: $*" >&2; exit 1; }

stamp_ok() { [ "$(cat "$stamps/$1" 2>/dev/null)" = "$2" ]; }    # stamp_ok NAME HASH
stamp_set() { mkdir -p "$stamps"; echo "$2" > "$stamps/$1"; }  # stamp_set NAME HASH
hash_of() { sha256sum | cut -d' ' -f1; }                           # stdin -> hash
hash_files() { cat "$@" | hash_of; }                               # contents of files -> hash

"$root/scripts/install-deps.sh" "${host_packages[@]}" >&2 || die "could not install ${host_packages[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# 1. Which packages: linux-image-amd64's current dependency names the kernel; its headers package
#    names the exact common-headers and kbuild versions it needs.
depends_of() {  # depends_of PACKAGE -> "name=version" per line, for versioned (= or >=) dependencies
  apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Depends: //p' | tr ',' '\n' \
    | sed -n 's/^ *\([a-z0-9.+-]*\) (>\{0,1\}= \([^)]*\)).*/\1=\2/p'
}
# resolve: sets `wanted` (name=version of every package) and `kver` from the apt lists.
resolve() {
  local image image_pkg headers headers_deps busybox
  image=$(depends_of linux-image-amd64 | grep '^linux-image-' | head -1 || true)
  [ -n "$image" ] || { log "linux-image-amd64 names no linux-image-X (= version) dependency in the apt lists"; return 1; }
  image_pkg=${image%%=*}
  kver=${image_pkg#linux-image-}
  headers="linux-headers-$kver=${image#*=}"
  headers_deps=$(depends_of "linux-headers-$kver" | grep -E '^linux-(headers-.*-common|kbuild-)' || true)
  [ "$(wc -l <<<"$headers_deps")" -eq 2 ] \
    || { log "linux-headers-$kver: expected a -common and a kbuild dependency, got: $headers_deps"; return 1; }
  busybox=$(apt-cache show --no-all-versions busybox-static 2>/dev/null | sed -n 's/^Version: /busybox-static=/p' | head -1)
  [ -n "$busybox" ] || { log "no busybox-static in the apt lists"; return 1; }
  mapfile -t headers_deps_list <<<"$headers_deps"
  wanted=("$image" "$headers" "${headers_deps_list[@]}" "$busybox")
}

# 2. Download what is not here yet; the manifest maps name=version to its file. Sets `debs`.
download() {
  local pkg file before
  mkdir -p "$dl"
  touch "$dl/manifest"
  debs=()
  for pkg in "${wanted[@]}"; do
    file=$(awk -v p="$pkg" '$1 == p { print $2 }' "$dl/manifest")
    if [ -z "$file" ] || [ ! -f "$dl/$file" ]; then
      log "downloading $pkg"
      before=$(ls "$dl")
      (cd "$dl" && apt-get download -qq "$pkg" >/dev/null 2>"$dl/download.log") \
        || { cat "$dl/download.log" >&2; log "apt-get download $pkg failed"; return 1; }
      file=$(comm -13 <(echo "$before") <(ls "$dl") | grep '\.deb$' | head -1)
      [ -n "$file" ] || { log "apt-get download $pkg wrote no .deb into $dl"; return 1; }
      echo "$pkg $file" >> "$dl/manifest"
    fi
    debs+=("$dl/$file")
  done
}

# Lists missing or stale (the archive no longer has the version they name): one apt-get update
# of the system's lists (its configuration untouched), then once more.
if ! { resolve && download; }; then
  log "refreshing the apt lists (apt-get update) and trying again"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  resolve && download || die "could not get the guest's packages from the configured archives"
fi

# 3. Unpack into build/guest/root (never into /): again only when the set of packages changed.
unpacked=$(printf '%s\n' "${debs[@]##*/}" | hash_of)
if ! stamp_ok unpack "$unpacked" || [ ! -d "$out/root" ]; then
  log "unpacking ${#debs[@]} packages into $out/root"
  rm -rf "$out/root" "$stamps"
  mkdir -p "$out/root"
  for deb in "${debs[@]}"; do
    dpkg-deb -x "$deb" "$out/root"
  done
  # The headers name their installed place (/usr/src/...): point them at the unpacked copy.
  hdr="$out/root/usr/src/linux-headers-$kver"
  common=$(sed -n 's|^include /usr/src/\(linux-headers-[^/]*-common\)/Makefile$|\1|p' "$hdr/Makefile")
  [ -n "$common" ] || die "$hdr/Makefile: no 'include /usr/src/...-common/Makefile' line to relocate"
  sed -i "s|^include /usr/src/$common/Makefile\$|include \$(dir \$(realpath \$(lastword \$(MAKEFILE_LIST))))../$common/Makefile|" "$hdr/Makefile"
  ln -sfn "../../../usr/src/linux-headers-$kver" "$out/root/lib/modules/$kver/build"
  ln -sfn "../../../usr/src/$common" "$out/root/lib/modules/$kver/source"
  # The image package leaves modules.dep to its postinst's depmod: run it on the unpacked tree.
  depmod -b "$out/root" "$kver"
  echo "$kver" > "$out/kernel-release"
  stamp_set unpack "$unpacked"
fi
hdr="$out/root/usr/src/linux-headers-$kver"
config="$out/root/boot/config-$kver"
[ -f "$config" ] || die "$config is missing from the unpacked image"

# 4. The kernel, as bzImage and uncompressed (the payload of the bzImage: its setup header gives
#    where it lies; bookworm compresses it with xz).
kernel_stamp=$(hash_files "$out/root/boot/vmlinuz-$kver")
if ! stamp_ok kernel "$kernel_stamp" || [ ! -f "$out/vmlinux" ]; then
  vmlinuz="$out/root/boot/vmlinuz-$kver"
  cp "$vmlinuz" "$out/vmlinuz"
  le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
  setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$vmlinuz" | tr -d ' ')
  [ "$setup_sects" -ne 0 ] || setup_sects=4
  payload_offset=$(le32 "$vmlinuz" $((0x248)))
  payload_length=$(le32 "$vmlinuz" $((0x24c)))
  start=$(( (setup_sects + 1) * 512 + payload_offset ))
  dd if="$vmlinuz" iflag=skip_bytes,count_bytes skip="$start" count="$payload_length" bs=1M status=none \
    | xz -dc --single-stream > "$out/vmlinux.tmp" \
    || die "$vmlinuz: the payload at $start ($payload_length bytes) is no xz stream"
  [ "$(head -c4 "$out/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] || die "$vmlinuz: its payload is not an ELF kernel"
  mv "$out/vmlinux.tmp" "$out/vmlinux"
  stamp_set kernel "$kernel_stamp"
fi

# 5. The compiler: the one the kernel was built with (modules must match it).
want_cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$config")
have_cc=$(gcc-12 --version | head -1)
[ "${want_cc##* }" = "${have_cc##* }" ] \
  || die "the kernel was built with '$want_cc' but the host's gcc-12 is '$have_cc'"
[ "$want_cc" = "$have_cc" ] || log "note: kernel built with '$want_cc', host has '$have_cc' (same GCC release)"

# 6. The modules, each in a copy of its source directory (the tree stays clean), warnings as errors.
for spec in "${ext_modules[@]}"; do
  name=${spec%%=*} src_dir=${spec#*=}
  stamp=$( (cd "$src_dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "$kver"; cat "$self") | hash_of)
  if ! stamp_ok "module-$name" "$stamp" || [ ! -f "$out/$name/$name.ko" ]; then
    log "building $name.ko against linux-headers-$kver"
    rm -rf "${out:?}/$name"
    cp -r "$src_dir" "$out/$name"
    make -C "$hdr" M="$out/$name" KCFLAGS=-Werror -j "${JOBS:-2}" modules >"$out/$name.log" 2>&1 \
      || { cat "$out/$name.log" >&2; die "$name failed to build (log: $out/$name.log)"; }
    [ -f "$out/$name/$name.ko" ] || die "the build of $name made no $name.ko (log: $out/$name.log)"
    stamp_set "module-$name" "$stamp"
  fi
done

# 7. The guest tools: each tests/guest/NAME.c is one static program NAME.
mkdir -p "$out/tools"
cflags=(-static -O2 -Wall -Wextra -Werror)
tools=()
for c in "$root"/tests/guest/*.c; do
  name=$(basename "$c" .c)
  tools+=("$name")
  tool_stamp=$( (cat "$c"; echo "${cflags[*]}"; gcc-12 --version | head -1) | hash_of)
  if ! stamp_ok "tool-$name" "$tool_stamp" || [ ! -x "$out/tools/$name" ]; then
    log "building tool $name"
    gcc-12 "${cflags[@]}" -o "$out/tools/$name" "$c" || die "$c failed to build"
    stamp_set "tool-$name" "$tool_stamp"
  fi
done
for stale in "$out"/tools/*; do
  [ -e "$stale" ] || continue
  printf '%s\n' "${tools[@]}" | grep -qxF "$(basename "$stale")" || rm -f "$stale"
done

# 8. The initramfs: busybox and its applets, /init, the tools, the modules with their modules.dep.
modroot="$out/root/lib/modules/$kver"
closure=()
for m in "${guest_modules[@]}"; do
  line=$(grep -E "(^|/)$m\.ko:" "$modroot/modules.dep" | head -1) || die "$m: no such module in $modroot/modules.dep"
  read -r -a deps <<<"${line#*:}"
  closure+=("${line%%:*}" ${deps[@]+"${deps[@]}"})
done
initramfs_stamp=$( (
    cat "$init_script" "$guest_lib" "$out/root/bin/busybox" "$self"
    for spec in "${ext_modules[@]}"; do cat "$out/${spec%%=*}/${spec%%=*}.ko"; done
    for t in "${tools[@]}"; do cat "$out/tools/$t"; done
    for m in "${closure[@]}"; do echo "$m"; cat "$modroot/$m"; done
  ) | hash_of)
if ! stamp_ok initramfs "$initramfs_stamp" || [ ! -f "$out/initramfs.cpio" ]; then
  log "writing the initramfs"
  stage="$out/initramfs"
  rm -rf "$stage"
  mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,results,scenario} "$stage/lib/modules/$kver/extra"
  cp "$out/root/bin/busybox" "$stage/bin/busybox"
  # Applets as symlinks (the list comes from the binary itself, as busybox --install would make).
  for applet in $("$stage/bin/busybox" --list-full); do
    [ "$applet" = bin/busybox ] || ln -s /bin/busybox "$stage/$applet"
  done
  for t in "${tools[@]}"; do
    [ ! -e "$stage/bin/$t" ] || die "tool $t would shadow the busybox applet of that name: rename tests/guest/$t.c"
    cp "$out/tools/$t" "$stage/bin/$t"
  done
  install -m 755 "$init_script" "$stage/init"
  install -D -m 644 "$guest_lib" "$stage/lib/dartlab/guest-lib.sh"
  for m in "${closure[@]}"; do
    mkdir -p "$stage/lib/modules/$kver/$(dirname "$m")"
    cp "$modroot/$m" "$stage/lib/modules/$kver/$m"
  done
  for spec in "${ext_modules[@]}"; do cp "$out/${spec%%=*}/${spec%%=*}.ko" "$stage/lib/modules/$kver/extra/"; done
  cp "$modroot/modules.order" "$modroot/modules.builtin" "$modroot/modules.builtin.modinfo" "$stage/lib/modules/$kver/"
  depmod -b "$stage" "$kver"
  python3 "$root/scripts/mkcpio.py" "$out/initramfs.cpio" "$stage" --node dev/console:600:5:1
  stamp_set initramfs "$initramfs_stamp"
fi
log "guest ready: kernel $kver, $(du -h "$out/initramfs.cpio" | cut -f1) initramfs (build/guest/)"
