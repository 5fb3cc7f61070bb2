#!/usr/bin/env python3
"""Writes the ftrace samples traces/samples/ftrace-*.txt, byte for byte the same on every run.

Each line is printed the way the kernel (kernel/trace/trace_output.c, trace_print_context) or
trace-cmd report (tracecmd/trace-read.c) prints it, and each event's text with the TP_printk
format string of include/trace/events/dma.h or iommu.h of the kernel named beside it; the
events themselves are made up (a driver mapping and unmapping buffers), not recorded.
traces/ftrace/IMPORT.md describes each sample.

    python3 traces/samples/ftrace_samples.py [OUTPUT_DIR]   # default: this script's directory
"""

import os
import random
import sys

FLAG_CHOICES = ["d..1.", "...1.", ".....", "d..2.", "dN.1."]
OLD_FLAG_CHOICES = ["d..1", "...1", "....", "d.h1"]

# ---------------------------------------------------------------------------------------------
# Line contexts


class Clock:
    def __init__(self, start_us):
        self.us = start_us

    def tick(self, rng):
        self.us += rng.randint(1, 400)
        return self.us


def kernel_context(comm, pid, cpu, us, flags=None, tgid=None):
    """trace_print_context: "%16s-%-7d ", ["(%7d) "], "[%03d] ", [flags], " %5lu.%06lu", ": "."""
    s = "%16s-%-7d " % (comm, pid)
    if tgid is not None:
        s += "(-------) " if tgid == 0 else "(%7d) " % tgid
    s += "[%03d] " % cpu
    if flags is not None:
        s += flags
    s += " %5d.%06d" % (us // 1000000, us % 1000000)
    return s + ": "


def trace_cmd_context(comm, pid, cpu, us, flags):
    """trace-cmd report: "%16s-%-5d [%03d]", " %s" (latency), " %6.1000d:", then " name: " padded."""
    return "%16s-%-5d [%03d] %s %5d.%06d:" % (comm, pid, cpu, flags, us // 1000000, us % 1000000)


def trace_cmd_name(name):
    return " %s: %s" % (name, " " * max(0, 20 - len(name)))


# ---------------------------------------------------------------------------------------------
# Event texts (TP_printk), by kernel


def dma_dir(d):
    return {"to": "TO_DEVICE", "from": "FROM_DEVICE", "bidi": "BIDIRECTIONAL", "none": "NONE"}[d]


def attrs(rng):
    return rng.choice(["", "", "", "SKIP_CPU_SYNC", "WEAK_ORDERING|SKIP_CPU_SYNC"])


def print_array(values):
    """__print_array: "{0x%llx,...}"."""
    return "{" + ",".join("0x%x" % v for v in values) + "}"


def map_text(dev, d, dma, size, phys, a):
    # dma_map_page / dma_map_phys / dma_map_resource, 6.12 onwards:
    # "%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s"
    return "%s dir=%s dma_addr=%x size=%d phys_addr=%x attrs=%s" % (dev, dma_dir(d), dma, size, phys, a)


def unmap_text(dev, d, dma, size, a):
    # dma_unmap_page / dma_unmap_phys / dma_unmap_resource: "%s dir=%s dma_addr=%llx size=%zu attrs=%s"
    return "%s dir=%s dma_addr=%x size=%d attrs=%s" % (dev, dma_dir(d), dma, size, a)


def map_sg_text_old(dev, d, dmas, sizes, physes, a):
    # dma_map_sg, 6.12 to 6.19: "%s dir=%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s"
    return "%s dir=%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s" % (
        dev, dma_dir(d), print_array(dmas), print_array(sizes), print_array(physes), a)


def map_sg_text_new(dev, d, nents, ents, dmas, sizes, physes, a):
    # dma_map_sg since "tracing/dma: Cap dma_map_sg tracepoint arrays" (2026, DMA_TRACE_MAX_ENTRIES 128):
    # "%s dir=%s nents=%d/%d ents=%d/%d%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s"
    cap = 128
    truncated = " [TRUNCATED]" if nents > cap or ents > cap else ""
    return "%s dir=%s nents=%d/%d ents=%d/%d%s dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s" % (
        dev, dma_dir(d), min(nents, cap), nents, min(ents, cap), ents, truncated,
        print_array(dmas[:cap]), print_array(sizes[:cap]), print_array(physes[:cap]), a)


def unmap_sg_text(dev, d, physes, a):
    # dma_unmap_sg: "%s dir=%s phys_addrs=%s attrs=%s"
    return "%s dir=%s phys_addrs=%s attrs=%s" % (dev, dma_dir(d), print_array(physes), a)


def pointer(rng):
    """%p: a hashed pointer, 16 hex digits without 0x."""
    return "%016x" % rng.getrandbits(64)


def alloc_text(form, dev, dma, size, virt_or_phys, flags="GFP_KERNEL", a=""):
    if form == "6.12-rc1":  # "%s dma_addr=%llx size=%zu phys_addr=%llx flags=%s attrs=%s"
        return "%s dma_addr=%x size=%d phys_addr=%x flags=%s attrs=%s" % (dev, dma, size, virt_or_phys, flags, a)
    if form == "6.12":  # "%s dma_addr=%llx size=%zu virt_addr=%p flags=%s attrs=%s"
        return "%s dma_addr=%x size=%d virt_addr=%s flags=%s attrs=%s" % (dev, dma, size, virt_or_phys, flags, a)
    # since "dma-mapping: trace dma_alloc/free direction":
    # "%s dir=%s dma_addr=%llx size=%zu virt_addr=%p flags=%s attrs=%s"
    return "%s dir=BIDIRECTIONAL dma_addr=%x size=%d virt_addr=%s flags=%s attrs=%s" % (dev, dma, size, virt_or_phys, flags, a)


def free_text(form, dev, dma, size, virt_or_phys, a=""):
    if form == "6.12-rc1":  # "%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s"
        return "%s dma_addr=%x size=%d phys_addr=%x attrs=%s" % (dev, dma, size, virt_or_phys, a)
    if form == "6.12":  # "%s dma_addr=%llx size=%zu virt_addr=%p attrs=%s"
        return "%s dma_addr=%x size=%d virt_addr=%s attrs=%s" % (dev, dma, size, virt_or_phys, a)
    # "%s dir=%s dma_addr=%llx size=%zu virt_addr=%p attrs=%s"
    return "%s dir=BIDIRECTIONAL dma_addr=%x size=%d virt_addr=%s attrs=%s" % (dev, dma, size, virt_or_phys, a)


def sync_text(dev, d, dma, size):
    # dma_sync_single_for_cpu / _for_device: "%s dir=%s dma_addr=%llx size=%zu"
    return "%s dir=%s dma_addr=%x size=%d" % (dev, dma_dir(d), dma, size)


def iommu_map_text(form, iova, paddr, size):
    if form == "old":  # 3.13 onwards: "IOMMU: iova=0x%016llx paddr=0x%016llx size=%zu"
        return "IOMMU: iova=0x%016x paddr=0x%016x size=%d" % (iova, paddr, size)
    # "iommu: log iova range in map/unmap trace events" (about 5.17):
    # "IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu"
    return "IOMMU: iova=0x%016x - 0x%016x paddr=0x%016x size=%d" % (iova, iova + size, paddr, size)


def iommu_unmap_text(form, iova, size, unmapped):
    if form == "old":  # "IOMMU: iova=0x%016llx size=%zu unmapped_size=%zu"
        return "IOMMU: iova=0x%016x size=%d unmapped_size=%d" % (iova, size, unmapped)
    # "IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu"
    return "IOMMU: iova=0x%016x - 0x%016x size=%d unmapped_size=%d" % (iova, iova + size, size, unmapped)


def sched_switch_text(rng):
    return "prev_comm=kworker/1:2 prev_pid=%d prev_prio=120 prev_state=I ==> next_comm=swapper/1 next_pid=0 next_prio=120" % rng.randint(100, 900)


# ---------------------------------------------------------------------------------------------
# A driver at work: streaming maps of single pages and of scatterlists, a few coherent buffers.


class Driver:
    def __init__(self, rng, dev, iova_base):
        self.rng = rng
        self.dev = dev
        self.next_iova = iova_base
        self.live = []  # (kind, data)

    def page(self):
        return 0x100000000 + self.rng.randrange(0, 1 << 18) * 4096

    def iova(self, size):
        a = self.next_iova
        self.next_iova += (size + 0xFFF) & ~0xFFF
        return a


def dma_story(rng, form, lines_wanted, devices):
    """Texts (name, payload) of a run of dma:* events of the given kernel form."""
    drivers = [Driver(rng, dev, 0xFFF00000 - i * 0x10000000) for i, dev in enumerate(devices)]
    map_name, unmap_name = ("dma_map_phys", "dma_unmap_phys") if form == "new" else ("dma_map_page", "dma_unmap_page")
    out = []
    while len(out) < lines_wanted:
        drv = rng.choice(drivers)
        r = rng.random()
        if drv.live and (r < 0.45 or len(drv.live) > 12):
            kind, data = drv.live.pop(rng.randrange(len(drv.live)))
            if kind == "single":
                d, dma, size, a = data
                if rng.random() < 0.3:
                    out.append(("dma_sync_single_for_cpu", sync_text(drv.dev, d, dma, size)))
                out.append((unmap_name, unmap_text(drv.dev, d, dma, size, a)))
            elif kind == "sg":
                d, physes, a = data
                out.append(("dma_unmap_sg", unmap_sg_text(drv.dev, d, physes, a)))
            else:
                dma, size, virt = data
                out.append(("dma_free", free_text(form_alloc(form), drv.dev, dma, size, virt)))
            continue
        if r < 0.75:
            d = rng.choice(["to", "from", "bidi"])
            size = rng.choice([64, 1500, 4096, 4096, 8192, 65536])
            phys = drv.page() + rng.choice([0, 0, 0x40, 0x800])
            dma = drv.iova(size) + (phys & 0xFFF)
            a = attrs(rng)
            out.append((map_name, map_text(drv.dev, d, dma, size, phys, a)))
            drv.live.append(("single", (d, dma, size, a)))
        elif r < 0.92:
            d = rng.choice(["to", "from"])
            n = rng.randint(1, 5)
            physes = [drv.page() for _ in range(n)]
            sizes = [4096] * n
            a = attrs(rng)
            if form == "new" and n >= 3 and rng.random() < 0.5:
                # An IOMMU merged the entries into one DMA segment.
                dmas = [drv.iova(4096 * n)]
                merged = [4096 * n]
                out.append(("dma_map_sg", map_sg_text_new(drv.dev, d, n, 1, dmas, merged, physes, a)))
            else:
                dmas = [drv.iova(4096) for _ in range(n)]
                if form == "new":
                    out.append(("dma_map_sg", map_sg_text_new(drv.dev, d, n, n, dmas, sizes, physes, a)))
                else:
                    out.append(("dma_map_sg", map_sg_text_old(drv.dev, d, dmas, sizes, physes, a)))
            drv.live.append(("sg", (d, physes, a)))
        else:
            size = rng.choice([4096, 16384, 2 << 20])
            dma = drv.iova(size)
            virt = drv.page() if form_alloc(form) == "6.12-rc1" else pointer(rng)
            out.append(("dma_alloc", alloc_text(form_alloc(form), drv.dev, dma, size, virt)))
            drv.live.append(("alloc", (dma, size, virt)))
    # The recording stops with some requests still live, as real ones do.
    return out


def form_alloc(form):
    return {"old": "6.12-rc1", "mid": "6.12", "new": "new"}[form]


def iommu_story(rng, form, lines_wanted):
    out = []
    live = []
    next_iova = 0xFFFF0000
    while len(out) < lines_wanted:
        if live and (rng.random() < 0.45 or len(live) > 10):
            chunks = live.pop(rng.randrange(len(live)))
            iova = chunks[0][0]
            total = sum(size for _, size in chunks)
            out.append(("unmap", iommu_unmap_text(form, iova, total, total)))
            continue
        # iommu_map_sg maps a scatterlist chunk by chunk into one IOVA range; dma-iommu later
        # unmaps the whole range with one iommu_unmap.
        n = 1 if rng.random() < 0.7 else rng.randint(2, 3)
        chunks = []
        for _ in range(n):
            size = rng.choice([4096, 8192, 65536])
            paddr = 0x100000000 + rng.randrange(0, 1 << 18) * 4096
            next_iova -= size
            chunks.append((next_iova, size, paddr))
        chunks.reverse()  # ascending IOVAs
        for iova, size, paddr in chunks:
            out.append(("map", iommu_map_text(form, iova, paddr, size)))
        live.append([(iova, size) for iova, size, _ in chunks])
    return out


# ---------------------------------------------------------------------------------------------
# Samples

KERNEL_HEADER_FLAGS = """# tracer: nop
#
# entries-in-buffer/entries-written: {n}/{n}   #P:2
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
"""

KERNEL_HEADER_OLD_FLAGS = """# tracer: nop
#
# entries-in-buffer/entries-written: {n}/{n}   #P:4
#
#                                _-----=> irqs-off
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| /     delay
#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION
#              | |         |   ||||      |         |
"""

TASKS = [("kworker/u16:2", 56), ("Web Content", 4821), ("irq/45-nvme0q1", 311), ("Xorg", 1402),
         ("kworker/1:1H-kblockd", 143)]


def task(rng):
    comm, pid = rng.choice(TASKS)
    return comm[:15], pid  # TASK_COMM_LEN is 16 with its NUL


def with_noise(rng, texts):
    """Other events of a full recording, which the importer counts and skips."""
    out = []
    for t in texts:
        if rng.random() < 0.08:
            out.append(("sched_switch", sched_switch_text(rng)))
        out.append(t)
    return out


def render(rng, texts, clock, context):
    """One line per (name, payload): context(comm, pid, us) then "NAME: PAYLOAD"."""
    lines = []
    for name, payload in texts:
        comm, pid = task(rng)
        lines.append(context(comm, pid, clock.tick(rng)) + name + ": " + payload + "\n")
    return "".join(lines)


def write(path, text):
    with open(path, "w", newline="\n") as f:
        f.write(text)


def sample_trace_flags(rng):
    """/sys/kernel/tracing/trace of 6.12, irq-info on (flags column), dma:* events."""
    texts = with_noise(rng, dma_story(rng, "mid", 150, ["0000:01:00.0", "0000:03:00.0"]))
    context = lambda comm, pid, us: kernel_context(comm, pid, rng.randint(0, 1), us, rng.choice(FLAG_CHOICES))
    return KERNEL_HEADER_FLAGS.format(n=len(texts)) + render(rng, texts, Clock(1432 * 1000000 + 118000), context)


def sample_trace_pipe(rng):
    """trace_pipe of a 6.18-era kernel (dma_map_phys), irq-info off, record-tgid on."""
    texts = with_noise(rng, dma_story(rng, "new", 150, ["0000:65:00.0"]))
    # The recording starts mid-run: unmaps of requests mapped before it began.
    texts.insert(0, ("dma_unmap_phys", unmap_text("0000:65:00.0", "from", 0xFFE00000, 4096, "")))
    texts.insert(2, ("dma_unmap_sg", unmap_sg_text("0000:65:00.0", "to", [0x1FFFF0000], "")))
    context = lambda comm, pid, us: kernel_context(comm, pid, rng.randint(0, 3), us, None, 0 if comm.startswith("kworker") else pid)
    return render(rng, texts, Clock(87 * 1000000 + 5000), context)


def sample_trace_cmd(rng):
    """trace-cmd report of a 6.12 recording: "cpus=2" header, names padded to 20 columns."""
    texts = with_noise(rng, dma_story(rng, "mid", 120, ["0000:01:00.0"]))
    clock = Clock(5012 * 1000000 + 771000)
    lines = ["cpus=2\n"]
    for name, payload in texts:  # trace-cmd pads "name:" its own way: not render()
        comm, pid = task(rng)
        lines.append(trace_cmd_context(comm, pid, 1, clock.tick(rng), rng.choice(FLAG_CHOICES)) + trace_cmd_name(name) + payload + "\n")
    return "".join(lines)


def sample_dma_old(rng):
    """The first dma:* formats (6.12-rc1: dma_alloc/dma_free with phys_addr, no dir=; the old
    dma_map_sg), plus dma_map_resource; trace file of a 4-CPU machine, old 4-character flags."""
    texts = dma_story(rng, "old", 100, ["0000:02:00.0"])
    # A peer-to-peer mapping of another device's BAR.
    texts.append(("dma_map_resource", map_text("0000:02:00.0", "bidi", 0xE0000000, 65536, 0x38000000000, "SKIP_CPU_SYNC")))
    texts.append(("dma_unmap_resource", unmap_text("0000:02:00.0", "bidi", 0xE0000000, 65536, "SKIP_CPU_SYNC")))
    context = lambda comm, pid, us: kernel_context(comm, pid, rng.randint(0, 3), us, rng.choice(OLD_FLAG_CHOICES))
    return KERNEL_HEADER_OLD_FLAGS.format(n=len(texts)) + render(rng, texts, Clock(212 * 1000000), context)


def sample_dma_new(rng):
    """The newest dma:* formats: dma_map_phys, dma_map_sg with nents=/ents= (merged segments and
    one [TRUNCATED] list of 130 entries), dma_alloc with dir=, dma_alloc_pages, dma_alloc_sgt,
    a failed map and a failed allocation, sync and error events; trace_pipe with flags."""
    dev = "0000:c1:00.0"
    texts = dma_story(rng, "new", 80, [dev])
    physes = [0x200000000 + i * 0x3000 for i in range(130)]
    dmas = [0x80000000 + i * 0x1000 for i in range(130)]
    texts.append(("dma_map_sg", map_sg_text_new(dev, "to", 130, 130, dmas, [4096] * 130, physes, "")))
    texts.append(("dma_sync_sg_for_device", "%s dir=TO_DEVICE dma_addrs=%s sizes=%s" % (dev, print_array(dmas[:2]), print_array([4096, 4096]))))
    texts.append(("dma_unmap_sg", unmap_sg_text(dev, "to", physes, "")))
    texts.append(("dma_alloc_pages", "%s dir=FROM_DEVICE dma_addr=%x size=%d virt_addr=%s flags=GFP_KERNEL attrs=" % (dev, 0x90000000, 1 << 20, pointer(rng))))
    texts.append(("dma_alloc_sgt", "%s dir=TO_DEVICE dma_addr=%x size=%d phys_addrs=%s flags=GFP_KERNEL|__GFP_NOWARN attrs=ALLOC_SINGLE_PAGES" % (
        dev, 0xA0000000, 16384, print_array([0x300000000, 0x300005000, 0x300009000, 0x30000c000]))))
    texts.append(("dma_map_phys", map_text(dev, "to", 0xFFFFFFFFFFFFFFFF, 4096, 0x123456000, "")))  # failed: DMA_MAPPING_ERROR
    texts.append(("dma_alloc", "%s dir=BIDIRECTIONAL dma_addr=0 size=%d virt_addr=0000000000000000 flags=GFP_KERNEL attrs=" % (dev, 1 << 30)))  # failed
    texts.append(("dma_map_sg_err", "%s dir=FROM_DEVICE dma_addrs=%s err=-12 attrs=" % (dev, print_array([0x300020000]))))
    texts.append(("dma_free_sgt", "%s dir=TO_DEVICE dma_addr=%x size=%d phys_addrs=%s" % (
        dev, 0xA0000000, 16384, print_array([0x300000000, 0x300005000, 0x300009000, 0x30000c000]))))
    texts.append(("dma_free_pages", "%s dir=FROM_DEVICE dma_addr=%x size=%d virt_addr=%s attrs=" % (dev, 0x90000000, 1 << 20, pointer(rng))))
    context = lambda comm, pid, us: kernel_context(comm, pid, rng.randint(0, 1), us, rng.choice(FLAG_CHOICES))
    return render(rng, texts, Clock(3 * 1000000), context)


def sample_iommu(rng, form):
    """iommu:map and iommu:unmap, old form (no "- end") or new, trace file with flags."""
    texts = iommu_story(rng, form, 100)
    texts.append(("attach_device_to_domain", "IOMMU: device=0000:01:00.0"))
    flag_choices = OLD_FLAG_CHOICES if form == "old" else FLAG_CHOICES
    context = lambda comm, pid, us: kernel_context(comm, pid, rng.randint(0, 1), us, rng.choice(flag_choices))
    header = (KERNEL_HEADER_OLD_FLAGS if form == "old" else KERNEL_HEADER_FLAGS).format(n=len(texts))
    return header + render(rng, texts, Clock(640 * 1000000), context)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    samples = {
        "ftrace-trace-flags.txt": lambda: sample_trace_flags(random.Random(1)),
        "ftrace-trace-pipe.txt": lambda: sample_trace_pipe(random.Random(2)),
        "ftrace-trace-cmd.txt": lambda: sample_trace_cmd(random.Random(3)),
        "ftrace-dma-old.txt": lambda: sample_dma_old(random.Random(4)),
        "ftrace-dma-new.txt": lambda: sample_dma_new(random.Random(5)),
        "ftrace-iommu-old.txt": lambda: sample_iommu(random.Random(6), "old"),
        "ftrace-iommu-new.txt": lambda: sample_iommu(random.Random(7), "new"),
    }
    for name, make in samples.items():
        write(os.path.join(out_dir, name), make())


if __name__ == "__main__":
    main()
