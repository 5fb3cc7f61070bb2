#!/usr/bin/env python3
"""Writes the QEMU log samples traces/samples/qemu-apple-dma*.log, byte for byte the same on every run.

Each apple_dma_* line is printed the way QEMU's `log` trace backend prints it (scripts/tracetool/
backend/log.py of QEMU 7.2: "%d@%zu.%06zu:NAME " FMT "\\n" with -msg timestamp=on, else
"NAME " FMT "\\n"), with the format strings of the apple-dma-pci device's trace-events file
(passthrough/qemu). The session itself is made up, not recorded: a GPU driver mapping and
unmapping mostly 4 KiB pages through two functions of one device, handles reused after their
unmap, a few failed maps, a device reset, other trace events and QEMU's own messages in between.
traces/qemu_log/IMPORT.md describes each sample.

    python3 traces/samples/qemu_log_samples.py [OUTPUT_DIR]   # default: this script's directory
"""

import os
import random
import sys

# The device's trace-events (passthrough/qemu), as printf formats.
MAP_FMT = "bdf=%s gpa=0x%x len=0x%x dir=%s dma=0x%x handle=0x%x status=%d"
UNMAP_FMT = "bdf=%s handle=0x%x len=0x%x status=%d"
RESET_FMT = "bdf=%s live=%d"

DIRS = ["bidirectional", "to_device", "from_device"]
GPU = "0000:01:00.0"
AUDIO = "0000:01:00.1"
ENOSPC = -28  # the host's mapping table is full
EINVAL = -22


class Log:
    def __init__(self, stamped, pid):
        self.stamped = stamped
        self.pid = pid
        self.us = 1_732_160_000 * 1_000_000 + 123_456  # gettimeofday, in microseconds
        self.lines = []

    def event(self, name, text, rng):
        self.us += rng.randint(1, 300)
        if self.stamped:
            self.lines.append("%d@%d.%06d:%s %s" % (self.pid, self.us // 1_000_000, self.us % 1_000_000, name, text))
        else:
            self.lines.append("%s %s" % (name, text))

    def raw(self, text):
        self.lines.append(text)


class Device:
    """One function of the device: handles from a LIFO free list, bus addresses from a bump pointer."""

    def __init__(self, bdf):
        self.bdf = bdf
        self.free_handles = []
        self.next_handle = 1
        self.bus = 0x100000000
        self.live = {}  # handle -> len

    def handle(self):
        if self.free_handles:
            return self.free_handles.pop()
        h = self.next_handle
        self.next_handle += 1
        return h


def map_one(log, dev, rng, gpa, length, status=0):
    d = rng.choice(DIRS)
    if status != 0:
        log.event("apple_dma_map", MAP_FMT % (dev.bdf, gpa, length, d, 0, 0, status), rng)
        return
    h = dev.handle()
    dma = dev.bus + (gpa & 0x3FFF)
    dev.bus += (length + (gpa & 0x3FFF) + 0x3FFF) & ~0x3FFF
    dev.live[h] = length
    log.event("apple_dma_map", MAP_FMT % (dev.bdf, gpa, length, d, dma, h, 0), rng)


def unmap_one(log, dev, rng, h, status=0):
    length = dev.live.get(h, 0x1000)
    log.event("apple_dma_unmap", UNMAP_FMT % (dev.bdf, h, length, status), rng)
    if status == 0 and h in dev.live:
        del dev.live[h]
        dev.free_handles.append(h)


def other_events(log, rng):
    if rng.random() < 0.5:
        log.event("vfio_region_write", "(0000:01:00.0:region0+0x%x, 0x%x, 4)" % (rng.randrange(0, 0x1000, 4), rng.getrandbits(32)), rng)
    else:
        log.event("memory_region_ops_write", "cpu 1 mr 0x55d0c3a1b2c0 addr 0x%x value 0x1 size 4 name 'apple-dma-regs'" % rng.randrange(0x10000000, 0x10001000, 4), rng)


def session(stamped, seed):
    rng = random.Random(seed)
    log = Log(stamped, pid=48213)
    gpu, audio = Device(GPU), Device(AUDIO)
    log.raw("qemu-system-aarch64: -device apple-dma-pci,host=0000:01:00.0,policy=window:256K: info: 65536 mapping slots, 1536 MiB aperture")
    log.raw("qemu-system-aarch64: warning: host doesn't support requested feature: CPUID.80000001H:ECX.svm [bit 2]")
    # The recording starts mid-run: an unmap whose map came before it.
    log.event("apple_dma_unmap", UNMAP_FMT % (GPU, 0x7F3, 0x1000, 0), rng)
    base = 0x8A000000
    for step in range(170):
        dev = audio if rng.random() < 0.15 else gpu
        r = rng.random()
        if r < 0.55 or not dev.live:
            size = rng.choice([0x1000] * 12 + [0x2000, 0x10000, 0x200000])
            gpa = base + rng.randrange(0, 0x400000, 0x1000)
            map_one(log, dev, rng, gpa, size)
        elif r < 0.93:
            unmap_one(log, dev, rng, rng.choice(sorted(dev.live)))
        else:
            other_events(log, rng)
        if step == 60:
            map_one(log, gpu, rng, base + 0x1000, 0x1000, status=ENOSPC)   # table full
            map_one(log, gpu, rng, base + 0x5000, 0x1000, status=ENOSPC)
        if step == 90:
            unmap_one(log, gpu, rng, 0xDEAD, status=EINVAL)  # a bad handle: nothing released
            log.raw("qemu-system-aarch64: vfio: apple-dma: guest asked to unmap unknown handle 0xdead")
        if step == 120:
            # The guest resets the audio function: every mapping of it ends.
            log.event("apple_dma_reset", RESET_FMT % (AUDIO, len(audio.live)), rng)
            for h in sorted(audio.live):
                audio.free_handles.append(h)
            audio.live.clear()
    # Drain the GPU, as a driver unload does, then reset it with nothing live.
    for h in sorted(gpu.live):
        unmap_one(log, gpu, rng, h)
    log.event("apple_dma_reset", RESET_FMT % (GPU, 0), rng)
    return log.lines


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    samples = {
        # -msg timestamp=on -D qemu-apple-dma.log -trace 'apple_dma_*' -trace vfio_region_write ...
        "qemu-apple-dma.log": session(stamped=True, seed=1),
        # the same device with QEMU's stderr captured, no timestamps (2> qemu-apple-dma-stderr.log)
        "qemu-apple-dma-stderr.log": session(stamped=False, seed=2),
    }
    for name, lines in samples.items():
        with open(os.path.join(out_dir, name), "w", newline="\n") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
