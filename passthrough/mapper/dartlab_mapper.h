/* SPDX-License-Identifier: MIT */
/*
 * dartlab mapper, C API for the QEMU apple-dma-pci device.
 *
 * The same clustering policies that `dartlab replay` evaluates offline, behind a small C
 * interface. The host mapping service is reached through DlBackendOps, supplied by the caller
 * (the emulated DART's C API, passthrough/backends/dartlab_dart.h, or a real host service).
 * No function throws, aborts or keeps a pointer to caller memory past the call, except `opaque`.
 */
#ifndef DARTLAB_MAPPER_H
#define DARTLAB_MAPPER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct DlMapper DlMapper;

/* Results of map/unmap. Values are stable: they may be reported to guests. */
typedef enum DlMapStatus {
    DL_MAP_OK = 0,
    DL_MAP_INVALID = 1,    /* malformed request, or unmap of something not mapped */
    DL_MAP_SLOTS = 2,      /* host mapping table full */
    DL_MAP_APERTURE = 3,   /* not enough free bus-address bytes */
    DL_MAP_FRAGMENTED = 4, /* enough free bytes, no contiguous range */
    DL_MAP_DUPLICATE = 5,  /* the host holds a mapping registered at this gpa (its duplicate=refuse) */
    DL_MAP_TRUNCATED = 6,  /* the host mapped less than asked; the mapper undid it */
    /* 7..15: left for more of the host's refusals. */
    DL_MAP_POOL = 16,      /* bounce: no free run in the pool holds the request */
    DL_MAP_CAP = 17,       /* cap: the live host mappings are at the policy's cap; nothing was mapped:
                            * a guest should try again after one of its releases */
} DlMapStatus;

typedef enum DlDirection {
    DL_DIR_BIDIRECTIONAL = 0,
    DL_DIR_TO_DEVICE = 1,
    DL_DIR_FROM_DEVICE = 2,
} DlDirection;

typedef struct DlBackendOps {
    /* Map [gpa, gpa+len) as one contiguous bus range, all of it, or refuse; return a DlMapStatus. */
    int (*map)(void *opaque, uint64_t gpa, uint64_t len, int dir, uint64_t *bus_addr, uint64_t *handle);
    /* Release a mapping; return 0, or non-zero when the handle is not live. */
    int (*unmap)(void *opaque, uint64_t handle);
    /* Optional (may be NULL): how full the host is, for the lazy and adaptive policies. A limit
     * of 0 means unknown or unlimited. */
    void (*pressure)(void *opaque, uint64_t *slots_used, uint64_t *slots_limit, uint64_t *bytes_used,
                     uint64_t *bytes_limit);
} DlBackendOps;

typedef struct DlMapperStats {
    uint64_t live_mappings, peak_mappings;
    uint64_t mapped_bytes, peak_mapped_bytes;
    uint64_t live_requests, requested_bytes, peak_requested_bytes;
    uint64_t map_requests, shared_hits, host_map_calls, host_unmap_calls;
    uint64_t failed_maps;
    uint64_t failures_invalid, failures_slots, failures_aperture, failures_fragmented;
    uint64_t reuse_hits, cached_mappings, cached_bytes, evictions; /* lazy */
    uint64_t promotions;                                          /* multi */
    uint64_t adaptations, window_bytes_now;                        /* adaptive */
    uint64_t failures_pool, pool_bytes_taken, peak_pool_bytes_taken; /* bounce */
    uint64_t cap_refusals; /* cap: maps refused with DL_MAP_CAP (not in map_requests or failed_maps) */
    uint64_t failures_duplicate, failures_truncated;
} DlMapperStats;

/* Creates a mapper for a policy spec ("direct", "window:256K", "lazy:multi:64K,1M,keep=512",
 * "bounce:64M,at=0x...", "cap:window:128K,windows=5600", ...). On error returns NULL and writes a
 * message naming the problem into err (if err is not NULL). */
DlMapper *dl_mapper_create(const char *policy_spec, const DlBackendOps *ops, void *opaque, char *err,
                           size_t errlen);
void dl_mapper_destroy(DlMapper *m);

/* Maps one request. On DL_MAP_OK fills dma_addr and a handle naming this request (not the
 * host mapping it shares), for dl_mapper_unmap_handle. DL_MAP_CAP (cap policies) changes nothing:
 * the same request may be asked again once something is released. */
int dl_mapper_map(DlMapper *m, uint64_t gpa, uint64_t len, int dir, uint64_t *dma_addr, uint64_t *handle);
/* Releases one request by handle, or by DMA address (as dma_unmap_page does). Either must name a
 * live request of exactly len bytes, else DL_MAP_INVALID and nothing changes: a released handle,
 * a stale one and a wrong length are all refused. */
int dl_mapper_unmap_handle(DlMapper *m, uint64_t handle, uint64_t len);
int dl_mapper_unmap(DlMapper *m, uint64_t dma_addr, uint64_t len);
/* Releases every host mapping (device or guest reset). */
void dl_mapper_release_all(DlMapper *m);

void dl_mapper_stats(const DlMapper *m, DlMapperStats *out);
/* Canonical spec of the mapper's policy; valid as long as the mapper. */
const char *dl_mapper_policy(const DlMapper *m);
/* "ok", "invalid", "slots", "aperture", "fragmented", "duplicate", "truncated", "pool", "cap". */
const char *dl_map_status_name(int status);

/* Bounce policies. The pool is [gpa, gpa + bytes) of guest-physical memory (the spec's at= and
 * size); the mapper maps it through the backend once, at the first request, and keeps it until
 * release_all. The device must back it with memory the guest's own allocations never use (what a
 * restricted-dma-pool is). Returns DL_MAP_OK, or DL_MAP_INVALID when the policy does not bounce. */
int dl_mapper_bounce_pool(const DlMapper *m, uint64_t *gpa, uint64_t *bytes);

/* Under bounce, a request's DMA address reaches its slot in the pool, not its own memory, and the
 * device moves the bytes as swiotlb does: after a map whose dir is not DL_DIR_FROM_DEVICE it
 * copies [gpa, gpa + len) to slot_gpa; before the unmap of one whose dir is not
 * DL_DIR_TO_DEVICE it copies slot_gpa back to gpa. Fills `out` for a live request's handle;
 * DL_MAP_INVALID when the handle names no live request or the policy does not bounce. */
typedef struct DlBounceSlot {
    uint64_t gpa, len; /* the request as mapped */
    uint64_t slot_gpa; /* where its bytes sit in the pool */
    int dir;           /* DlDirection of the map */
} DlBounceSlot;
int dl_mapper_bounce_slot(const DlMapper *m, uint64_t handle, DlBounceSlot *out);

#ifdef __cplusplus
}
#endif

#endif /* DARTLAB_MAPPER_H */
