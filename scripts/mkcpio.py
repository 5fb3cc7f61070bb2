#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes a cpio archive in the "newc" format the Linux kernel unpacks as an initramfs.

    scripts/mkcpio.py OUT DIR [--node PATH:MODE:MAJOR:MINOR ...]

Every file, directory and symlink under DIR goes in (parents before children, names sorted),
owned by root, with mtime 0 so the same tree gives the same bytes. --node adds a character
device (e.g. dev/console:600:5:1: the kernel opens /dev/console for init before anything is
mounted, and making the node in the staging tree would need root). The archive ends with the
TRAILER!!! entry; archives written this way can be concatenated, and the kernel unpacks them in
turn (run-guest.sh appends a scenario this way).

Format: the header is "070701" and 13 fields of 8 hex digits (inode, mode, uid, gid, nlink, mtime,
size, dev major/minor, rdev major/minor, name size with its NUL, check); the name follows, padded
with NULs to a multiple of 4 bytes counted from the header's start, then the data, padded to 4.
Source: the kernel's Documentation/driver-api/early-userspace/buffer-format.rst.
"""
import os
import stat
import sys


def usage(message):
    sys.stderr.write(f"mkcpio: error: {message}\n"
                     "usage: mkcpio.py OUT DIR [--node PATH:MODE:MAJOR:MINOR ...]\n")
    sys.exit(2)


class Writer:
    def __init__(self, out):
        self.out = out
        self.offset = 0
        self.inode = 1

    def _write(self, data):
        self.out.write(data)
        self.offset += len(data)

    def _pad(self):
        self._write(b"\0" * (-self.offset % 4))

    def entry(self, name, mode, data=b"", nlink=1, rdev=(0, 0)):
        encoded = name.encode() + b"\0"
        fields = [self.inode, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0]
        self.inode += 1
        self._write(b"070701" + b"".join(b"%08X" % f for f in fields))
        self._write(encoded)
        self._pad()
        self._write(data)
        self._pad()


def parse_node(spec):
    parts = spec.split(":")
    if len(parts) != 4:
        usage(f"--node {spec}: want PATH:MODE:MAJOR:MINOR")
    path, mode, major, minor = parts
    try:
        return path.strip("/"), int(mode, 8), int(major), int(minor)
    except ValueError:
        usage(f"--node {spec}: MODE is octal, MAJOR and MINOR are numbers")


def main(argv):
    if len(argv) < 3:
        usage("need OUT and DIR")
    out_path, tree = argv[1], argv[2]
    nodes = []
    rest = argv[3:]
    while rest:
        if rest[0] != "--node" or len(rest) < 2:
            usage(f"unexpected argument {rest[0]}")
        nodes.append(parse_node(rest[1]))
        rest = rest[2:]
    if not os.path.isdir(tree):
        usage(f"{tree} is not a directory")

    tmp = out_path + ".tmp"
    with open(tmp, "wb") as out:
        w = Writer(out)
        node_paths = {n[0] for n in nodes}
        for top, dirs, files in os.walk(tree):
            dirs.sort()
            rel_top = os.path.relpath(top, tree)
            if rel_top != ".":
                w.entry(rel_top, stat.S_IFDIR | 0o755, nlink=2)
            for name in sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(top, d))):
                path = os.path.join(top, name)
                rel = os.path.normpath(os.path.join(rel_top, name))
                if rel in node_paths:
                    continue
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    w.entry(rel, stat.S_IFLNK | 0o777, os.readlink(path).encode())
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        data = f.read()
                    w.entry(rel, stat.S_IFREG | (st.st_mode & 0o7777), data)
                else:
                    sys.stderr.write(f"mkcpio: error: {path}: neither file, directory nor symlink\n")
                    sys.exit(1)
        for path, mode, major, minor in nodes:
            w.entry(path, stat.S_IFCHR | mode, rdev=(major, minor))
        w.entry("TRAILER!!!", 0, nlink=1)
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main(sys.argv)
