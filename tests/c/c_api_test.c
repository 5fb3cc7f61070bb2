/* SPDX-License-Identifier: MIT */
/*
 * The mapper's and the DART's C APIs wired together in C, the way the QEMU apple-dma-pci device
 * uses them: policy in the mapper, the emulated DART as its backend.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "passthrough/backends/dartlab_dart.h"
#include "passthrough/mapper/dartlab_mapper.h"

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            ++passed;                                                      \
        } else {                                                           \
            ++failed;                                                      \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

/* The backend glue: DART status codes and mapper status codes are kept apart on purpose. */
static int glue_map(void *opaque, uint64_t gpa, uint64_t len, int dir, uint64_t *bus_addr, uint64_t *handle)
{
    switch (dl_dart_map((DlDart *)opaque, gpa, len, dir, bus_addr, handle)) {
    case DL_DART_OK: return DL_MAP_OK;
    case DL_DART_SLOTS: return DL_MAP_SLOTS;
    case DL_DART_APERTURE: return DL_MAP_APERTURE;
    case DL_DART_FRAGMENTED: return DL_MAP_FRAGMENTED;
    case DL_DART_DUPLICATE: return DL_MAP_DUPLICATE;
    case DL_DART_TRUNCATED: return DL_MAP_TRUNCATED;
    default: return DL_MAP_INVALID;
    }
}

static int glue_unmap(void *opaque, uint64_t handle)
{
    return dl_dart_unmap((DlDart *)opaque, handle);
}

static void glue_pressure(void *opaque, uint64_t *slots_used, uint64_t *slots_limit, uint64_t *bytes_used,
                          uint64_t *bytes_limit)
{
    DlDartStats s;
    dl_dart_stats((const DlDart *)opaque, &s);
    *slots_used = s.live_mappings;
    *slots_limit = s.slot_capacity;
    *bytes_used = s.mapped_bytes;
    *bytes_limit = s.aperture_bytes;
}

static const DlBackendOps glue_ops = { glue_map, glue_unmap, glue_pressure };
static const DlBackendOps glue_ops_no_pressure = { glue_map, glue_unmap, NULL };

static void test_window_mapping_translates(void)
{
    char err[256];
    DlDart *dart = dl_dart_create("aperture=64M", err, sizeof(err));
    CHECK(dart != NULL);
    DlMapper *m = dl_mapper_create("window:256K", &glue_ops, dart, err, sizeof(err));
    CHECK(m != NULL);
    CHECK(strcmp(dl_mapper_policy(m), "window:256K") == 0);

    uint64_t dma_a = 0, dma_b = 0, h_a = 0, h_b = 0, pa = 0;
    int fault = 0;
    CHECK(dl_mapper_map(m, 0x40001000, 4096, DL_DIR_TO_DEVICE, &dma_a, &h_a) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x40009000, 4096, DL_DIR_FROM_DEVICE, &dma_b, &h_b) == DL_MAP_OK);
    CHECK(dma_b - dma_a == 0x8000); /* one window: same bus base */
    CHECK(dl_dart_translate(dart, dma_a + 0x10, 0, &pa, &fault) == 0);
    CHECK(pa == 0x40001010);
    CHECK(dl_dart_translate(dart, dma_b, 1, &pa, &fault) == 0);
    CHECK(pa == 0x40009000);

    DlMapperStats ms;
    DlDartStats ds;
    dl_mapper_stats(m, &ms);
    dl_dart_stats(dart, &ds);
    CHECK(ms.live_mappings == 1 && ds.live_mappings == 1);
    CHECK(ms.mapped_bytes == 256 * 1024 && ds.mapped_bytes == 256 * 1024);
    CHECK(ms.live_requests == 2);

    CHECK(dl_mapper_unmap_handle(m, h_a, 4096) == DL_MAP_OK);
    CHECK(dl_mapper_unmap_handle(m, h_a, 4096) != DL_MAP_OK); /* stale handle */
    CHECK(dl_mapper_unmap(m, dma_b, 4096) == DL_MAP_OK);      /* by DMA address */
    dl_dart_stats(dart, &ds);
    CHECK(ds.live_mappings == 0);
    CHECK(dl_dart_translate(dart, dma_a, 0, &pa, &fault) != 0);
    CHECK(fault != DL_DART_FAULT_NONE);

    dl_mapper_destroy(m);
    dl_dart_destroy(dart);
}

static void test_limits_come_back_as_status(void)
{
    char err[256];
    DlDart *dart = dl_dart_create("slots=2", err, sizeof(err));
    DlMapper *m = dl_mapper_create("direct", &glue_ops, dart, err, sizeof(err));
    uint64_t dma, h;
    CHECK(dl_mapper_map(m, 0x10000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x20000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x30000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_SLOTS);
    CHECK(strcmp(dl_map_status_name(DL_MAP_SLOTS), "slots") == 0);
    CHECK(dl_mapper_map(m, 0x30000, 0, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_INVALID);
    CHECK(dl_mapper_map(m, UINT64_MAX - 100, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_INVALID);

    DlMapperStats ms;
    dl_mapper_stats(m, &ms);
    CHECK(ms.failures_slots == 1 && ms.failures_invalid == 2);

    dl_mapper_release_all(m); /* device reset */
    DlDartStats ds;
    dl_dart_stats(dart, &ds);
    CHECK(ds.live_mappings == 0);
    dl_mapper_destroy(m);
    dl_dart_destroy(dart);
}

/* The host's own rules (duplicate=refuse, chunk=) reach the mapper as statuses of their own. */
static void test_host_rules_come_back_as_status(void)
{
    char err[256];
    DlDart *dart = dl_dart_create("duplicate=refuse,chunk=1M", err, sizeof(err));
    DlMapper *m = dl_mapper_create("window:256K", &glue_ops, dart, err, sizeof(err));
    uint64_t dma, h;
    CHECK(dl_mapper_map(m, 0x40001000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x40000000, 512 * 1024, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_DUPLICATE);
    CHECK(dl_mapper_map(m, 0x80000000, 2 * 1024 * 1024, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_TRUNCATED);
    CHECK(strcmp(dl_map_status_name(DL_MAP_DUPLICATE), "duplicate") == 0);
    CHECK(strcmp(dl_map_status_name(DL_MAP_TRUNCATED), "truncated") == 0);
    CHECK(strcmp(dl_map_status_name(DL_MAP_OK), "ok") == 0);
    CHECK(strcmp(dl_map_status_name(DL_MAP_TRUNCATED + 1), "unknown") == 0);
    CHECK(strcmp(dl_map_status_name(-1), "unknown") == 0);

    DlMapperStats ms;
    dl_mapper_stats(m, &ms);
    CHECK(ms.failures_duplicate == 1 && ms.failures_truncated == 1 && ms.failed_maps == 2);
    DlDartStats ds;
    dl_dart_stats(dart, &ds);
    CHECK(ds.live_mappings == 1 && ms.live_mappings == 1);
    dl_mapper_destroy(m);
    dl_dart_destroy(dart);
}

static void test_bad_specs_are_refused_with_a_message(void)
{
    char err[256] = "";
    CHECK(dl_dart_create("slots=lots", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "slots") != NULL);
    err[0] = '\0';
    DlDart *dart = dl_dart_create("", err, sizeof(err));
    CHECK(dl_mapper_create("window:100K", &glue_ops, dart, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "not a power of two") != NULL);
    CHECK(dl_mapper_create("window:256K", NULL, dart, err, sizeof(err)) == NULL);
    CHECK(dl_mapper_create(NULL, &glue_ops, dart, NULL, 0) == NULL); /* no err buffer: still safe */
    CHECK(dl_mapper_map(NULL, 0, 4096, 0, NULL, NULL) == DL_MAP_INVALID);
    dl_mapper_destroy(NULL);
    dl_dart_destroy(dart);
}

/* Lazy keeps released host mappings; with the pressure callback it evicts before the host's
 * slots fill, without it only once the host refuses. */
static void test_lazy_policy_evicts_under_pressure(void)
{
    char err[256];
    int with_pressure;
    for (with_pressure = 0; with_pressure <= 1; ++with_pressure) {
        DlDart *dart = dl_dart_create("aperture=64M,slots=20", err, sizeof(err));
        DlMapper *m = dl_mapper_create("lazy:direct,keep=100", with_pressure ? &glue_ops : &glue_ops_no_pressure,
                                       dart, err, sizeof(err));
        CHECK(m != NULL);
        uint64_t dma = 0, h = 0, page;
        DlMapperStats st;
        for (page = 0; page < 19; ++page) {
            CHECK(dl_mapper_map(m, 0x100000 + page * 0x4000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_OK);
            CHECK(dl_mapper_unmap_handle(m, h, 4096) == DL_MAP_OK);
        }
        dl_mapper_stats(m, &st);
        CHECK(st.cached_mappings == 19 && st.live_mappings == 19 && st.live_requests == 0);
        /* A kept mapping is reused without a host call. */
        CHECK(dl_mapper_map(m, 0x100000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_OK);
        CHECK(dl_mapper_unmap_handle(m, h, 4096) == DL_MAP_OK);
        dl_mapper_stats(m, &st);
        CHECK(st.reuse_hits == 1 && st.host_map_calls == 19);
        /* Two new pages, kept live, on a host with 20 slots and 19 kept mappings. With the pressure
         * callback each evicts one to stay within 95% (19 slots); without it the first fits and
         * the second is refused once, evicts one, and is asked again. */
        CHECK(dl_mapper_map(m, 0x200000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_OK);
        CHECK(dl_mapper_map(m, 0x300000, 4096, DL_DIR_TO_DEVICE, &dma, &h) == DL_MAP_OK);
        dl_mapper_stats(m, &st);
        CHECK(st.evictions == (with_pressure ? 2u : 1u));
        CHECK(st.failed_maps == 0);
        dl_mapper_destroy(m);
        dl_dart_destroy(dart);
    }
}

/* bounce: the device learns the pool, and for each request where its bytes sit in it. */
static void test_bounce_tells_the_device_where_to_copy(void)
{
    char err[256];
    DlDart *dart = dl_dart_create("aperture=64M", err, sizeof(err));
    DlMapper *m = dl_mapper_create("bounce:1M,at=0x80000000", &glue_ops, dart, err, sizeof(err));
    CHECK(m != NULL);
    CHECK(strcmp(dl_mapper_policy(m), "bounce:1M,at=0x80000000") == 0);
    uint64_t gpa = 0, bytes = 0, dma_a = 0, dma_b = 0, h_a = 0, h_b = 0, pa = 0;
    int fault = 0;
    CHECK(dl_mapper_bounce_pool(m, &gpa, &bytes) == DL_MAP_OK);
    CHECK(gpa == 0x80000000u && bytes == 1024 * 1024);
    CHECK(dl_mapper_map(m, 0x40001000, 4096, DL_DIR_TO_DEVICE, &dma_a, &h_a) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x50000000, 100, DL_DIR_FROM_DEVICE, &dma_b, &h_b) == DL_MAP_OK);
    DlBounceSlot slot;
    CHECK(dl_mapper_bounce_slot(m, h_b, &slot) == DL_MAP_OK);
    CHECK(slot.gpa == 0x50000000u && slot.len == 100 && slot.dir == DL_DIR_FROM_DEVICE);
    CHECK(slot.slot_gpa == 0x80000000u + 4096); /* after a's two 2 KiB slots */
    CHECK(dl_dart_translate(dart, dma_b + 10, 1, &pa, &fault) == 0);
    CHECK(pa == slot.slot_gpa + 10); /* the device reaches the slot */
    CHECK(dl_mapper_unmap_handle(m, h_b, 100) == DL_MAP_OK);
    CHECK(dl_mapper_bounce_slot(m, h_b, &slot) == DL_MAP_INVALID); /* released */
    /* Larger than the pool: refused by reason "pool". */
    CHECK(dl_mapper_map(m, 0x60000000, 2 * 1024 * 1024, DL_DIR_TO_DEVICE, &dma_b, &h_b) == DL_MAP_POOL);
    CHECK(strcmp(dl_map_status_name(DL_MAP_POOL), "pool") == 0);
    CHECK(DL_MAP_POOL == 16 && DL_MAP_CAP == 17); /* guests see these numbers: they never move */
    DlMapperStats st;
    dl_mapper_stats(m, &st);
    CHECK(st.failures_pool == 1 && st.pool_bytes_taken == 4096 && st.host_map_calls == 1);
    dl_mapper_destroy(m);

    /* Any other policy has no pool and no slots. */
    m = dl_mapper_create("direct", &glue_ops, dart, err, sizeof(err));
    CHECK(dl_mapper_bounce_pool(m, &gpa, &bytes) == DL_MAP_INVALID);
    CHECK(dl_mapper_map(m, 0x40001000, 4096, DL_DIR_TO_DEVICE, &dma_a, &h_a) == DL_MAP_OK);
    CHECK(dl_mapper_bounce_slot(m, h_a, &slot) == DL_MAP_INVALID);
    dl_mapper_destroy(m);
    dl_dart_destroy(dart);
}

/* cap: past the cap a map is refused as "cap" and changes nothing; a release makes room. */
static void test_cap_refuses_a_map_past_the_cap_until_a_release(void)
{
    char err[256];
    DlDart *dart = dl_dart_create("aperture=64M", err, sizeof(err));
    DlMapper *m = dl_mapper_create("cap:window:64K,windows=1", &glue_ops, dart, err, sizeof(err));
    CHECK(m != NULL);
    uint64_t dma = 0, h_a = 0, h_b = 0, h_c = 0;
    CHECK(dl_mapper_map(m, 0x40000000, 4096, DL_DIR_TO_DEVICE, &dma, &h_a) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x40001000, 4096, DL_DIR_TO_DEVICE, &dma, &h_b) == DL_MAP_OK); /* same window */
    CHECK(dl_mapper_map(m, 0x40100000, 4096, DL_DIR_TO_DEVICE, &dma, &h_c) == DL_MAP_CAP);
    CHECK(h_c == 0); /* nothing handed out */
    CHECK(strcmp(dl_map_status_name(DL_MAP_CAP), "cap") == 0);
    DlMapperStats st;
    dl_mapper_stats(m, &st);
    CHECK(st.cap_refusals == 1 && st.failed_maps == 0 && st.map_requests == 2 && st.live_mappings == 1);
    CHECK(dl_mapper_unmap_handle(m, h_a, 4096) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x40100000, 4096, DL_DIR_TO_DEVICE, &dma, &h_c) == DL_MAP_CAP); /* b holds it */
    CHECK(dl_mapper_unmap_handle(m, h_b, 4096) == DL_MAP_OK);
    CHECK(dl_mapper_map(m, 0x40100000, 4096, DL_DIR_TO_DEVICE, &dma, &h_c) == DL_MAP_OK);
    dl_mapper_destroy(m);
    dl_dart_destroy(dart);
}

int main(void)
{
    test_bounce_tells_the_device_where_to_copy();
    test_cap_refuses_a_map_past_the_cap_until_a_release();
    test_lazy_policy_evicts_under_pressure();
    test_window_mapping_translates();
    test_limits_come_back_as_status();
    test_host_rules_come_back_as_status();
    test_bad_specs_are_refused_with_a_message();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
