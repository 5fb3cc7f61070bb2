// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: the request trace and debugfs.
 *
 * A ring of fixed-size records, written under adma->lock by every map and unmap (no allocation,
 * any context), read through debugfs in two forms:
 *   apple_dma/trace          the seed module's CSV, `timestamp_ns,op,gpa_hex,size,active_maps,
 *                            active_bytes`, so that recordings made here and on the real system
 *                            read the same way (refused maps and sg rollbacks write no row);
 *   apple_dma/trace.dartlab  the same requests as a dartlab text trace (ids tie releases to maps,
 *                            directions, the device), which `dartlab replay` reads as it is.
 * Plus apple_dma/stats (the module's counters), apple_dma/device (the device's statistics
 * window) and apple_dma/reset (a write empties the ring).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include "apple_dma.h"

int adma_trace_init(struct adma *a, unsigned int entries)
{
	if (!entries)
		return 0;
	if (!is_power_of_2(entries))
		return -EINVAL;
	a->ring.recs = vzalloc(array_size(entries, sizeof(struct adma_rec)));
	if (!a->ring.recs)
		return -ENOMEM;
	a->ring.mask = entries - 1;
	return 0;
}

void adma_trace_free(struct adma *a)
{
	vfree(a->ring.recs);
	a->ring.recs = NULL;
}

void adma_trace(struct adma *a, u8 op, u8 flags, const struct adma_request *r)
{
	struct adma_ring *ring = &a->ring;
	struct adma_rec *rec;

	lockdep_assert_held(&a->lock);
	if (!ring->recs)
		return;
	rec = &ring->recs[ring->head & ring->mask];
	rec->ts_ns = ktime_get_ns();
	rec->gpa = r->gpa;
	rec->len = r->len;
	/* A scatterlist is one dartlab event named by its first segment, unless it was split. */
	rec->id = (op == ADMA_OP_SG || op == ADMA_OP_SG_UNMAP) && !(flags & ADMA_REC_SPLIT) ? r->group : r->id;
	rec->active_maps = (u32)min_t(u64, a->stats.live_requests, U32_MAX);
	rec->active_bytes = a->stats.live_bytes;
	rec->op = op;
	rec->dir = r->dir;
	rec->flags = flags;
	ring->head++;
}

/* ---- reading the ring: one seq_file iterator for both forms ---- */

struct trace_iter {
	struct adma *a;
	u64 first, end; /* records [first, end) as they were when the file was opened */
	bool dartlab;
};

/* Copies record seq; false when the ring has overwritten it since. */
static bool rec_copy(struct adma *a, u64 seq, struct adma_rec *out)
{
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&a->lock, flags);
	ok = seq + a->ring.mask + 1 > a->ring.head;
	if (ok)
		*out = a->ring.recs[seq & a->ring.mask];
	spin_unlock_irqrestore(&a->lock, flags);
	return ok;
}

static void *trace_start(struct seq_file *m, loff_t *pos)
{
	struct trace_iter *it = m->private;

	if (*pos == 0)
		return SEQ_START_TOKEN;
	return it->first + *pos - 1 < it->end ? pos : NULL;
}

static void *trace_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return trace_start(m, pos);
}

static void trace_stop(struct seq_file *m, void *v)
{
}

static const char *dir_name(u8 dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return "to_dev";
	case DMA_FROM_DEVICE:
		return "from_dev";
	default:
		return "bidi";
	}
}

static void show_csv(struct seq_file *m, const struct adma_rec *r)
{
	/* As the seed: refused maps and rolled-back segments leave no row. */
	if (r->flags & (ADMA_REC_FAILED | ADMA_REC_ROLLBACK))
		return;
	seq_printf(m, "%llu,%c,0x%llx,%llu,%u,%llu\n", r->ts_ns, r->op, r->gpa, r->len, r->active_maps,
		   r->active_bytes);
}

/* A map_sg line: this record and the segments that follow it in the same call. */
static void show_map_sg(struct seq_file *m, struct trace_iter *it, u64 seq, const struct adma_rec *r)
{
	struct adma_rec next;

	seq_printf(m, "@%llu map_sg %llu %s %s 0x%llx:%llu", r->ts_ns, r->id, pci_name(it->a->managed),
		   dir_name(r->dir), r->gpa, r->len);
	while (++seq < it->end && rec_copy(it->a, seq, &next) && next.op == ADMA_OP_SG &&
	       !(next.flags & (ADMA_REC_FIRST | ADMA_REC_SPLIT)) && next.id == r->id)
		seq_printf(m, " 0x%llx:%llu", next.gpa, next.len);
	seq_putc(m, '\n');
}

static void show_dartlab(struct seq_file *m, struct trace_iter *it, u64 seq, const struct adma_rec *r)
{
	const char *dev = pci_name(it->a->managed);
	bool split = r->flags & ADMA_REC_SPLIT;

	switch (r->op) {
	case ADMA_OP_MAP:
		if (r->flags & ADMA_REC_ALLOC)
			seq_printf(m, "@%llu alloc %llu %s 0x%llx %llu\n", r->ts_ns, r->id, dev, r->gpa, r->len);
		else
			seq_printf(m, "@%llu map %llu %s 0x%llx %llu %s\n", r->ts_ns, r->id, dev, r->gpa, r->len,
				   dir_name(r->dir));
		break;
	case ADMA_OP_SG:
		if (split)
			seq_printf(m, "@%llu map %llu %s 0x%llx %llu %s\n", r->ts_ns, r->id, dev, r->gpa, r->len,
				   dir_name(r->dir));
		else if (r->flags & ADMA_REC_FIRST)
			show_map_sg(m, it, seq, r);
		break;
	case ADMA_OP_UNMAP:
		seq_printf(m, "@%llu unmap %llu\n", r->ts_ns, r->id);
		break;
	case ADMA_OP_SG_UNMAP:
		/* A failed interface 2 scatterlist's rollback is the replay's own (its map_sg fails
		 * and releases what it mapped); a split one's is one unmap per segment. */
		if (split)
			seq_printf(m, "@%llu unmap %llu\n", r->ts_ns, r->id);
		else if ((r->flags & ADMA_REC_FIRST) && !(r->flags & ADMA_REC_ROLLBACK))
			seq_printf(m, "@%llu unmap_sg %llu\n", r->ts_ns, r->id);
		break;
	case ADMA_OP_FREE:
		seq_printf(m, "@%llu free %llu\n", r->ts_ns, r->id);
		break;
	}
}

static int trace_show(struct seq_file *m, void *v)
{
	struct trace_iter *it = m->private;
	struct adma_rec r;
	u64 seq;

	if (v == SEQ_START_TOKEN) {
		if (!it->dartlab) {
			seq_puts(m, "timestamp_ns,op,gpa_hex,size,active_maps,active_bytes\n");
			return 0;
		}
		seq_puts(m, "dartlab-trace v1\n");
		if (it->a->iface == 2)
			seq_printf(m, "# apple_dma guest module: interface 2, window_shift %u, managed %s, device %s\n",
				   it->a->window_shift, pci_name(it->a->managed), pci_name(it->a->pdev));
		else
			seq_printf(m, "# apple_dma guest module: interface 3 (the device's policy), managed %s, device %s\n",
				   pci_name(it->a->managed), pci_name(it->a->pdev));
		if (it->first > it->a->ring.reset_at)
			seq_printf(m, "# the ring wrapped: %llu older records were overwritten (replay with --lenient)\n",
				   it->first - it->a->ring.reset_at);
		return 0;
	}
	seq = it->first + *(loff_t *)v - 1;
	if (!rec_copy(it->a, seq, &r)) {
		/* The ring overwrote it while this file was read. */
		if (it->dartlab)
			seq_printf(m, "# record %llu overwritten while reading\n", seq);
		return 0;
	}
	if (it->dartlab)
		show_dartlab(m, it, seq, &r);
	else
		show_csv(m, &r);
	return 0;
}

static const struct seq_operations trace_seq_ops = {
	.start = trace_start,
	.next = trace_next,
	.stop = trace_stop,
	.show = trace_show,
};

static int trace_open_as(struct inode *inode, struct file *file, bool dartlab)
{
	struct adma *a = inode->i_private;
	struct trace_iter *it = __seq_open_private(file, &trace_seq_ops, sizeof(*it));
	unsigned long flags;

	if (!it)
		return -ENOMEM;
	it->a = a;
	it->dartlab = dartlab;
	spin_lock_irqsave(&a->lock, flags);
	it->end = a->ring.head;
	it->first = max(a->ring.reset_at, a->ring.head > a->ring.mask + 1 ? a->ring.head - a->ring.mask - 1 : 0);
	spin_unlock_irqrestore(&a->lock, flags);
	return 0;
}

static int trace_csv_open(struct inode *inode, struct file *file)
{
	return trace_open_as(inode, file, false);
}

static int trace_dartlab_open(struct inode *inode, struct file *file)
{
	return trace_open_as(inode, file, true);
}

static const struct file_operations trace_csv_fops = {
	.owner = THIS_MODULE,
	.open = trace_csv_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

static const struct file_operations trace_dartlab_fops = {
	.owner = THIS_MODULE,
	.open = trace_dartlab_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

static ssize_t reset_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
	struct adma *a = file->f_inode->i_private;
	unsigned long flags;

	spin_lock_irqsave(&a->lock, flags);
	a->ring.reset_at = a->ring.head;
	spin_unlock_irqrestore(&a->lock, flags);
	return len;
}

static const struct file_operations reset_fops = {
	.owner = THIS_MODULE,
	.write = reset_write,
	.llseek = noop_llseek,
};

/* ---- stats and the device's statistics window ---- */

static int stats_show(struct seq_file *m, void *v)
{
	struct adma *a = m->private;
	struct adma_stats s;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&a->lock, flags);
	s = a->stats;
	if (a->iface == 3) {
		/* The device keeps the host mappings under interface 3. */
		s.host_live = adma_read_stat(a, ADMA_STAT_LIVE_MAPPINGS);
	}
	spin_unlock_irqrestore(&a->lock, flags);

	seq_printf(m, "interface: %u\n", a->iface);
	seq_printf(m, "window_shift: %u\n", a->iface == 2 ? a->window_shift : 0);
	seq_printf(m, "managed: %s\n", pci_name(a->managed));
	seq_printf(m, "live_requests: %llu\n", s.live_requests);
	seq_printf(m, "live_bytes: %llu\n", s.live_bytes);
	seq_printf(m, "live_allocs: %llu\n", s.live_allocs);
	seq_printf(m, "peak_requests: %llu\n", s.peak_requests);
	seq_printf(m, "peak_bytes: %llu\n", s.peak_bytes);
	seq_printf(m, "host_mappings: %llu\n", s.host_live);
	if (a->iface == 2) {
		seq_printf(m, "host_peak_mappings: %llu\n", s.host_peak);
		seq_printf(m, "host_map_calls: %llu\n", s.host_map_calls);
		seq_printf(m, "host_unmap_calls: %llu\n", s.host_unmap_calls);
	}
	seq_printf(m, "maps: %llu\n", s.maps);
	seq_printf(m, "sg_maps: %llu\n", s.sg_maps);
	seq_printf(m, "sg_segments: %llu\n", s.sg_segments);
	seq_printf(m, "allocs: %llu\n", s.allocs);
	seq_printf(m, "unmaps: %llu\n", s.unmaps);
	seq_printf(m, "sg_unmaps: %llu\n", s.sg_unmaps);
	seq_printf(m, "frees: %llu\n", s.frees);
	seq_printf(m, "refused_maps: %llu\n", s.refused_maps);
	for (i = ADMA_REASON_INVALID; i < ADMA_REASON_COUNT; i++)
		seq_printf(m, "refused_%s: %llu\n", adma_reason_name(i), s.refused[i]);
	seq_printf(m, "rollbacks: %llu\n", s.rollbacks);
	seq_printf(m, "unknown_unmaps: %llu\n", s.unknown_unmaps);
	seq_printf(m, "size_mismatches: %llu\n", s.size_mismatches);
	seq_printf(m, "unmap_errors: %llu\n", s.unmap_errors);
	seq_printf(m, "doorbells: %llu\n", s.doorbells);
	seq_printf(m, "faults_injected: %llu\n", s.faults_injected);
	seq_printf(m, "trace_records: %llu\n", a->ring.head);
	seq_printf(m, "trace_capacity: %llu\n", a->ring.recs ? a->ring.mask + 1 : 0);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* Names of dartlab's statistics window (passthrough/qemu/INTERFACE.md). */
static const char *const device_stat_names[ADMA_STATS_COUNT] = {
	"live_mappings",      "mapped_bytes",	  "live_requests",	"requested_bytes",
	"peak_mappings",      "map_entries",	  "unmap_entries",	"fail_invalid",
	"fail_slots",	      "fail_aperture",	  "fail_fragmented",	"dart_faults",
	"last_fault_code",    "last_fault_addr",  "doorbells",		"invalid_commands",
	"slot_capacity",      "aperture_bytes",	  "free_bytes",		"largest_free_bytes",
	"guest_errors",	      "host_map_calls",	  "host_unmap_calls",	"peak_mapped_bytes",
	"fail_still_open",    "fail_not_found",	  "fail_pool",		"fail_cap",
	"bounce_bytes",	      "fail_truncated",
};

static int device_show(struct seq_file *m, void *v)
{
	struct adma *a = m->private;
	unsigned long flags;
	unsigned int i;

	seq_printf(m, "version: %u\n", a->version);
	seq_printf(m, "max_entries: %u\n", a->max_entries);
	/* The window is dartlab's: the seed's device reads 0 there. */
	for (i = 0; i < ADMA_STATS_COUNT; i++) {
		u64 v;

		spin_lock_irqsave(&a->lock, flags);
		v = adma_read_stat(a, i);
		spin_unlock_irqrestore(&a->lock, flags);
		seq_printf(m, "%s: %llu\n", device_stat_names[i], v);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(device);

void adma_debugfs_init(struct adma *a)
{
	a->debugfs = debugfs_create_dir(ADMA_DRV_NAME, NULL);
	debugfs_create_file("trace", 0400, a->debugfs, a, &trace_csv_fops);
	debugfs_create_file("trace.dartlab", 0400, a->debugfs, a, &trace_dartlab_fops);
	debugfs_create_file("stats", 0400, a->debugfs, a, &stats_fops);
	debugfs_create_file("device", 0400, a->debugfs, a, &device_fops);
	debugfs_create_file("reset", 0200, a->debugfs, a, &reset_fops);
}
