#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tests of scripts/deb-src-entries.sh (the deb-src entries build-qemu.sh puts into its private apt
# configuration) over fixture source files in both apt forms, and of the rule behind it: no
# script names a mirror host or writes the system's apt configuration.
# Usage: deb_src_entries.sh SOURCE_DIR
set -uo pipefail
src=$1
derive="$src/scripts/deb-src-entries.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$src/tests/support/check.sh"

# The fixtures: what a machine may have. (Host names here are data, not something any script uses.)
mkdir -p "$work/parts"
cat > "$work/sources.list" <<'EOF'
# one-line form, with options and a trailing comment
deb [arch=amd64 signed-by=/usr/share/keyrings/one.gpg] http://mirror.example/debian bookworm main contrib # comment
deb-src http://mirror.example/debian bookworm main contrib
deb [trusted=yes] file:/srv/local-repo ./
EOF
cat > "$work/parts/debian.sources" <<'EOF'
Types: deb
URIs: http://archive.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# a disabled stanza
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: http://inline-key.example/debian
Suites: stable
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBFake
 -----END PGP PUBLIC KEY BLOCK-----
EOF
cat > "$work/parts/other.list" <<'EOF'
deb http://other.example/debian bookworm-security main
EOF
# Names apt ignores: never read.
echo 'deb http://ignored.example/debian bookworm main' > "$work/parts/vendor.list.disabled-by-someone"
echo 'deb http://ignored.example/debian bookworm main' > "$work/parts/backup.sources~"

out=$("$derive" "$work/sources.list" "$work/parts" 2>"$work/err")
rc=$?
check "derives from good sources with exit 0" [ "$rc" -eq 0 ]
stanzas=$(grep -c '^Types: deb-src$' <<<"$out")
check "one stanza per enabled (URI, suite) (6), the first of a deb/deb-src pair only" [ "$stanzas" -eq 6 ]
check "only deb-src types come out" bash -c '! grep -q "^Types: deb$" <<<"$1"' _ "$out"
check "one-line signed-by becomes Signed-By" grep -qzF $'URIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main contrib\nSigned-By: /usr/share/keyrings/one.gpg\n' <<<"$out"
check "one-line trusted=yes is kept, a flat suite has no components" grep -qzF $'URIs: file:/srv/local-repo\nSuites: ./\nTrusted: yes\n' <<<"$out"
check "deb822 suites each get their stanza, with the key path" bash -c '
  for suite in bookworm bookworm-updates; do
    grep -qzF "URIs: http://archive.example/debian"$'"'"'\n'"'"'"Suites: $suite"$'"'"'\n'"'"'"Components: main"$'"'"'\n'"'"'"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" <<<"$1" || exit 1
  done' _ "$out"
check "an inline key block is carried whole" grep -qzF $'Signed-By: \n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBFake\n -----END PGP PUBLIC KEY BLOCK-----\n' <<<"$out"
check "a .list file in the parts directory is read" grep -qF 'URIs: http://other.example/debian' <<<"$out"
check "Enabled: no is skipped" bash -c '! grep -q disabled.example <<<"$1"' _ "$out"
check "names apt ignores are ignored" bash -c '! grep -q ignored.example <<<"$1"' _ "$out"
check "each stanza says where it came from" grep -qF "# from $work/parts/debian.sources:1" <<<"$out"

# The output is a valid apt source file: apt itself parses it (no network: indextargets reads
# only the configuration).
mkdir -p "$work/apt/parts"
"$derive" "$work/sources.list" "$work/parts" > "$work/apt/parts/derived.sources"
targets=$(apt-get indextargets --no-release-info -o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$work/apt/parts" \
            -o Dir::State::lists="$work/apt/lists" --format '$(TARGET_OF) $(REPO_URI) $(RELEASE)' 2>"$work/apt-err" | sort -u)
check "apt reads the derived file without complaint" [ ! -s "$work/apt-err" ]
check "apt sees deb-src targets for the derived entries" grep -qxF 'deb-src http://archive.example/debian/ bookworm-updates' <<<"$targets"

# Hostile or empty configurations: a clear error and a non-zero exit.
printf 'deb [signed-by=/k.gpg http://broken.example/debian bookworm main\n' > "$work/broken.list"
"$derive" "$work/broken.list" /nonexistent >/dev/null 2>"$work/err"; rc=$?
check "an unclosed [ is an error naming file and line" bash -c '[ "$1" -ne 0 ] && grep -qF "broken.list:1: unclosed [" "$2"' _ "$rc" "$work/err"
printf 'Types: deb\nURIs http://nocolon.example\n' > "$work/parts-bad.sources"
"$derive" "$work/parts-bad.sources" /nonexistent >/dev/null 2>"$work/err"; rc=$?
check "a deb822 line without a colon is an error naming file and line" bash -c '[ "$1" -ne 0 ] && grep -qF "parts-bad.sources:2: not a deb822 field" "$2"' _ "$rc" "$work/err"
printf '# nothing here\n' > "$work/empty.list"
"$derive" "$work/empty.list" /nonexistent >/dev/null 2>"$work/err"; rc=$?
check "no deb entry at all is an error" bash -c '[ "$1" -ne 0 ] && grep -q "no deb entries" "$2"' _ "$rc" "$work/err"

# The rule the derivation serves (issue 14 item 18): scripts name no mirror host and never
# write the system's apt configuration.
urls=$(grep -rnE 'https?://' "$src/scripts" || true)
check "no script names a URL" [ -z "$urls" ]
[ -z "$urls" ] || echo "$urls"
apt_writes=$(grep -rnE '(tee|>>?|cp|mv|install)[^|;]*/etc/apt' "$src/scripts" || true)
check "no script writes under /etc/apt" [ -z "$apt_writes" ]
[ -z "$apt_writes" ] || echo "$apt_writes"

check_summary
