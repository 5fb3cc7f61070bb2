/* SPDX-License-Identifier: MIT */
/*
 * apple-dma-pci device logic, C API for the QEMU glue (passthrough/qemu/hw/apple-dma/).
 *
 * dartlab's one C boundary: the glue is C, everything behind this header is C++ (the device core
 * holds the mapper and the DART as C++ objects). The whole device except QEMU's plumbing: the BAR0
 * register file (interface 2 layout, the interface 3 commands, a read-only statistics window),
 * command-page decoding with every hostile case checked, the mapper (policies) and the functional
 * DART behind it. Guest memory, guest-error logging, trace events and the host mappings made and
 * released are callbacks (AdmaHostOps), so the same code runs under QEMU, in the Catch2 tests and
 * under libFuzzer. Layouts: passthrough/qemu/INTERFACE.md. The numbers below are checked against
 * dartlab's own enums at compile time (core/c_api.cpp).
 * No call throws or aborts on guest input. One AdmaDevice is not thread-safe (QEMU calls it
 * under the big lock).
 */
#ifndef DARTLAB_APPLE_DMA_H
#define DARTLAB_APPLE_DMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ADMA_BAR0_SIZE 4096u
/* Most entries per doorbell unless the max-entries property says otherwise (BACKGROUND.md:
 * "MAX_ENTRIES ... default 4096", observed in the RFC device). */
#define ADMA_DEFAULT_MAX_ENTRIES 4096u
/* Upper bound of the max-entries property: 64 Ki entries of 24 B is 1.5 MiB of guest buffer per
 * doorbell, already far past any batch the guest module sends (a guess at "plenty"). */
#define ADMA_MAX_MAX_ENTRIES 65536u

/* BAR0 registers, 32-bit little-endian, accessed with 4-byte aligned accesses only. */
enum {
  ADMA_REG_VERSION = 0x00,           /* R: interface version, 2 or 3 */
  ADMA_REG_MANAGED_BDF = 0x04,       /* R: managed device, bus << 8 | devfn */
  ADMA_REG_MAX_ENTRIES = 0x08,       /* R: most entries per command */
  ADMA_REG_STATUS = 0x0C,            /* R: status of the last doorbell (ADMA_STATUS_*) */
  ADMA_REG_CMD_GPA_LO = 0x10,        /* RW: command page guest-physical address, low half */
  ADMA_REG_CMD_GPA_HI = 0x14,        /* RW: high half */
  ADMA_REG_DOORBELL = 0x18,          /* W: any write runs the command synchronously */
  ADMA_REG_LAST_ERROR_REASON = 0x1C, /* R: reason of the last failed entry (ADMA_REASON_*) */
  ADMA_REG_INVALID_CAUSE = 0x20,     /* R: why the last invalid status was given (ADMA_CAUSE_*) */
  ADMA_REG_FAULT_STATUS = 0x24,      /* R: DART error register: first latched fault code, 0 none;
                                        W: any value clears the latch */
  ADMA_REG_FAULT_ADDR_LO = 0x28,     /* R: bus address of the latched fault, low half */
  ADMA_REG_FAULT_ADDR_HI = 0x2C,     /* R: high half */
  ADMA_REG_LAST = 0x30               /* first offset past the control registers */
};

/* The statistics window: read-only 64-bit counters at ADMA_STATS_BASE + 8 * index, read as one
 * 8-byte access or two 4-byte ones (low half first in memory). Reset by a device reset. */
#define ADMA_STATS_BASE 0x100u
enum {
  ADMA_STAT_LIVE_MAPPINGS = 0,      /* host (DART) mappings live */
  ADMA_STAT_MAPPED_BYTES = 1,       /* bytes those mappings cover */
  ADMA_STAT_LIVE_REQUESTS = 2,      /* ids (interface 2) and handles (interface 3) live */
  ADMA_STAT_REQUESTED_BYTES = 3,    /* bytes those requests asked for */
  ADMA_STAT_PEAK_MAPPINGS = 4,      /* most host mappings live at once since reset */
  ADMA_STAT_MAP_ENTRIES = 5,        /* map entries processed (any status) */
  ADMA_STAT_UNMAP_ENTRIES = 6,      /* unmap entries processed (any status) */
  ADMA_STAT_FAIL_INVALID = 7,       /* entries refused as invalid */
  ADMA_STAT_FAIL_SLOTS = 8,         /* maps refused: DART mapping table full */
  ADMA_STAT_FAIL_APERTURE = 9,      /* maps refused: not enough free bus-address bytes */
  ADMA_STAT_FAIL_FRAGMENTED = 10,   /* maps refused: enough bytes, no contiguous range */
  ADMA_STAT_DART_FAULTS = 11,       /* managed-device accesses the DART refused */
  ADMA_STAT_LAST_FAULT_CODE = 12,   /* code of the most recent fault (ADMA_FAULT_*) */
  ADMA_STAT_LAST_FAULT_ADDR = 13,   /* its bus address */
  ADMA_STAT_DOORBELLS = 14,         /* doorbell writes */
  ADMA_STAT_INVALID_COMMANDS = 15,  /* doorbells or register accesses answered ADMA_STATUS_INVALID */
  ADMA_STAT_SLOT_CAPACITY = 16,     /* DART mapping slots, 0 = unlimited */
  ADMA_STAT_APERTURE_BYTES = 17,    /* DART aperture size */
  ADMA_STAT_FREE_BYTES = 18,        /* free aperture bytes */
  ADMA_STAT_LARGEST_FREE_BYTES = 19,/* largest free contiguous aperture run */
  ADMA_STAT_GUEST_ERRORS = 20,      /* guest errors logged */
  ADMA_STAT_HOST_MAP_CALLS = 21,    /* host (DART) mappings made */
  ADMA_STAT_HOST_UNMAP_CALLS = 22,  /* host (DART) mappings released */
  ADMA_STAT_PEAK_MAPPED_BYTES = 23, /* most bytes the host mappings covered at once */
  ADMA_STAT_FAIL_STILL_OPEN = 24,   /* compat=rfc maps refused: the gpa is already registered */
  ADMA_STAT_FAIL_NOT_FOUND = 25,    /* compat=rfc unmaps refused: no such id */
  ADMA_STAT_FAIL_POOL = 26,         /* bounce policies: no free run in the pool holds the request */
  ADMA_STAT_FAIL_CAP = 27,          /* cap policies: at the cap of live host mappings, try again */
  ADMA_STAT_BOUNCE_BYTES = 28,      /* bounce policies: bytes copied to and from the pool */
  ADMA_STAT_FAIL_TRUNCATED = 29,    /* maps refused: longer than the host's chunk (strict and interface 3) */
  ADMA_STAT_COUNT = 30
};

/* Command types (first word of the command page). 1 and 2: interface 2; 3 and 4: interface 3. */
enum {
  ADMA_CMD_MAP = 1,       /* interface 2: map guest ranges as given (policy direct) */
  ADMA_CMD_UNMAP = 2,     /* interface 2: unmap by id */
  ADMA_CMD_MAP_REQ = 3,   /* interface 3: raw DMA requests through the device's policy */
  ADMA_CMD_UNMAP_REQ = 4  /* interface 3: release requests by handle */
};

/* Statuses in STATUS, the command page and each response entry (the RFC's codes). */
enum { ADMA_STATUS_OK = 0, ADMA_STATUS_IO_ERROR = 1, ADMA_STATUS_INVALID = 3 };

/* Reasons, shown in LAST_ERROR_REASON and v3 responses: the mapper's refusals (dartlab::MapError;
 * the DART's four are MapError + 1, in its order), compat=rfc's interface 2 ones (the host
 * service's kIOReturnStillOpen, also its duplicate=refuse, and kIOReturnNotFound), and the bounce
 * and cap policies'. Guests see these numbers (passthrough/guest/apple_dma.h): they never move. */
enum {
  ADMA_REASON_NONE = 0,
  ADMA_REASON_INVALID = 1,
  ADMA_REASON_SLOTS = 2,
  ADMA_REASON_APERTURE = 3,
  ADMA_REASON_FRAGMENTED = 4,
  ADMA_REASON_STILL_OPEN = 5, /* a map of a gpa that is already registered */
  ADMA_REASON_NOT_FOUND = 6,  /* an unmap of an id that is not */
  ADMA_REASON_POOL = 7,       /* bounce: the pool has no free run that holds the request */
  ADMA_REASON_CAP = 8,        /* cap: the live host mappings are at the cap; nothing was mapped:
                                 send it again after one of your unmaps */
  ADMA_REASON_TRUNCATED = 9   /* the host would map only its first chunk (the DART's chunk=) */
};

/* Directions of interface 3 map entries and of the trace hooks (Linux dma_data_direction). */
enum { ADMA_DIR_BIDIRECTIONAL = 0, ADMA_DIR_TO_DEVICE = 1, ADMA_DIR_FROM_DEVICE = 2 };

/* DART fault codes (FAULT_STATUS, adma_translate); 0 = no fault. */
enum {
  ADMA_FAULT_NONE = 0,
  ADMA_FAULT_NO_TTBR = 1,   /* outside the aperture or the input space */
  ADMA_FAULT_NO_L1 = 2,     /* an intermediate table entry is invalid */
  ADMA_FAULT_NO_PTE = 3,    /* the leaf entry is invalid */
  ADMA_FAULT_READ_PROT = 4, /* device read of a device-write-only page */
  ADMA_FAULT_WRITE_PROT = 5 /* device write of a device-read-only page */
};

/* What a host mapping lets the managed device do (AdmaHostOps.host_map), as bits. */
enum { ADMA_PERM_READ = 1, ADMA_PERM_WRITE = 2 };

/* How interface 2 commands and the register file behave (AdmaConfig.compat).
 * RFC: exactly as the RFC device the seed guest module drives: id = the gpa, unmap size, flags
 * and reserved ignored, a duplicate gpa or an unknown id is status 1, a region longer than the
 * host's chunk comes back cut (dma_len < len, status 0), offsets without a register read 0 and
 * ignore writes. STRICT: dartlab's checked interface 2 (handles, lengths checked, status 3 for
 * the guest's mistakes). Interface 3 commands are the same under both. */
enum { ADMA_COMPAT_DEFAULT = 0, ADMA_COMPAT_STRICT = 1, ADMA_COMPAT_RFC = 2 };
/* Whether a device (or guest) reset releases every mapping (AdmaConfig.reset_releases). The RFC
 * device has no reset handler: its host mappings live until QEMU exits. */
enum { ADMA_RESET_DEFAULT = 0, ADMA_RESET_RELEASE = 1, ADMA_RESET_KEEP = 2 };

/* Why the last ADMA_STATUS_INVALID was given (INVALID_CAUSE register). */
enum {
  ADMA_CAUSE_NONE = 0,
  ADMA_CAUSE_NO_COMMAND_PAGE = 1,  /* doorbell before CMD_GPA was written */
  ADMA_CAUSE_COMMAND_NOT_RAM = 2,  /* the 32-byte command page is not wholly guest RAM */
  ADMA_CAUSE_BAD_TYPE = 3,         /* unknown type, or an interface 3 type on interface 2 */
  ADMA_CAUSE_COUNT_ZERO = 4,
  ADMA_CAUSE_COUNT_TOO_LARGE = 5,  /* count > MAX_ENTRIES */
  ADMA_CAUSE_REQUEST_NOT_RAM = 6,  /* request array not wholly guest RAM, or wraps */
  ADMA_CAUSE_RESPONSE_NOT_RAM = 7, /* response array not wholly guest RAM, or wraps */
  ADMA_CAUSE_OVERLAP = 8,          /* request/response arrays overlap each other or the command page */
  ADMA_CAUSE_ZERO_LENGTH = 9,      /* a map entry of length 0 */
  ADMA_CAUSE_RANGE_OVERFLOW = 10,  /* gpa + len wraps past 2^64 */
  ADMA_CAUSE_GPA_NOT_RAM = 11,     /* a map entry's range is not wholly guest RAM */
  ADMA_CAUSE_BAD_FLAGS = 12,       /* unknown direction or reserved bits set */
  ADMA_CAUSE_UNKNOWN_HANDLE = 13,  /* unmap of an id/handle not live, or of the wrong length */
  ADMA_CAUSE_BAD_ACCESS = 14,      /* register access of a wrong size or alignment */
  ADMA_CAUSE_READ_ONLY = 15,       /* write to a read-only register or the stats window */
  ADMA_CAUSE_NO_REGISTER = 16,     /* access to an offset with no register */
  ADMA_CAUSE_RESERVED_NONZERO = 17, /* the command page's reserved word is not 0 */
  ADMA_CAUSE_REFUSED = 18          /* the mapper or the DART refused the request as invalid */
};

typedef struct AdmaHostOps {
  /* Copy guest-physical memory; return 0 on success, non-zero when any byte of the range is not
   * guest RAM (nothing else: the device must never reach MMIO, its own BAR included). */
  int (*read)(void *opaque, uint64_t gpa, void *buf, uint64_t len);
  int (*write)(void *opaque, uint64_t gpa, const void *buf, uint64_t len);
  /* 1 when [gpa, gpa+len) is wholly guest RAM (len > 0, no wrap checked by the caller). */
  int (*is_ram)(void *opaque, uint64_t gpa, uint64_t len);
  /* A guest error, one line without newline (QEMU: qemu_log_mask(LOG_GUEST_ERROR)). */
  void (*guest_error)(void *opaque, const char *msg);
  /* Trace hooks; dir is ADMA_DIR_*, status ADMA_STATUS_*. Any may be NULL. */
  void (*trace_map)(void *opaque, uint64_t gpa, uint64_t len, int dir, uint64_t dma_addr, uint64_t handle,
                    int status);
  void (*trace_unmap)(void *opaque, uint64_t handle, uint64_t len, int status);
  void (*trace_reset)(void *opaque, uint64_t live);
  void (*trace_doorbell)(void *opaque, uint32_t type, uint32_t count, int status);
  /* A host (DART) mapping was made: bus addresses [bus_addr, bus_addr + len) now reach
   * guest-physical [gpa, gpa + len) with perm (ADMA_PERM_* bits). Whole DART pages. (QEMU: IOMMU
   * map notifiers.) May be NULL. */
  void (*host_map)(void *opaque, uint64_t bus_addr, uint64_t len, uint64_t gpa, int perm);
  /* A host mapping went away: translations of [bus_addr, bus_addr + len) cached anywhere must be
   * dropped (QEMU: IOMMU unmap notifiers). May be NULL. */
  void (*host_unmap)(void *opaque, uint64_t bus_addr, uint64_t len);
  /* A reset released every host mapping at once: drop every cached translation. May be NULL. */
  void (*invalidate)(void *opaque);
} AdmaHostOps;

typedef struct AdmaConfig {
  int interface_version; /* 2 or 3 */
  const char *policy;    /* mapper policy spec for interface 3 requests; NULL = "direct" */
  const char *dart;      /* DART spec; NULL or "" = defaults */
  uint32_t max_entries;  /* 1..ADMA_MAX_MAX_ENTRIES; 0 = ADMA_DEFAULT_MAX_ENTRIES */
  int compat;            /* ADMA_COMPAT_*; DEFAULT = RFC under interface 2, STRICT under 3 */
  int reset_releases;    /* ADMA_RESET_*; DEFAULT = RELEASE under strict, KEEP under rfc */
} AdmaConfig;

typedef struct AdmaDevice AdmaDevice;

/* NULL on a bad configuration, with the reason in err. */
AdmaDevice *adma_create(const AdmaConfig *config, const AdmaHostOps *ops, void *opaque, char *err,
                        size_t errlen);
void adma_destroy(AdmaDevice *dev);

/* BAR0 accesses of any size and offset: the device checks them (bad ones: guest error,
 * STATUS = invalid, reads return 0). */
uint64_t adma_mmio_read(AdmaDevice *dev, uint64_t offset, unsigned size);
void adma_mmio_write(AdmaDevice *dev, uint64_t offset, uint64_t value, unsigned size);

/* Releases every mapping, clears registers and counters. */
void adma_reset(AdmaDevice *dev);

/* The MANAGED_BDF register: bus << 8 | devfn, known once the machine is assembled. */
void adma_set_managed_bdf(AdmaDevice *dev, uint32_t bdf);

/* The managed device's access at bus_addr, through the DART page tables. Returns 0 and *pa on a
 * hit; else 1, *fault_code (ADMA_FAULT_*), the fault counted and latched. */
int adma_translate(AdmaDevice *dev, uint64_t bus_addr, int is_write, uint64_t *pa, int *fault_code);

/* One counter of the statistics window (ADMA_STAT_*), 0 for an unknown index. */
uint64_t adma_stat(const AdmaDevice *dev, unsigned index);

/* "bidirectional", "to_device", "from_device" (the names dartlab traces use). */
const char *adma_dir_name(int dir);

#ifdef __cplusplus
}
#endif

#endif /* DARTLAB_APPLE_DMA_H */
