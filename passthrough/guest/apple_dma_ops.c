// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: the DMA ops installed on the managed device.
 *
 * The managed device was on the direct path (no DMA ops of its own: the module refuses to bind
 * otherwise), so "the original path" is plain guest memory: a page's guest-physical address is
 * what the device is asked to map, and allocations come from the page allocator. The sync ops of
 * that path do nothing on a cache-coherent device that never bounces (the module refuses a
 * non-coherent device), so none are installed and the DMA API skips them.
 *
 * Each map call is refused cleanly (DMA_MAPPING_ERROR, 0 from dma_map_sg, NULL from an
 * allocation) when the host refuses, with whatever a scatterlist had mapped rolled back. An
 * unmap of an address the module never handed out is a warning and a counter, never a crash.
 *
 * Longer than most files (about 660 lines) on purpose: it is the whole dma_map_ops table, and
 * every op shares the request helpers and the one lock discipline above (spinlock, interrupts
 * off, no sleeping); split across files those helpers would become the module's interface.
 */
#include <linux/dma-direction.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>

#include "apple_dma.h"

/* Interface 2 carries a 32-bit length: the longest request whose 16 KiB-rounded range still
 * fits (an offset inside the first page plus the round-up at the end add at most 32 KiB - 2). */
#define ADMA_V2_MAX_MAPPING 0xffff8000ull

static const char *const reason_names[ADMA_REASON_COUNT] = {
	[ADMA_REASON_NONE] = "none",		[ADMA_REASON_INVALID] = "invalid",
	[ADMA_REASON_SLOTS] = "slots",		[ADMA_REASON_APERTURE] = "aperture",
	[ADMA_REASON_FRAGMENTED] = "fragmented", [ADMA_REASON_STILL_OPEN] = "still-open",
	[ADMA_REASON_NOT_FOUND] = "not-found",	[ADMA_REASON_POOL] = "pool",
	[ADMA_REASON_CAP] = "cap",		[ADMA_REASON_TRUNCATED] = "truncated",
	[ADMA_REASON_IO] = "io",
	[ADMA_REASON_SHORT] = "short",		[ADMA_REASON_MASK] = "mask",
	[ADMA_REASON_NOMEM] = "nomem",		[ADMA_REASON_BAD_REQUEST] = "bad-request",
};

const char *adma_reason_name(unsigned int reason)
{
	return reason < ADMA_REASON_COUNT ? reason_names[reason] : "?";
}

/* The one instance, if it manages this device. */
static struct adma *adma_for(struct device *dev)
{
	struct adma *a = READ_ONCE(adma_dev);

	if (WARN_ON_ONCE(!a || dev != &a->managed->dev))
		return NULL;
	return a;
}

/* Where the test hook moves an address: past the aperture's end, which nothing maps. */
static u64 fault_offset(struct adma *a)
{
	return a->aperture_bytes ? a->aperture_bytes : 1ull << 32;
}

static bool beyond_mask(struct device *dev, u64 dma_addr, u64 len, bool coherent)
{
	u64 mask = coherent ? dev->coherent_dma_mask : (dev->dma_mask ? *dev->dma_mask : 0);

	return dma_addr > U64_MAX - len + 1 || dma_addr + len - 1 > mask;
}

static void refused(struct adma *a, const char *what, u64 gpa, u64 len, unsigned int reason)
{
	dev_warn_ratelimited(&a->pdev->dev, "%s of gpa 0x%llx len %llu refused: %s\n", what, gpa, len,
			     adma_reason_name(reason));
}

/* Interface 3: one request entry at slot i of the request array. */
static void v3_put_map(struct adma *a, u32 i, const struct adma_request *r)
{
	struct adma_v3_map_req *e = (struct adma_v3_map_req *)a->req + i;

	e->gpa = cpu_to_le64(r->gpa);
	e->len = cpu_to_le64(r->len);
	e->dir = cpu_to_le32(r->dir);
	e->reserved = 0;
}

/* Reads response i into r: 0 and r->handle / r->dma_addr, or the refusal's reason. */
static u8 v3_get_map(struct adma *a, u32 i, struct adma_request *r)
{
	const struct adma_v3_map_resp *e = (const struct adma_v3_map_resp *)a->resp + i;

	if (le32_to_cpu(e->status) == ADMA_STATUS_OK) {
		r->handle = le64_to_cpu(e->handle);
		r->dma_addr = le64_to_cpu(e->dma_addr);
		return ADMA_REASON_NONE;
	}
	return adma_device_reason(le32_to_cpu(e->reason));
}

static void v3_put_unmap(struct adma *a, u32 i, const struct adma_request *r)
{
	struct adma_v3_unmap_req *e = (struct adma_v3_unmap_req *)a->req + i;

	e->handle = cpu_to_le64(r->handle);
	e->len = cpu_to_le64(r->len);
}

/* Checks the responses of an interface 3 unmap of n entries. */
static void v3_check_unmaps(struct adma *a, u32 status, u32 n)
{
	const struct adma_v3_unmap_resp *e = a->resp;
	u32 i;

	for (i = 0; i < n; i++) {
		if (status == ADMA_STATUS_INVALID && le32_to_cpu(e[i].status) == ADMA_STATUS_OK)
			continue; /* the command was refused before any entry ran: counted below */
		if (le32_to_cpu(e[i].status) != ADMA_STATUS_OK) {
			a->stats.unmap_errors++;
			dev_err_ratelimited(&a->pdev->dev, "unmap of handle 0x%llx refused (status %u)\n",
					    le64_to_cpu(e[i].handle), le32_to_cpu(e[i].status));
		}
	}
	if (status == ADMA_STATUS_INVALID) {
		a->stats.unmap_errors++;
		dev_err_ratelimited(&a->pdev->dev, "unmap command of %u entries refused as invalid\n", n);
	}
}

/* Maps one request through the device; locked. */
static u8 map_one(struct adma *a, struct adma_request *r)
{
	u8 reason = ADMA_REASON_NONE;

	if (a->iface == 2) {
		adma_v2_map(a, r, &reason);
		return reason;
	}
	v3_put_map(a, 0, r);
	adma_doorbell(a, ADMA_CMD_MAP_REQ, 1);
	return v3_get_map(a, 0, r);
}

/* Releases one request's host side; locked. */
static void unmap_one(struct adma *a, struct adma_request *r)
{
	if (a->iface == 2) {
		adma_v2_unmap(a, r);
		return;
	}
	v3_put_unmap(a, 0, r);
	v3_check_unmaps(a, adma_doorbell(a, ADMA_CMD_UNMAP_REQ, 1), 1);
}

/*
 * What dma_map_sg reports for a refusal. The DMA API's -ENOMEM means "should succeed if retried
 * later", and block drivers take it so: NVMe requeues the request until the host has room, for
 * ever if it never has. -EREMOTEIO is the one code NVMe (and the block layer) turns into an I/O
 * error; refusal=fail (the default) uses it for host refusals, as the real system's users see
 * them: the driver's operation fails. A map_page refusal has only DMA_MAPPING_ERROR, which NVMe
 * always retries.
 */
static int sg_errno(const struct adma *a, u8 reason)
{
	switch (reason) {
	case ADMA_REASON_NOMEM:
	case ADMA_REASON_CAP: /* the device says: again, after an unmap */
		return -ENOMEM;
	case ADMA_REASON_BAD_REQUEST:
		return -EINVAL;
	default:
		return a->refusal_fails ? -EREMOTEIO : -ENOMEM;
	}
}

static bool bad_range(u64 gpa, u64 len)
{
	return len == 0 || gpa > U64_MAX - len + 1;
}

/* map_page and the allocations: one request. Returns the DMA address or DMA_MAPPING_ERROR. */
static dma_addr_t map_range(struct device *dev, phys_addr_t phys, size_t size, enum dma_data_direction dir,
			    u8 kind)
{
	struct adma *a = adma_for(dev);
	struct adma_request *r;
	unsigned long flags;
	u8 reason;

	if (!a)
		return DMA_MAPPING_ERROR;
	if (bad_range(phys, size) || (a->iface == 2 && size > ADMA_V2_MAX_MAPPING)) {
		spin_lock_irqsave(&a->lock, flags);
		a->stats.refused[ADMA_REASON_BAD_REQUEST]++;
		a->stats.refused_maps++;
		spin_unlock_irqrestore(&a->lock, flags);
		refused(a, "map", phys, size, ADMA_REASON_BAD_REQUEST);
		return DMA_MAPPING_ERROR;
	}
	r = kmem_cache_alloc(a->request_cache, GFP_ATOMIC | __GFP_NOWARN);
	spin_lock_irqsave(&a->lock, flags);
	if (!r) {
		a->stats.refused[ADMA_REASON_NOMEM]++;
		a->stats.refused_maps++;
		spin_unlock_irqrestore(&a->lock, flags);
		refused(a, "map", phys, size, ADMA_REASON_NOMEM);
		return DMA_MAPPING_ERROR;
	}
	r->gpa = phys;
	r->len = size;
	r->dir = dir;
	r->kind = kind;
	r->id = r->group = ++a->next_id;
	reason = map_one(a, r);
	if (!reason && beyond_mask(dev, r->dma_addr, size, kind == ADMA_KIND_ALLOC)) {
		unmap_one(a, r);
		reason = ADMA_REASON_MASK;
	}
	if (reason) {
		a->stats.refused[reason]++;
		a->stats.refused_maps++;
		adma_trace(a, ADMA_OP_MAP, ADMA_REC_FAILED | (kind == ADMA_KIND_ALLOC ? ADMA_REC_ALLOC : 0), r);
		spin_unlock_irqrestore(&a->lock, flags);
		kmem_cache_free(a->request_cache, r);
		refused(a, kind == ADMA_KIND_ALLOC ? "alloc" : "map", phys, size, reason);
		return DMA_MAPPING_ERROR;
	}
	if (kind != ADMA_KIND_ALLOC && READ_ONCE(adma_fault_inject)) {
		r->dma_addr += fault_offset(a);
		a->stats.faults_injected++;
	}
	adma_request_insert(a, r);
	if (kind == ADMA_KIND_ALLOC)
		a->stats.allocs++;
	else
		a->stats.maps++;
	adma_trace(a, ADMA_OP_MAP, kind == ADMA_KIND_ALLOC ? ADMA_REC_ALLOC : 0, r);
	spin_unlock_irqrestore(&a->lock, flags);
	return r->dma_addr;
}

static void unmap_range(struct device *dev, dma_addr_t addr, size_t size, u8 op)
{
	struct adma *a = adma_for(dev);
	struct adma_request *r;
	unsigned long flags;
	u64 found_len = 0;

	if (!a)
		return;
	spin_lock_irqsave(&a->lock, flags);
	r = adma_request_find(a, addr, size);
	if (!r) {
		a->stats.unknown_unmaps++;
		spin_unlock_irqrestore(&a->lock, flags);
		WARN_ONCE(1, ADMA_DRV_NAME ": unmap of 0x%llx len %zu, which this module never mapped\n",
			  (u64)addr, size);
		return;
	}
	if (r->len != size) {
		a->stats.size_mismatches++;
		found_len = r->len;
	}
	unmap_one(a, r);
	adma_request_remove(a, r);
	if (op == ADMA_OP_FREE)
		a->stats.frees++;
	else
		a->stats.unmaps++;
	adma_trace(a, op, op == ADMA_OP_FREE ? ADMA_REC_ALLOC : 0, r);
	spin_unlock_irqrestore(&a->lock, flags);
	kmem_cache_free(a->request_cache, r);
	if (found_len)
		dev_warn_ratelimited(&a->pdev->dev, "unmap of 0x%llx with len %zu, mapped with len %llu\n", (u64)addr,
				     size, found_len);
}

static dma_addr_t adma_map_page(struct device *dev, struct page *page, unsigned long offset, size_t size,
				enum dma_data_direction dir, unsigned long attrs)
{
	return map_range(dev, page_to_phys(page) + offset, size, dir, ADMA_KIND_PAGE);
}

static void adma_unmap_page(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
			    unsigned long attrs)
{
	unmap_range(dev, addr, size, ADMA_OP_UNMAP);
}

/* Takes one preallocated record off the chain. */
static struct adma_request *chain_pop(struct hlist_head *chain)
{
	struct adma_request *r = hlist_entry_safe(chain->first, struct adma_request, node);

	if (r)
		hlist_del(&r->node);
	return r;
}

static void chain_free(struct adma *a, struct hlist_head *chain)
{
	struct adma_request *r;

	while ((r = chain_pop(chain)))
		kmem_cache_free(a->request_cache, r);
}

/* The records of a scatterlist's segments, in order, while it is being mapped. */
struct sg_run {
	struct adma_request *first, *last;
};

static void run_append(struct sg_run *run, struct adma_request *r)
{
	r->run_next = NULL;
	if (run->last)
		run->last->run_next = r;
	else
		run->first = r;
	run->last = r;
}

static void run_free(struct adma *a, struct sg_run *run)
{
	struct adma_request *r = run->first, *next;

	for (; r; r = next) {
		next = r->run_next;
		kmem_cache_free(a->request_cache, r);
	}
	run->first = run->last = NULL;
}

/* Whether a segment holds a host mapping the module must release. */
static bool seg_mapped(const struct adma *a, const struct adma_request *r)
{
	/* Interface 3 keeps a segment beyond the DMA mask mapped until the rollback; interface 2
	 * released it at once. */
	return r->outcome == ADMA_REASON_NONE || (a->iface == 3 && r->outcome == ADMA_REASON_MASK);
}

/*
 * Maps a scatterlist's segments; locked. Interface 3: every segment goes to the device, a batch
 * of entries per doorbell (one doorbell for any NVMe request); each entry runs on its own in the
 * device, so segments after a refused one are still tried. Interface 2: segment by segment, one
 * entry per doorbell; the first refusal stops, as the seed module. Fills run with the segments
 * tried, each with its outcome; returns the first refusal's reason, or 0.
 */
static u8 map_sg_locked(struct adma *a, struct device *dev, struct scatterlist *sgl, int nents,
			enum dma_data_direction dir, struct hlist_head *chain, struct sg_run *run)
{
	struct adma_request *batch_first = NULL, *r;
	struct scatterlist *sg;
	u64 group = a->next_id + 1;
	u8 first_reason = ADMA_REASON_NONE;
	u32 n = 0, j;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		r = chain_pop(chain);
		r->gpa = sg_phys(sg);
		r->len = sg->length;
		r->dir = dir;
		r->kind = ADMA_KIND_SG;
		r->outcome = ADMA_REASON_NONE;
		r->id = ++a->next_id;
		r->group = group;
		run_append(run, r);
		if (a->iface == 2) {
			adma_v2_map(a, r, &r->outcome);
			if (!r->outcome && beyond_mask(dev, r->dma_addr, r->len, false)) {
				adma_v2_unmap(a, r);
				r->outcome = ADMA_REASON_MASK;
			}
			if (r->outcome)
				return r->outcome;
			continue;
		}
		if (!batch_first)
			batch_first = r;
		v3_put_map(a, n++, r);
		if (n < a->batch_entries && i < nents - 1)
			continue;
		adma_doorbell(a, ADMA_CMD_MAP_REQ, n);
		for (j = 0, r = batch_first; j < n; j++, r = r->run_next) {
			r->outcome = v3_get_map(a, j, r);
			if (!r->outcome && beyond_mask(dev, r->dma_addr, r->len, false))
				r->outcome = ADMA_REASON_MASK;
			if (r->outcome && !first_reason)
				first_reason = r->outcome;
		}
		n = 0;
		batch_first = NULL;
	}
	return first_reason;
}

/* Releases the mapped segments of a scatterlist that failed; locked. */
static void rollback_locked(struct adma *a, struct sg_run *run, u8 split)
{
	struct adma_request *r;
	bool first = true;
	u32 n = 0;

	for (r = run->first; r; r = r->run_next) {
		if (!seg_mapped(a, r))
			continue;
		adma_request_remove(a, r);
		a->stats.rollbacks++;
		adma_trace(a, ADMA_OP_SG_UNMAP, ADMA_REC_ROLLBACK | split | (first ? ADMA_REC_FIRST : 0), r);
		first = false;
		if (a->iface == 2) {
			adma_v2_unmap(a, r);
			continue;
		}
		v3_put_unmap(a, n++, r);
		if (n == a->batch_entries) {
			v3_check_unmaps(a, adma_doorbell(a, ADMA_CMD_UNMAP_REQ, n), n);
			n = 0;
		}
	}
	if (n)
		v3_check_unmaps(a, adma_doorbell(a, ADMA_CMD_UNMAP_REQ, n), n);
}

static int adma_map_sg(struct device *dev, struct scatterlist *sgl, int nents, enum dma_data_direction dir,
		       unsigned long attrs)
{
	struct adma *a = adma_for(dev);
	struct sg_run run = { NULL, NULL };
	HLIST_HEAD(chain);
	struct scatterlist *sg;
	struct adma_request *r;
	unsigned long flags;
	u8 first_reason, split;
	int i;

	if (!a)
		return -EIO;
	if (nents <= 0)
		return -EINVAL;
	for_each_sg(sgl, sg, nents, i) {
		if (bad_range(sg_phys(sg), sg->length) || (a->iface == 2 && sg->length > ADMA_V2_MAX_MAPPING)) {
			spin_lock_irqsave(&a->lock, flags);
			a->stats.refused[ADMA_REASON_BAD_REQUEST]++;
			a->stats.refused_maps++;
			spin_unlock_irqrestore(&a->lock, flags);
			refused(a, "map_sg segment", sg_phys(sg), sg->length, ADMA_REASON_BAD_REQUEST);
			return -EINVAL;
		}
	}
	/* Every record first, so that nothing is allocated once the device has mapped. */
	for (i = 0; i < nents; i++) {
		r = kmem_cache_alloc(a->request_cache, GFP_ATOMIC | __GFP_NOWARN);
		if (!r) {
			chain_free(a, &chain);
			spin_lock_irqsave(&a->lock, flags);
			a->stats.refused[ADMA_REASON_NOMEM]++;
			a->stats.refused_maps++;
			spin_unlock_irqrestore(&a->lock, flags);
			return -ENOMEM;
		}
		hlist_add_head(&r->node, &chain);
	}

	spin_lock_irqsave(&a->lock, flags);
	first_reason = map_sg_locked(a, dev, sgl, nents, dir, &chain, &run);
	/* An interface 3 scatterlist that failed was tried whole: its dartlab trace shows one
	 * request per segment, so that a replay tries and releases exactly what the device did. */
	split = first_reason && a->iface == 3 ? ADMA_REC_SPLIT : 0;
	for (r = run.first, i = 0; r; r = r->run_next, i++) {
		u8 rec_flags = (i == 0 ? ADMA_REC_FIRST : 0) | split;

		if (r->outcome)
			a->stats.refused[r->outcome]++;
		if (!seg_mapped(a, r)) {
			adma_trace(a, ADMA_OP_SG, rec_flags | ADMA_REC_FAILED, r);
			continue;
		}
		if (!first_reason && READ_ONCE(adma_fault_inject)) {
			r->dma_addr += fault_offset(a);
			a->stats.faults_injected++;
		}
		adma_request_insert(a, r);
		adma_trace(a, ADMA_OP_SG, rec_flags, r);
	}
	if (first_reason) {
		rollback_locked(a, &run, split);
		a->stats.refused_maps++;
		spin_unlock_irqrestore(&a->lock, flags);
		run_free(a, &run);
		chain_free(a, &chain);
		refused(a, "map_sg", sg_phys(sgl), sgl->length, first_reason);
		return sg_errno(a, first_reason);
	}
	r = run.first;
	for_each_sg(sgl, sg, nents, i) {
		sg_dma_address(sg) = r->dma_addr;
		sg_dma_len(sg) = r->len;
		r = r->run_next;
	}
	a->stats.sg_maps++;
	a->stats.sg_segments += nents;
	spin_unlock_irqrestore(&a->lock, flags);
	return nents;
}

static void adma_unmap_sg(struct device *dev, struct scatterlist *sgl, int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	struct adma *a = adma_for(dev);
	struct sg_run batch = { NULL, NULL };
	struct scatterlist *sg;
	struct adma_request *r;
	unsigned long flags;
	u64 unknown = 0, mismatched = 0;
	bool first = true;
	u32 n = 0;
	int i;

	if (!a)
		return;
	spin_lock_irqsave(&a->lock, flags);
	for_each_sg(sgl, sg, nents, i) {
		r = adma_request_find(a, sg_dma_address(sg), sg_dma_len(sg));
		if (!r) {
			unknown++;
			continue;
		}
		if (r->len != sg_dma_len(sg))
			mismatched++;
		adma_request_remove(a, r);
		adma_trace(a, ADMA_OP_SG_UNMAP, first ? ADMA_REC_FIRST : 0, r);
		first = false;
		if (a->iface == 2) {
			adma_v2_unmap(a, r);
			kmem_cache_free(a->request_cache, r);
			continue;
		}
		v3_put_unmap(a, n++, r);
		run_append(&batch, r);
		if (n == a->batch_entries) {
			v3_check_unmaps(a, adma_doorbell(a, ADMA_CMD_UNMAP_REQ, n), n);
			run_free(a, &batch);
			n = 0;
		}
	}
	if (n)
		v3_check_unmaps(a, adma_doorbell(a, ADMA_CMD_UNMAP_REQ, n), n);
	a->stats.sg_unmaps++;
	a->stats.unknown_unmaps += unknown;
	a->stats.size_mismatches += mismatched;
	spin_unlock_irqrestore(&a->lock, flags);
	run_free(a, &batch);
	WARN_ONCE(unknown, ADMA_DRV_NAME ": unmap_sg of %llu segments this module never mapped\n", unknown);
}

/* Pages from the page allocator, mapped as one request; NULL if either refuses. */
static struct page *alloc_mapped(struct device *dev, size_t size, dma_addr_t *dma_handle, enum dma_data_direction dir,
				 gfp_t gfp)
{
	struct page *page = alloc_pages_node(dev_to_node(dev), gfp, get_order(size));
	dma_addr_t addr;

	if (!page)
		return NULL;
	addr = map_range(dev, page_to_phys(page), size, dir, ADMA_KIND_ALLOC);
	if (addr == DMA_MAPPING_ERROR) {
		__free_pages(page, get_order(size));
		return NULL;
	}
	*dma_handle = addr;
	return page;
}

static void free_mapped(struct device *dev, size_t size, struct page *page, dma_addr_t dma_handle)
{
	unmap_range(dev, dma_handle, size, ADMA_OP_FREE);
	__free_pages(page, get_order(size));
}

static void *adma_alloc(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs)
{
	/* dma_alloc_coherent's memory comes zeroed. */
	struct page *page = alloc_mapped(dev, size, dma_handle, DMA_BIDIRECTIONAL, gfp | __GFP_ZERO);

	return page ? page_address(page) : NULL;
}

static void adma_free(struct device *dev, size_t size, void *vaddr, dma_addr_t dma_handle, unsigned long attrs)
{
	free_mapped(dev, size, virt_to_page(vaddr), dma_handle);
}

static struct page *adma_alloc_pages(struct device *dev, size_t size, dma_addr_t *dma_handle,
				     enum dma_data_direction dir, gfp_t gfp)
{
	return alloc_mapped(dev, size, dma_handle, dir, gfp);
}

static void adma_free_pages(struct device *dev, size_t size, struct page *page, dma_addr_t dma_handle,
			    enum dma_data_direction dir)
{
	free_mapped(dev, size, page, dma_handle);
}

/* Coherent memory comes from the page allocator, so it is plain pages to map into user space. */
static int adma_mmap(struct device *dev, struct vm_area_struct *vma, void *cpu_addr, dma_addr_t dma_addr,
		     size_t size, unsigned long attrs)
{
	unsigned long pages = PAGE_ALIGN(size) >> PAGE_SHIFT;

	if (vma->vm_pgoff >= pages || vma_pages(vma) > pages - vma->vm_pgoff)
		return -ENXIO;
	return remap_pfn_range(vma, vma->vm_start, page_to_pfn(virt_to_page(cpu_addr)) + vma->vm_pgoff,
			       vma_pages(vma) << PAGE_SHIFT, vma->vm_page_prot);
}

static int adma_get_sgtable(struct device *dev, struct sg_table *sgt, void *cpu_addr, dma_addr_t dma_addr,
			    size_t size, unsigned long attrs)
{
	int ret = sg_alloc_table(sgt, 1, GFP_KERNEL);

	if (!ret)
		sg_set_page(sgt->sgl, virt_to_page(cpu_addr), PAGE_ALIGN(size), 0);
	return ret;
}

/* MMIO of another device (peer to peer): the host maps guest RAM only. */
static dma_addr_t adma_map_resource(struct device *dev, phys_addr_t phys, size_t size, enum dma_data_direction dir,
				    unsigned long attrs)
{
	struct adma *a = adma_for(dev);
	unsigned long flags;

	if (!a)
		return DMA_MAPPING_ERROR;
	spin_lock_irqsave(&a->lock, flags);
	a->stats.refused[ADMA_REASON_BAD_REQUEST]++;
	a->stats.refused_maps++;
	spin_unlock_irqrestore(&a->lock, flags);
	refused(a, "map_resource (peer-to-peer MMIO, unsupported)", phys, size, ADMA_REASON_BAD_REQUEST);
	return DMA_MAPPING_ERROR;
}

static size_t adma_max_mapping_size(struct device *dev)
{
	struct adma *a = adma_for(dev);

	return a && a->iface == 2 ? ADMA_V2_MAX_MAPPING : SIZE_MAX;
}

const struct dma_map_ops adma_dma_ops = {
	.alloc = adma_alloc,
	.free = adma_free,
	.alloc_pages = adma_alloc_pages,
	.free_pages = adma_free_pages,
	.mmap = adma_mmap,
	.get_sgtable = adma_get_sgtable,
	.map_page = adma_map_page,
	.unmap_page = adma_unmap_page,
	.map_sg = adma_map_sg,
	.unmap_sg = adma_unmap_sg,
	.map_resource = adma_map_resource,
	.max_mapping_size = adma_max_mapping_size,
};
