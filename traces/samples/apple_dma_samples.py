#!/usr/bin/env python3
"""Writes the samples of the real seed system's own recordings, byte for byte the same on every run:

  apple-dma-debugfs.csv          the apple_dma guest module's debugfs `trace` file, from module load
  apple-dma-debugfs-wrapped.csv  the same session's last rows only, as a ring that has wrapped
  qemu-apple-dma-real.log        the real apple-dma-pci device's QEMU trace events (-msg timestamp=on)
  qemu-apple-dma-real-stderr.log the same events from a captured stderr, without stamps

Every line is printed with the format strings the seed system's sources use (read from them and
written down here as Python % formats; traces/apple_dma_csv/IMPORT.md and traces/qemu_log/IMPORT.md
name them): the module's CSV header and "%llu,%c,0x%llx,%u,%u,%llu" rows, and the device's and the
host client's trace-events formats, each event one line "NAME ARGS", optionally behind QEMU's log
backend's "%d@%zu.%06zu:" stamp. None of it was recorded on a machine: the session is made up, and
a small model of the guest module below decides what each layer sees:

- the module maps each request through a refcounted window (window_shift 18: 256 KiB) when it fits
  in one, else a direct range rounded out to 16 KiB; windows and direct ranges share one table keyed
  by (base, size); a map entry goes to the device only when a key's count goes from 0 to 1, one entry
  per doorbell, and an unmap entry when it falls back to 0;
- the device registers each map entry with the host service (iova = gpa) and unregisters each unmap
  entry; the host refuses what the session says (its table full, kIOReturnNoSpace), a duplicate iova
  (kIOReturnStillOpen: a direct range starting at a live window's base), and once returns a shorter
  length than asked, which the module undoes;
- the module writes a CSV row after each successful op: M (map_page, alloc), S (one per mapped sg
  segment), U (unmap_page), T (one per unmapped segment), F (free), with its live requests and bytes
  after the op. A failed map writes no row; a map_sg whose segment fails releases the segments before
  it again without a row (the rollback the importer detects).

    python3 traces/samples/apple_dma_samples.py [OUTPUT_DIR]   # default: this script's directory
"""

import os
import random
import sys

# The module's debugfs trace: its header and row format (apple_dma_trace.c).
CSV_HEADER = "timestamp_ns,op,gpa_hex,size,active_maps,active_bytes"
CSV_ROW = "%d,%s,0x%x,%d,%d,%d"  # %llu,%c,0x%llx,%u,%u,%llu

# The device's and the host client's trace-events formats (hw/vfio/trace-events of the fork).
DOORBELL = "cmd_gpa=0x%x type=%d count=%d req=0x%x resp=0x%x"
MAP_ENTRY = "idx=%d gpa=0x%x req_len=%d -> bus=0x%x len=%d ok=%d"
UNMAP_ENTRY = "idx=%d id=0x%x status=%d"
BACKEND_MAP_FAIL = "gpa=0x%x size=%d reason=%s"
REGISTER_DMA = "iova=0x%x client_va=0x%x size=%d -> bus=0x%x len=%d kr=0x%x"
UNREGISTER_DMA = "iova=0x%x kr=0x%x"

# IOKit's return codes (IOReturn.h: iokit_common_err(0x2db) and (0x2d2)).
KIO_RETURN_NO_SPACE = 0xE00002DB
KIO_RETURN_STILL_OPEN = 0xE00002D2

WINDOW = 1 << 18  # window_shift 18, the module's default
PAGE16 = 16 << 10  # the DART's page: direct ranges are rounded out to it
CMD_GPA, REQ_GPA, RESP_GPA = 0x8FFF0000, 0x8FFF1000, 0x8FFF2000  # the module's command page and arrays
RAM_GPA, RAM_HVA = 0x80000000, 0x300000000  # where QEMU's guest RAM sits in its own address space
WRAPPED_ROWS = 240  # the wrapped sample keeps this many of the last rows (a real ring keeps 2^18)


class Session:
    def __init__(self):
        self.rng = random.Random(20260523)
        self.ns = 4_203_118_000  # the guest's ktime at the first op
        self.rows = []  # CSV rows
        self.events = []  # (ns, name, args) of QEMU trace events, and (ns, None, text) of other output
        self.refs = {}  # (base, size) -> count: the module's table
        self.host = {}  # iova -> size: the host service's registrations
        self.bus = 0x1_0000_4000
        self.active_maps = 0
        self.active_bytes = 0
        self.refuse = set()  # bases the host refuses for lack of room
        self.short = set()  # bases the host maps shorter than asked

    def tick(self, lo=800, hi=40_000):
        self.ns += self.rng.randint(lo, hi)

    def event(self, name, args):
        self.tick(200, 900)
        self.events.append((self.ns, name, args))

    def other(self, text):
        self.events.append((self.ns, None, text))

    def row(self, op, gpa, size):
        self.tick()
        self.rows.append(CSV_ROW % (self.ns, op, gpa, size, self.active_maps, self.active_bytes))

    @staticmethod
    def mapping_for(gpa, length):
        base = gpa & ~(WINDOW - 1)
        if length <= WINDOW and (gpa + length - 1) & ~(WINDOW - 1) == base:
            return base, WINDOW
        start = gpa & ~(PAGE16 - 1)
        end = (gpa + length + PAGE16 - 1) & ~(PAGE16 - 1)
        return start, end - start

    # The device: one entry per doorbell.
    def device_map(self, base, size):
        self.event("apple_dma_doorbell", DOORBELL % (CMD_GPA, 1, 1, REQ_GPA, RESP_GPA))
        hva = base - RAM_GPA + RAM_HVA
        if base in self.refuse or base in self.host:
            kr = KIO_RETURN_NO_SPACE if base in self.refuse else KIO_RETURN_STILL_OPEN
            self.event("apple_dext_register_dma", REGISTER_DMA % (base, hva, size, 0, 0, kr))
            self.event("apple_dma_backend_map_fail", BACKEND_MAP_FAIL % (base, size, "register_dma"))
            self.event("apple_dma_handle_map_entry", MAP_ENTRY % (0, base, size, 0, 0, 0))
            return False
        got = size - PAGE16 if base in self.short else size
        bus = self.bus
        self.bus += size
        self.host[base] = size
        self.event("apple_dext_register_dma", REGISTER_DMA % (base, hva, size, bus, got, 0))
        self.event("apple_dma_handle_map_entry", MAP_ENTRY % (0, base, size, bus, got, 1))
        if got < size:  # the module undoes a short map and fails the request with -EIO
            self.device_unmap(base)
            return False
        return True

    def device_unmap(self, base):
        self.event("apple_dma_doorbell", DOORBELL % (CMD_GPA, 2, 1, REQ_GPA, RESP_GPA))
        del self.host[base]
        self.event("apple_dext_unregister_dma", UNREGISTER_DMA % (base, 0))
        self.event("apple_dma_handle_unmap_entry", UNMAP_ENTRY % (0, base, 0))

    # The module's refcounted table.
    def acquire(self, gpa, length):
        key = self.mapping_for(gpa, length)
        if self.refs.get(key, 0) > 0:
            self.refs[key] += 1
            return True
        if not self.device_map(*key):
            return False
        self.refs[key] = 1
        return True

    def release(self, gpa, length):
        key = self.mapping_for(gpa, length)
        self.refs[key] -= 1
        if self.refs[key] == 0:
            del self.refs[key]
            self.device_unmap(key[0])

    # The DMA API as the module overrides it.
    def map_page(self, gpa, length, op="M"):
        if not self.acquire(gpa, length):
            return False  # a kernel log warning; no row
        self.active_maps += 1
        self.active_bytes += length
        self.row(op, gpa, length)
        return True

    def unmap_page(self, gpa, length, op="U"):
        self.release(gpa, length)
        self.active_maps -= 1
        self.active_bytes -= length
        self.row(op, gpa, length)

    def map_sg(self, segments):
        for i, (gpa, length) in enumerate(segments):
            if not self.acquire(gpa, length):
                for g, l in segments[:i]:  # released again, without a row
                    self.release(g, l)
                    self.active_maps -= 1
                    self.active_bytes -= l
                return False
            self.active_maps += 1
            self.active_bytes += length
            self.row("S", gpa, length)
        return True

    def unmap_sg(self, segments):
        for gpa, length in segments:
            self.release(gpa, length)
            self.active_maps -= 1
            self.active_bytes -= length
            self.row("T", gpa, length)


def play():
    s = Session()
    rng = s.rng
    # Guest pages the driver uses: clustered in a few 256 KiB windows, as a buddy allocator hands them out.
    pool = [0x8A200000 + w * WINDOW + p * 0x1000 for w in range(8) for p in rng.sample(range(64), 10)]
    allocs = [(0x8B000000 + i * 0x10000, 0x10000) for i in range(3)]  # coherent rings, 64 KiB each
    for gpa, length in allocs:
        s.map_page(gpa, length)  # alloc: an M row
    s.other("qemu-system-aarch64: warning: vfio: apple-dma: DMA mapping for 0000:01:00.0 ready")
    pages, sgs = [], []
    for it in range(70):
        if it == 20:  # the host's table is full for a new window: map_page fails, no row
            far = 0x9C000000
            s.refuse.add(far)
            s.map_page(far + 0x3000, 0x1000)
            s.refuse.discard(far)
        if it in (31, 63):  # a map_sg whose third segment lands in a refused window: rolled back
            far = 0x9D000000
            s.refuse.add(far)
            segs = [(rng.choice(pool) & ~0xFFF, 0x1000), (0x8A2C0000 + 0x1000 * rng.randint(0, 60), 0x2000),
                    (far + 0x8000, 0x4000), (far + 0x10000, 0x1000)]
            s.map_sg(segs)
            s.refuse.discard(far)
        if it == 42:  # a request straddling two windows from a live window's base: a duplicate iova
            base = pages[-1][0] & ~(WINDOW - 1) if pages else pool[0] & ~(WINDOW - 1)
            if s.map_page(base, WINDOW + 0x2000):
                pages.append((base, WINDOW + 0x2000))
        if it == 50:  # the host maps a new window shorter than asked: undone, the map fails
            far = 0x9E000000
            s.short.add(far)
            s.map_page(far + 0x1000, 0x1000)
            s.short.discard(far)
        for _ in range(rng.randint(2, 5)):
            gpa = rng.choice(pool)
            length = rng.choice([0x1000, 0x1000, 0x1000, 0x800, 0x2000])
            if s.map_page(gpa, length):
                pages.append((gpa, length))
            if rng.random() < 0.1 and s.map_page(gpa, length):  # the same buffer mapped again, both live
                pages.append((gpa, length))
        if rng.random() < 0.35:
            segs = [(rng.choice(pool), rng.choice([0x1000, 0x2000, 0x4000])) for _ in range(rng.randint(2, 5))]
            if s.map_sg(segs):
                sgs.append(segs)
        while len(pages) > 24 or (pages and rng.random() < 0.3):
            gpa, length = pages.pop(rng.randrange(len(pages)))
            s.unmap_page(gpa, length)
        if len(sgs) > 3 or (sgs and rng.random() < 0.2):
            s.unmap_sg(sgs.pop(0))
        if it % 17 == 5:
            s.other("vfio_region_write  (0000:01:00.0:region0+0x88000, 0x1, 4)")
    for gpa, length in allocs[1:]:  # two rings freed; the rest stays live when the recording is read
        s.unmap_page(gpa, length, "F")
    return s


def write(path, lines):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    s = play()
    write(os.path.join(out, "apple-dma-debugfs.csv"), [CSV_HEADER] + s.rows)
    write(os.path.join(out, "apple-dma-debugfs-wrapped.csv"), [CSV_HEADER] + s.rows[-WRAPPED_ROWS:])
    pid, epoch_s = 48213, 1_732_160_000
    stamped, bare = [], []
    for ns, name, args in s.events:
        if name is None:
            stamped.append(args)
            bare.append(args)
            continue
        us = epoch_s * 1_000_000 + ns // 1000
        stamped.append("%d@%d.%06d:%s %s" % (pid, us // 1_000_000, us % 1_000_000, name, args))
        bare.append("%s %s" % (name, args))
    write(os.path.join(out, "qemu-apple-dma-real.log"), stamped)
    write(os.path.join(out, "qemu-apple-dma-real-stderr.log"), bare)


if __name__ == "__main__":
    main()
