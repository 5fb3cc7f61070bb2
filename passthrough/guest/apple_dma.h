/* SPDX-License-Identifier: GPL-2.0 */
/*
 * apple_dma: the guest side of apple-dma-pci (dartlab).
 *
 * A PCI driver for the apple-dma-pci device (1b36:0015) that owns the DMA of one other PCI
 * device, the "managed" one (MANAGED_BDF): it installs DMA ops on it, and every map, unmap,
 * allocation and free that device's driver makes becomes a request to apple-dma-pci, which asks
 * the host (here: dartlab's emulated DART) for a bus-address mapping.
 *
 * Two wire modes (module parameter `interface`):
 *   3 - each DMA request goes to the device as it is; the device's policy clusters. A whole
 *       scatterlist is one doorbell.
 *   2 - the seed module's behaviour: the module clusters requests into 2^window_shift windows
 *       itself (reference counted by (base, size)), one map entry per doorbell.
 *
 * Every map and unmap path runs under one spinlock with interrupts off and never sleeps: the DMA
 * API calls in from any context (NVMe completes, and unmaps, in hard-IRQ context), and the
 * doorbell is one synchronous MMIO write. Layouts: passthrough/qemu/INTERFACE.md in dartlab.
 */
#ifndef DARTLAB_GUEST_APPLE_DMA_H
#define DARTLAB_GUEST_APPLE_DMA_H

#include <linux/dma-map-ops.h>
#include <linux/hashtable.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#define ADMA_DRV_NAME "apple_dma"

/* BAR0 registers (32-bit, little-endian, 4-byte accesses). */
#define ADMA_REG_VERSION 0x00
#define ADMA_REG_MANAGED_BDF 0x04
#define ADMA_REG_MAX_ENTRIES 0x08
#define ADMA_REG_STATUS 0x0c
#define ADMA_REG_CMD_GPA_LO 0x10
#define ADMA_REG_CMD_GPA_HI 0x14
#define ADMA_REG_DOORBELL 0x18
#define ADMA_REG_LAST_ERROR_REASON 0x1c /* dartlab's device (interface 3) only */
#define ADMA_STATS_BASE 0x100		/* dartlab's device only: 64-bit counters */
#define ADMA_STATS_COUNT 30

/* Statistics window indices the module reads (dartlab's device). */
#define ADMA_STAT_LIVE_MAPPINGS 0
#define ADMA_STAT_APERTURE_BYTES 17

/* Command types. */
#define ADMA_CMD_MAP 1	   /* interface 2: map a guest range as given */
#define ADMA_CMD_UNMAP 2   /* interface 2: unmap by id */
#define ADMA_CMD_MAP_REQ 3 /* interface 3: raw request, the device's policy decides */
#define ADMA_CMD_UNMAP_REQ 4

/* Statuses. */
#define ADMA_STATUS_OK 0
#define ADMA_STATUS_IO_ERROR 1
#define ADMA_STATUS_INVALID 3

/* Refusal reasons: the device's (LAST_ERROR_REASON, interface 3 responses), then the module's own. */
enum adma_reason {
	ADMA_REASON_NONE = 0,
	ADMA_REASON_INVALID = 1,     /* the device called the request invalid */
	ADMA_REASON_SLOTS = 2,	     /* the host's mapping table is full */
	ADMA_REASON_APERTURE = 3,    /* not enough free bus-address bytes */
	ADMA_REASON_FRAGMENTED = 4,  /* enough bytes, no contiguous run */
	ADMA_REASON_STILL_OPEN = 5,  /* interface 2 (RFC): the gpa is already registered */
	ADMA_REASON_NOT_FOUND = 6,   /* interface 2 (RFC): no registration with that id */
	ADMA_REASON_POOL = 7,	     /* the device's bounce pool is full */
	ADMA_REASON_CAP = 8,	     /* the device's cap on live host mappings: try again after an unmap */
	ADMA_REASON_TRUNCATED = 9,   /* longer than the host's chunk */
	ADMA_DEVICE_REASONS = 10,    /* reasons from here on are the module's */
	ADMA_REASON_IO = 10,	     /* status 1 with no reason told (the seed's device) */
	ADMA_REASON_SHORT = 11,	     /* interface 2: dma_len shorter than asked */
	ADMA_REASON_MASK = 12,	     /* bus address beyond the managed device's DMA mask */
	ADMA_REASON_NOMEM = 13,	     /* no memory for the module's own bookkeeping */
	ADMA_REASON_BAD_REQUEST = 14, /* the caller's request makes no sense (length 0, wraps, too long) */
	ADMA_REASON_COUNT
};

/* The command page (32 bytes), the first thing the device reads at each doorbell. */
struct adma_cmd {
	__le32 type;
	__le32 count;
	__le32 status;
	__le32 reserved;
	__le64 req_gpa;
	__le64 resp_gpa;
} __packed;

/* Interface 2 entries. */
struct adma_v2_map_req {
	__le64 gpa;
	__le32 len;
	__le32 flags;
} __packed;
struct adma_v2_map_resp {
	__le64 id;
	__le64 dma_addr;
	__le32 dma_len;
	__le32 status;
} __packed;
struct adma_v2_unmap_req {
	__le64 id;
	__le64 size;
} __packed;
struct adma_v2_unmap_resp {
	__le64 id;
	__le32 status;
	__le32 reserved;
} __packed;

/* Interface 3 entries. */
struct adma_v3_map_req {
	__le64 gpa;
	__le64 len;
	__le32 dir;
	__le32 reserved;
} __packed;
struct adma_v3_map_resp {
	__le64 handle;
	__le64 dma_addr;
	__le32 status;
	__le32 reason;
} __packed;
struct adma_v3_unmap_req {
	__le64 handle;
	__le64 len;
} __packed;
struct adma_v3_unmap_resp {
	__le64 handle;
	__le32 status;
	__le32 reason;
} __packed;

/* Largest entry of any kind: the request and response arrays are sized in these. */
#define ADMA_ENTRY_BYTES 24

/* Interface 2: one host mapping the module made (a window or a direct range), by (base, size). */
struct adma_window {
	struct hlist_node node;
	u64 base;
	u64 size;
	u64 id;	      /* what the device returned: our device a handle, the seed's device the gpa */
	u64 dma_addr; /* bus address of base */
	u32 refs;
};

/* One live DMA request (a map_page, one sg segment, one allocation), by the address handed out. */
struct adma_request {
	struct hlist_node node;
	dma_addr_t dma_addr; /* what the caller got (a test hook may have moved it) */
	u64 gpa;
	u64 len;
	u64 id;	   /* dartlab trace id of this request */
	u64 group; /* id of the first segment of its scatterlist (= id when alone) */
	union {
		u64 handle;		   /* interface 3 */
		struct adma_window *window; /* interface 2 */
	};
	struct adma_request *run_next; /* order of a scatterlist's segments while it is mapped */
	u8 dir;
	u8 kind;    /* ADMA_KIND_* */
	u8 outcome; /* while a scatterlist is mapped: ADMA_REASON_NONE or why the segment failed */
};

enum adma_kind { ADMA_KIND_PAGE, ADMA_KIND_SG, ADMA_KIND_ALLOC };

/* Trace ring records: what the debugfs `trace` (the seed's CSV) and `trace.dartlab` show. */
enum adma_op {
	ADMA_OP_MAP = 'M',   /* map_page, alloc, alloc_pages */
	ADMA_OP_SG = 'S',    /* one sg segment mapped */
	ADMA_OP_UNMAP = 'U', /* unmap_page */
	ADMA_OP_SG_UNMAP = 'T',
	ADMA_OP_FREE = 'F',
};
#define ADMA_REC_FAILED 0x01   /* a refused map: no CSV row (as the seed), but a dartlab event */
#define ADMA_REC_ROLLBACK 0x02 /* a segment released because its scatterlist failed: no CSV row */
#define ADMA_REC_FIRST 0x04    /* first segment of a map_sg / unmap_sg call */
#define ADMA_REC_SPLIT 0x08    /* part of an interface 3 scatterlist that failed: one event per segment */
#define ADMA_REC_ALLOC 0x10    /* M/F of an allocation (alloc/free in the dartlab view) */

struct adma_rec {
	u64 ts_ns;
	u64 gpa;
	u64 len;
	u64 id;
	u64 active_bytes;
	u32 active_maps;
	u8 op;
	u8 dir;
	u8 flags;
	u8 nsegs_hint; /* unused, keeps the record 48 bytes */
};

struct adma_ring {
	struct adma_rec *recs;
	u64 mask;
	u64 head; /* records ever written; the oldest kept is max(0, head - mask - 1) */
	u64 reset_at; /* `reset` hides what came before */
};

struct adma_stats {
	u64 live_requests, live_bytes, peak_requests, peak_bytes;
	u64 live_allocs; /* of the live requests, coherent allocations (the driver's queues, pools) */
	u64 host_live, host_peak; /* interface 2: the module's windows; interface 3: from the device */
	u64 maps, sg_maps, sg_segments, allocs, unmaps, sg_unmaps, frees;
	u64 refused[ADMA_REASON_COUNT];
	u64 refused_maps; /* map calls that returned an error to the driver */
	u64 rollbacks;	  /* segments released again because their scatterlist failed */
	u64 unknown_unmaps, size_mismatches, unmap_errors;
	u64 doorbells;
	u64 faults_injected;
	u64 host_map_calls, host_unmap_calls; /* interface 2: windows mapped and unmapped */
};

struct adma {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct pci_dev *managed;
	const struct dma_map_ops *orig_ops;
	u32 version;
	u32 iface;
	u32 max_entries;
	u32 batch_entries; /* entries the arrays hold: min(max_entries, ADMA_BATCH_MAX) */
	u32 window_shift;
	bool refusal_fails; /* refusal=fail: a host refusal of a scatterlist is final (-EREMOTEIO) */
	u64 aperture_bytes; /* from the statistics window, for the fault-injection hook; 0 unknown */
	bool dartlab_device; /* the device has dartlab's registers (LAST_ERROR_REASON, statistics) */

	spinlock_t lock; /* everything below, and the doorbell */
	struct adma_cmd *cmd;
	void *req;
	void *resp;
	u64 next_id;
	DECLARE_HASHTABLE(requests, 14);
	DECLARE_HASHTABLE(windows, 12);
	struct adma_stats stats;
	struct adma_ring ring;

	struct kmem_cache *request_cache;
	struct kmem_cache *window_cache;
	struct dentry *debugfs;
};

/* Most entries one doorbell carries from this module (a scatterlist longer than this takes
 * several): 4096, the device's default MAX_ENTRIES, so one NVMe request (at most a few hundred
 * segments) is always one doorbell. */
#define ADMA_BATCH_MAX 4096u

extern struct adma *adma_dev; /* the one instance (one managed device per module, as the seed) */
extern bool adma_fault_inject;

/* apple_dma_wire.c: doorbells. Called with adma->lock held. */
u32 adma_doorbell(struct adma *a, u32 type, u32 count);
u64 adma_read_stat(struct adma *a, unsigned int index);
u8 adma_device_reason(u32 reason);

/* apple_dma_track.c: requests and interface 2 windows. Called with adma->lock held. */
void adma_track_init(struct adma *a);
struct adma_request *adma_request_find(struct adma *a, dma_addr_t dma_addr, u64 len);
void adma_request_insert(struct adma *a, struct adma_request *r);
void adma_request_remove(struct adma *a, struct adma_request *r);
int adma_v2_map(struct adma *a, struct adma_request *r, u8 *reason);
void adma_v2_unmap(struct adma *a, struct adma_request *r);
u64 adma_window_size_for(u32 window_shift, u64 gpa, u64 len, u64 *base);
void adma_release_all(struct adma *a);

/* apple_dma_ops.c */
extern const struct dma_map_ops adma_dma_ops;
const char *adma_reason_name(unsigned int reason);

/* apple_dma_trace.c */
int adma_trace_init(struct adma *a, unsigned int entries);
void adma_trace_free(struct adma *a);
void adma_trace(struct adma *a, u8 op, u8 flags, const struct adma_request *r);
void adma_debugfs_init(struct adma *a);

#endif /* DARTLAB_GUEST_APPLE_DMA_H */
