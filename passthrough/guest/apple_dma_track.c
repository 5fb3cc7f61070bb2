// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: live requests (by the DMA address handed out) and, under interface 2, the module's
 * own clustering: windows and direct ranges reference counted by (base, size), exactly the seed
 * policy (dartlab docs/policies.md, "window:S"):
 *   S = 2^window_shift; a request with len <= S lying inside one S-aligned window maps the whole
 *   window; otherwise a direct range rounded out to 16 KiB. window_shift 0 (and 12, 13, which are
 *   not 16 KiB multiples) always map directly.
 * Everything here runs with adma->lock held.
 */
#include <linux/hash.h>
#include <linux/minmax.h>

#include "apple_dma.h"

/* The host maps 16 KiB pages: every direct range is rounded out to them. */
#define ADMA_HOST_PAGE 16384ull

void adma_track_init(struct adma *a)
{
	hash_init(a->requests);
	hash_init(a->windows);
}

struct adma_request *adma_request_find(struct adma *a, dma_addr_t dma_addr, u64 len)
{
	struct adma_request *r, *any = NULL;

	hash_for_each_possible(a->requests, r, node, dma_addr) {
		if (r->dma_addr != dma_addr)
			continue;
		if (r->len == len)
			return r;
		if (!any)
			any = r;
	}
	return any; /* the caller counts a size mismatch when any->len != len */
}

void adma_request_insert(struct adma *a, struct adma_request *r)
{
	hash_add(a->requests, &r->node, r->dma_addr);
	a->stats.live_requests++;
	a->stats.live_bytes += r->len;
	a->stats.live_allocs += r->kind == ADMA_KIND_ALLOC;
	a->stats.peak_requests = max(a->stats.peak_requests, a->stats.live_requests);
	a->stats.peak_bytes = max(a->stats.peak_bytes, a->stats.live_bytes);
}

void adma_request_remove(struct adma *a, struct adma_request *r)
{
	hash_del(&r->node);
	a->stats.live_requests--;
	a->stats.live_bytes -= r->len;
	a->stats.live_allocs -= r->kind == ADMA_KIND_ALLOC;
}

u64 adma_window_size_for(u32 window_shift, u64 gpa, u64 len, u64 *base)
{
	if (window_shift >= 14) {
		u64 s = 1ull << window_shift;

		if (len <= s && (gpa >> window_shift) == ((gpa + len - 1) >> window_shift)) {
			*base = gpa & ~(s - 1);
			return s;
		}
	}
	*base = gpa & ~(ADMA_HOST_PAGE - 1);
	return round_up(gpa + len, ADMA_HOST_PAGE) - *base;
}

static u32 window_hash(u64 base, u64 size)
{
	return hash_64(base ^ (size << 1), 32);
}

static struct adma_window *window_find(struct adma *a, u64 base, u64 size)
{
	struct adma_window *w;

	hash_for_each_possible(a->windows, w, node, window_hash(base, size)) {
		if (w->base == base && w->size == size)
			return w;
	}
	return NULL;
}

/* Unmap one host mapping of the module's (interface 2). */
static void v2_unmap_window(struct adma *a, struct adma_window *w)
{
	struct adma_v2_unmap_req *req = a->req;
	struct adma_v2_unmap_resp *resp = a->resp;
	u32 status;

	req->id = cpu_to_le64(w->id);
	req->size = cpu_to_le64(w->size);
	status = adma_doorbell(a, ADMA_CMD_UNMAP, 1);
	a->stats.host_unmap_calls++;
	if (status != ADMA_STATUS_OK || le32_to_cpu(resp->status) != ADMA_STATUS_OK) {
		a->stats.unmap_errors++;
		dev_err_ratelimited(&a->pdev->dev, "unmap of window 0x%llx+0x%llx (id 0x%llx) refused: status %u\n",
				    w->base, w->size, w->id, le32_to_cpu(resp->status));
	}
	hash_del(&w->node);
	a->stats.host_live--;
}

/*
 * Interface 2 map of one request: find or make its window, one entry per doorbell. Sets
 * r->window and r->dma_addr on success; on failure returns -errno with *reason set.
 */
int adma_v2_map(struct adma *a, struct adma_request *r, u8 *reason)
{
	struct adma_v2_map_req *req = a->req;
	struct adma_v2_map_resp *resp = a->resp;
	struct adma_window *w;
	u64 base, size, dma, dma_len;
	u32 status;

	size = adma_window_size_for(a->window_shift, r->gpa, r->len, &base);
	w = window_find(a, base, size);
	if (!w) {
		/* The interface 2 wire carries a 32-bit length. */
		if (size > U32_MAX) {
			*reason = ADMA_REASON_BAD_REQUEST;
			return -EINVAL;
		}
		w = kmem_cache_alloc(a->window_cache, GFP_ATOMIC | __GFP_NOWARN);
		if (!w) {
			*reason = ADMA_REASON_NOMEM;
			return -ENOMEM;
		}
		req->gpa = cpu_to_le64(base);
		req->len = cpu_to_le32((u32)size);
		req->flags = 0; /* windows are shared by every direction: bidirectional */
		status = adma_doorbell(a, ADMA_CMD_MAP, 1);
		if (status != ADMA_STATUS_OK || le32_to_cpu(resp->status) != ADMA_STATUS_OK) {
			/* Interface 2 has no reason on the wire; dartlab's device keeps one in a register. */
			*reason = a->dartlab_device ? adma_device_reason(readl(a->regs + ADMA_REG_LAST_ERROR_REASON))
						    : ADMA_REASON_IO;
			kmem_cache_free(a->window_cache, w);
			return -ENOMEM;
		}
		w->base = base;
		w->size = size;
		w->id = le64_to_cpu(resp->id);
		w->dma_addr = le64_to_cpu(resp->dma_addr);
		w->refs = 0;
		hash_add(a->windows, &w->node, window_hash(base, size));
		a->stats.host_map_calls++;
		a->stats.host_live++;
		a->stats.host_peak = max(a->stats.host_peak, a->stats.host_live);
		dma_len = le32_to_cpu(resp->dma_len);
		/* As the seed: a mapping shorter than asked (the host cut it) is undone and fails. */
		if (dma_len < size || w->dma_addr > U64_MAX - size) {
			*reason = ADMA_REASON_SHORT;
			v2_unmap_window(a, w);
			kmem_cache_free(a->window_cache, w);
			return -EIO;
		}
	}
	dma = w->dma_addr + (r->gpa - w->base);
	w->refs++;
	r->window = w;
	r->dma_addr = dma;
	return 0;
}

/* Interface 2 release: the last request of a window unmaps it. */
void adma_v2_unmap(struct adma *a, struct adma_request *r)
{
	struct adma_window *w = r->window;

	if (--w->refs == 0) {
		v2_unmap_window(a, w);
		kmem_cache_free(a->window_cache, w);
	}
}

/* Teardown: whatever is still live is unmapped (the host would refuse the same gpa next time). */
void adma_release_all(struct adma *a)
{
	struct adma_request *r;
	struct hlist_node *tmp;
	unsigned int bkt;
	u64 left = 0;

	hash_for_each_safe(a->requests, bkt, tmp, r, node) {
		if (a->iface == 2) {
			adma_v2_unmap(a, r);
		} else {
			struct adma_v3_unmap_req *req = a->req;

			req->handle = cpu_to_le64(r->handle);
			req->len = cpu_to_le64(r->len);
			adma_doorbell(a, ADMA_CMD_UNMAP_REQ, 1);
		}
		adma_request_remove(a, r);
		kmem_cache_free(a->request_cache, r);
		left++;
	}
	if (left)
		dev_warn(&a->pdev->dev, "released %llu requests the driver left mapped\n", left);
}
