#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints deb-src entries (deb822 form) mirroring the machine's own configured deb sources: the
# same URIs, suites, components and Signed-By (or trusted=yes), one stanza per configured entry.
# Both forms of apt source are read: one-line `deb [opts] URI SUITE COMPONENT...` (.list files,
# sources.list) and deb822 stanzas (.sources files, `Enabled: no` skipped). Files in the parts
# directory are taken as apt takes them: names of [A-Za-z0-9_.-] ending in .list or .sources,
# in sorted order (so `foo.list.disabled` is ignored, as apt ignores it).
#
#   scripts/deb-src-entries.sh [SOURCELIST [SOURCEPARTS]]
#
# Defaults: the system's Dir::Etc::sourcelist and Dir::Etc::sourceparts (apt-config). Nothing is
# written: build-qemu.sh puts the output into a private apt configuration under build/.
# Exit 1 when no deb source is configured at all (nothing to derive from).
set -euo pipefail

die() { echo "deb-src-entries: error: $*" >&2; exit 1; }

if [ $# -ge 1 ]; then
  sourcelist=$1
  sourceparts=${2:-/nonexistent}
else
  eval "$(apt-config shell sourcelist Dir::Etc::sourcelist/f sourceparts Dir::Etc::sourceparts/d)"
  sourceparts=${sourceparts%/}
fi

files=()
[ -f "$sourcelist" ] && files+=("$sourcelist")
if [ -d "$sourceparts" ]; then
  while IFS= read -r f; do
    files+=("$sourceparts/$f")
  done < <(ls -1 "$sourceparts" | LC_ALL=C sort | grep -E '^[A-Za-z0-9_.-]+\.(list|sources)$' || true)
fi
[ ${#files[@]} -gt 0 ] || die "no apt source files (looked at $sourcelist and $sourceparts)"

# One awk over every file, so that an archive configured twice (a deb and a deb-src line for the
# same archive, say) yields one stanza.
out=$(awk '
  function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
  # One stanza per (URI, suite), the first configured wins: apt refuses two entries for the same
  # archive and suite whose options (Signed-By) differ, and a deb line with its deb-src twin is
  # the common case.
  function emit(from, uris, suites, comps, signed, trusted,   nu, ns, u, v, a, k, s) {
    nu = split(uris, u, /[ \t]+/)
    ns = split(suites, v, /[ \t]+/)
    for (a = 1; a <= nu; a++) for (k = 1; k <= ns; k++) {
      key2 = u[a]; sub(/\/+$/, "", key2); key2 = key2 " " v[k]
      if (key2 in seen) continue
      seen[key2] = 1
      s = "Types: deb-src\nURIs: " u[a] "\nSuites: " v[k] "\n"
      if (comps != "") s = s "Components: " comps "\n"
      if (signed != "") s = s "Signed-By: " signed "\n"
      if (trusted != "") s = s "Trusted: " trusted "\n"
      printf "# from %s\n%s\n", from, s
    }
  }
  function complain(what) {
    printf "deb-src-entries: %s:%d: %s: %s\n", FILENAME, FNR, what, $0 > "/dev/stderr"; bad = 1
  }
  # deb822: a stanza ends at a blank line or at the end of its file.
  function flush822(   t) {
    t = " " f["types"] " "
    if ((t ~ / deb / || t ~ / deb-src /) && tolower(f["enabled"]) != "no" && f["uris"] != "" && f["suites"] != "")
      emit(stanza_file, f["uris"], f["suites"], f["components"], f["signed-by"], f["trusted"])
    delete f; key = ""
  }
  FNR == 1 { if (deb822) flush822(); deb822 = (FILENAME ~ /\.sources$/) }
  deb822 {
    if ($0 ~ /^#/) next
    if ($0 ~ /^[ \t]*$/) { flush822(); next }
    if ($0 ~ /^[ \t]/) {               # continuation line (an inline Signed-By key block)
      if (key != "") f[key] = f[key] "\n" $0
      next
    }
    i = index($0, ":")
    key = tolower(substr($0, 1, i - 1))
    if (i == 0 || key !~ /^[a-z0-9-]+$/) { complain("not a deb822 field"); key = ""; next }
    if (length(f) == 0) stanza_file = FILENAME ":" FNR
    f[key] = trim(substr($0, i + 1))
    next
  }
  {
    line = $0
    sub(/#.*/, "", line)
    line = trim(line)
    if (line == "") next
    type = line; sub(/[ \t].*/, "", type)
    if (type != "deb" && type != "deb-src") next
    rest = trim(substr(line, length(type) + 1))
    signed = ""; trusted = ""
    if (substr(rest, 1, 1) == "[") {
      j = index(rest, "]")
      if (j == 0) { complain("unclosed ["); next }
      n = split(substr(rest, 2, j - 2), opts, /[ \t]+/)
      for (k = 1; k <= n; k++) {
        if (opts[k] ~ /^signed-by=/) signed = substr(opts[k], 11)
        else if (opts[k] ~ /^trusted=/) trusted = substr(opts[k], 9)
      }
      rest = trim(substr(rest, j + 1))
    }
    n = split(rest, w, /[ \t]+/)
    if (n < 2) { complain("need a URI and a suite"); next }
    comps = ""
    for (k = 3; k <= n; k++) comps = comps (k > 3 ? " " : "") w[k]
    emit(FILENAME ":" FNR, w[1], w[2], comps, signed, trusted)
  }
  END { if (deb822) flush822(); exit bad }
' "${files[@]}")
[ -n "$out" ] || die "no deb entries in ${files[*]}"
printf '%s\n' "$out"
