/* SPDX-License-Identifier: MIT */
/* The functional DART for the QEMU device, as a C API (C11 and C++). No call throws or aborts
 * on bad input: errors come back as DL_DART_* codes. One DlDart is not thread-safe. */
#ifndef DARTLAB_DART_H
#define DARTLAB_DART_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct DlDart DlDart;

/* Results of dl_dart_map / dl_dart_unmap; the map refusals follow the DART's check order. The
 * host's own name of each (its IOKit return code) is in docs/REAL-SYSTEM.md, "The host's answers". */
enum {
  DL_DART_OK = 0,
  DL_DART_INVALID = 1,    /* zero length, wrapping range, bad direction; unmap: unknown handle
                             (the host's not found) */
  DL_DART_SLOTS = 2,      /* the mapping table is full, or a region of too many chunks */
  DL_DART_APERTURE = 3,   /* fewer free bus-address bytes than asked */
  DL_DART_FRAGMENTED = 4, /* enough free bytes, no contiguous run */
  DL_DART_ERROR = 5,      /* null argument or internal error */
  DL_DART_DUPLICATE = 6,  /* duplicate=refuse: a live mapping was registered at this pa */
  DL_DART_TRUNCATED = 7   /* dl_dart_map only: longer than a chunk (the host would answer its first) */
};

/* Directions for dl_dart_map (Linux dma_data_direction order). */
enum { DL_DART_BIDIRECTIONAL = 0, DL_DART_TO_DEVICE = 1, DL_DART_FROM_DEVICE = 2 };

/* Fault codes from dl_dart_translate; 0 = no fault. */
enum {
  DL_DART_FAULT_NONE = 0,
  DL_DART_FAULT_NO_TTBR = 1,   /* outside the aperture or the input space */
  DL_DART_FAULT_NO_L1 = 2,     /* an intermediate table entry is invalid */
  DL_DART_FAULT_NO_PTE = 3,    /* the leaf entry is invalid */
  DL_DART_FAULT_READ_PROT = 4, /* device read of a device-write-only page */
  DL_DART_FAULT_WRITE_PROT = 5 /* device write of a device-read-only page */
};

typedef struct DlDartStats {
  uint64_t live_mappings;
  uint64_t mapped_bytes;
  uint64_t free_bytes;
  uint64_t largest_free_bytes;
  uint64_t aperture_bytes;
  uint64_t slot_capacity; /* 0 = unlimited */
  uint64_t tables_live;
  uint64_t map_calls;
  uint64_t unmap_calls;
  uint64_t failures[4];       /* indexed by DL_DART_INVALID - 1 .. DL_DART_FRAGMENTED - 1 */
  uint64_t faults_by_code[5]; /* indexed by DL_DART_FAULT_NO_TTBR - 1 .. DL_DART_FAULT_WRITE_PROT - 1 */
} DlDartStats;

/* spec: a DART spec string ("" or NULL = defaults), e.g. "aperture=1536M,slots=65536,alloc=linux"
 * (alloc=first-fit, best-fit, buddy or linux; the host's rules chunk=SIZE|unlimited and
 * duplicate=share|refuse: see dart_config.hpp).
 * On failure returns NULL and writes a NUL-terminated reason into err (if err && errlen). */
DlDart *dl_dart_create(const char *spec, char *err, size_t errlen);
void dl_dart_destroy(DlDart *dart);

/* Maps [pa, pa + len) rounded out to DART pages, all of it or nothing; *bus_addr is the bus
 * address of pa itself. A range longer than the host's chunk is refused (DL_DART_TRUNCATED). */
int dl_dart_map(DlDart *dart, uint64_t pa, uint64_t len, int dir, uint64_t *bus_addr, uint64_t *handle);
/* The host service's own answer, as the real one gives it: a range longer than a chunk is mapped
 * cut to its first chunk and DL_DART_OK returned; *mapped_len says how much of [pa, pa + len) is
 * mapped (len when whole). The mapping is live either way: unmap it by *handle. */
int dl_dart_map_region(DlDart *dart, uint64_t pa, uint64_t len, int dir, uint64_t *bus_addr, uint64_t *mapped_len,
                       uint64_t *handle);
int dl_dart_unmap(DlDart *dart, uint64_t handle);

/* Returns 0 and writes *pa on a hit; else returns 1 and writes *fault_code (DL_DART_FAULT_*),
 * latching the fault in the error register. Either out pointer may be NULL. */
int dl_dart_translate(DlDart *dart, uint64_t bus_addr, int is_write, uint64_t *pa, int *fault_code);

/* The error register: 0 if no fault is latched, else the first fault's code and address. */
int dl_dart_last_fault(const DlDart *dart, uint64_t *bus_addr);
void dl_dart_clear_fault(DlDart *dart);

void dl_dart_stats(const DlDart *dart, DlDartStats *out);
/* Releases every mapping and forgets every registered pa (a device reset). */
void dl_dart_reset(DlDart *dart);

#ifdef __cplusplus
}
#endif

#endif /* DARTLAB_DART_H */
