/*
 * apple-dma-pci: the DMA mapping device of Apple Silicon PCI passthrough, with an emulated DART.
 *
 * The guest asks this device for DMA mappings of its managed passthrough device (interface 2:
 * guest-clustered ranges; interface 3: raw DMA requests that the device clusters with the
 * dartlab mapper's policy). Mappings live in dartlab's functional DART, whose page tables also
 * translate every DMA of the managed device (an IOMMU memory region on its PCI bus); an access
 * outside a live mapping is a DART fault and fails. Every other device keeps plain memory access.
 *
 * The device logic (registers, command decoding, policies, DART) is dartlab's C++ core,
 * passthrough/qemu/core/apple_dma.h; this file is QEMU's plumbing around it. Register and command
 * layouts: passthrough/qemu/INTERFACE.md in dartlab.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "qom/object.h"
#include "trace.h"

#include "apple_dma.h" /* dartlab passthrough/qemu/core/apple_dma.h, copied beside this file */

#define TYPE_APPLE_DMA_PCI "apple-dma-pci"
#define TYPE_APPLE_DMA_IOMMU_MEMORY_REGION "apple-dma-iommu-memory-region"
OBJECT_DECLARE_SIMPLE_TYPE(AppleDmaState, APPLE_DMA_PCI)

/* PCI identity of the RFC's device (BACKGROUND.md): Red Hat's vendor id, class "system other". */
#define APPLE_DMA_VENDOR_ID 0x1b36
#define APPLE_DMA_DEVICE_ID 0x0015

/*
 * Granule of the translations handed to QEMU: the guest's 4 KiB page. The DART maps 16 KiB
 * pages, but a smaller granule is always exact and keeps a fault address precise.
 */
#define APPLE_DMA_IOMMU_PAGE_MASK 0xfffULL

/*
 * The x86 MSI address window (0xfee00000..0xfeefffff, where a PCI device's MSI/MSI-X writes land
 * on the local APICs; Intel SDM vol. 3, "Message Address Register Format"). Message-signalled
 * interrupts are not DMA: they bypass the DART, as the real DART passes its MSI doorbell page
 * through, and reach the interrupt controller directly. Without this the managed device's
 * interrupts would fault and be lost.
 */
#define APPLE_DMA_MSI_BASE 0xfee00000ULL
#define APPLE_DMA_MSI_SIZE 0x100000ULL

struct AppleDmaState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    /* The managed device's DMA view: root container holding the DART's IOMMU region. */
    MemoryRegion dma_root;
    IOMMUMemoryRegion iommu_mr;
    MemoryRegion msi_window; /* alias of the system's MSI range, above the DART */
    AddressSpace dma_as;

    AdmaDevice *core;
    char bdf[16]; /* the managed device, "0000:BB:DD.F" */

    /* Properties. */
    uint32_t interface_version;
    char *policy;
    char *dart;
    char *managed;
    uint32_t max_entries;
    char *compat;               /* "rfc" or "strict"; unset: rfc under interface 2, strict under 3 */
    OnOffAuto reset_releases;   /* auto: on under strict, off under rfc (the RFC device keeps them) */
};

/* Guest memory for the core: RAM only, never MMIO (a command aimed at this very BAR must not
 * re-enter the device). */
static bool apple_dma_is_ram_range(hwaddr gpa, uint64_t len, bool is_write)
{
    RCU_READ_LOCK_GUARD();
    while (len > 0) {
        hwaddr xlat, chunk = len;
        MemoryRegion *mr = address_space_translate(&address_space_memory, gpa, &xlat, &chunk, is_write,
                                                   MEMTXATTRS_UNSPECIFIED);
        if (!memory_region_is_ram(mr) || memory_region_is_ram_device(mr) || (is_write && mr->readonly) ||
            chunk == 0) {
            return false;
        }
        gpa += chunk;
        len -= chunk;
    }
    return true;
}

static int apple_dma_host_read(void *opaque, uint64_t gpa, void *buf, uint64_t len)
{
    if (!apple_dma_is_ram_range(gpa, len, false)) {
        return 1;
    }
    return address_space_read(&address_space_memory, gpa, MEMTXATTRS_UNSPECIFIED, buf, len) != MEMTX_OK;
}

static int apple_dma_host_write(void *opaque, uint64_t gpa, const void *buf, uint64_t len)
{
    if (!apple_dma_is_ram_range(gpa, len, true)) {
        return 1;
    }
    return address_space_write(&address_space_memory, gpa, MEMTXATTRS_UNSPECIFIED, buf, len) != MEMTX_OK;
}

static int apple_dma_host_is_ram(void *opaque, uint64_t gpa, uint64_t len)
{
    return apple_dma_is_ram_range(gpa, len, false);
}

static void apple_dma_guest_error(void *opaque, const char *msg)
{
    AppleDmaState *s = opaque;

    qemu_log_mask(LOG_GUEST_ERROR, "%s (managed %s)\n", msg, s->bdf);
}

static void apple_dma_trace_map(void *opaque, uint64_t gpa, uint64_t len, int dir, uint64_t dma_addr,
                                uint64_t handle, int status)
{
    AppleDmaState *s = opaque;

    trace_apple_dma_map(s->bdf, gpa, len, adma_dir_name(dir), dma_addr, handle, status);
}

static void apple_dma_trace_unmap(void *opaque, uint64_t handle, uint64_t len, int status)
{
    AppleDmaState *s = opaque;

    trace_apple_dma_unmap(s->bdf, handle, len, status);
}

static void apple_dma_trace_reset(void *opaque, uint64_t live)
{
    AppleDmaState *s = opaque;

    trace_apple_dma_reset(s->bdf, live);
}

static void apple_dma_trace_doorbell(void *opaque, uint32_t type, uint32_t count, int status)
{
    AppleDmaState *s = opaque;

    trace_apple_dma_doorbell(s->bdf, type, count, status);
}

/*
 * Tell the IOMMU notifiers (vhost, vfio) of one host mapping made or released, exactly its range.
 * A notifier takes aligned power-of-two blocks (addr_mask is a mask), so the range goes out as
 * the largest such blocks that tile it; the DART's are 16 KiB aligned, so there are few.
 */
static void apple_dma_notify_range(AppleDmaState *s, IOMMUTLBEvent *event, uint64_t bus_addr, uint64_t len)
{
    while (len > 0) {
        uint64_t block = bus_addr ? bus_addr & -bus_addr : UINT64_C(1) << 63; /* its alignment */

        while (block > len) {
            block >>= 1;
        }
        event->entry.iova = bus_addr;
        event->entry.addr_mask = block - 1;
        memory_region_notify_iommu(&s->iommu_mr, 0, *event);
        if (event->entry.perm != IOMMU_NONE) {
            event->entry.translated_addr += block;
        }
        bus_addr += block;
        len -= block;
    }
}

/* A host mapping was made: notifiers that keep their own copy of the translations (MAP) hear of
 * it; with none registered (the usual case) nothing is done. */
static void apple_dma_host_map(void *opaque, uint64_t bus_addr, uint64_t len, uint64_t gpa, int perm)
{
    AppleDmaState *s = opaque;
    IOMMUTLBEvent event = {
        .type = IOMMU_NOTIFIER_MAP,
        .entry = {
            .target_as = &address_space_memory,
            .translated_addr = gpa,
            .perm = IOMMU_ACCESS_FLAG(perm & ADMA_PERM_READ, perm & ADMA_PERM_WRITE),
        },
    };

    trace_apple_dma_notify_map(s->bdf, bus_addr, len, gpa, perm);
    if (!(s->iommu_mr.iommu_notify_flags & IOMMU_NOTIFIER_MAP) || event.entry.perm == IOMMU_NONE) {
        return;
    }
    apple_dma_notify_range(s, &event, bus_addr, len);
}

/* A host mapping went away: whoever caches the managed device's translations of its range drops
 * them, and only those. */
static void apple_dma_host_unmap(void *opaque, uint64_t bus_addr, uint64_t len)
{
    AppleDmaState *s = opaque;
    IOMMUTLBEvent event = {
        .type = IOMMU_NOTIFIER_UNMAP,
        .entry = {
            .target_as = &address_space_memory,
            .translated_addr = 0,
            .perm = IOMMU_NONE,
        },
    };

    trace_apple_dma_notify_unmap(s->bdf, bus_addr, len);
    if (!(s->iommu_mr.iommu_notify_flags & IOMMU_NOTIFIER_UNMAP)) {
        return;
    }
    apple_dma_notify_range(s, &event, bus_addr, len);
}

/* A reset released every host mapping at once: each notifier drops all it covers (named as its
 * own range, the one a notifier accepts whole). */
static void apple_dma_invalidate(void *opaque)
{
    AppleDmaState *s = opaque;
    IOMMUNotifier *n;

    IOMMU_NOTIFIER_FOREACH(n, &s->iommu_mr) {
        IOMMUTLBEvent event = {
            .type = IOMMU_NOTIFIER_UNMAP,
            .entry = {
                .target_as = &address_space_memory,
                .iova = n->start,
                .translated_addr = 0,
                .addr_mask = n->end - n->start,
                .perm = IOMMU_NONE,
            },
        };

        memory_region_notify_iommu_one(n, &event);
    }
}

static const AdmaHostOps apple_dma_host_ops = {
    .read = apple_dma_host_read,
    .write = apple_dma_host_write,
    .is_ram = apple_dma_host_is_ram,
    .guest_error = apple_dma_guest_error,
    .trace_map = apple_dma_trace_map,
    .trace_unmap = apple_dma_trace_unmap,
    .trace_reset = apple_dma_trace_reset,
    .trace_doorbell = apple_dma_trace_doorbell,
    .host_map = apple_dma_host_map,
    .host_unmap = apple_dma_host_unmap,
    .invalidate = apple_dma_invalidate,
};

static uint64_t apple_dma_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    AppleDmaState *s = opaque;
    uint64_t val = adma_mmio_read(s->core, addr, size);

    trace_apple_dma_mmio_read(addr, size, val);
    return val;
}

static void apple_dma_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    AppleDmaState *s = opaque;

    trace_apple_dma_mmio_write(addr, size, val);
    adma_mmio_write(s->core, addr, val, size);
}

/* Every size and alignment reaches the core, which refuses the wrong ones as guest errors. */
static const MemoryRegionOps apple_dma_mmio_ops = {
    .read = apple_dma_mmio_read,
    .write = apple_dma_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};

static IOMMUTLBEntry apple_dma_translate(IOMMUMemoryRegion *iommu, hwaddr addr, IOMMUAccessFlags flag,
                                         int iommu_idx)
{
    AppleDmaState *s = container_of(iommu, AppleDmaState, iommu_mr);
    bool is_write = flag & IOMMU_WO;
    uint64_t pa = 0;
    int code = 0;
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = addr & ~APPLE_DMA_IOMMU_PAGE_MASK,
        .translated_addr = 0,
        .addr_mask = APPLE_DMA_IOMMU_PAGE_MASK,
        .perm = IOMMU_NONE,
    };

    if (adma_translate(s->core, addr, is_write, &pa, &code) == 0) {
        entry.translated_addr = pa & ~APPLE_DMA_IOMMU_PAGE_MASK;
        entry.perm = flag == IOMMU_NONE ? IOMMU_RO : flag;
        return entry;
    }
    /* IOMMU_NONE makes QEMU fail the access: a DART fault never silently succeeds. */
    trace_apple_dma_fault(s->bdf, addr, is_write, code);
    qemu_log_mask(LOG_GUEST_ERROR, "apple-dma: DART fault: %s %s bus address 0x%" PRIx64 " (code %d)\n",
                  s->bdf, is_write ? "write to" : "read of", (uint64_t)addr, code);
    return entry;
}

/* The managed device's DMA goes through the DART; every other device on the bus keeps plain
 * memory. Called for each device when the machine is assembled (ids are known by then). */
static AddressSpace *apple_dma_find_as(PCIBus *bus, void *opaque, int devfn)
{
    AppleDmaState *s = opaque;
    PCIDevice *dev = bus->devices[devfn];

    if (dev && DEVICE(dev)->id && s->managed && strcmp(DEVICE(dev)->id, s->managed) == 0) {
        snprintf(s->bdf, sizeof(s->bdf), "0000:%02x:%02x.%x", pci_bus_num(bus), PCI_SLOT(devfn), PCI_FUNC(devfn));
        adma_set_managed_bdf(s->core, (uint32_t)pci_bus_num(bus) << 8 | (uint32_t)devfn);
        return &s->dma_as;
    }
    return &address_space_memory;
}

static void apple_dma_realize(PCIDevice *pdev, Error **errp)
{
    AppleDmaState *s = APPLE_DMA_PCI(pdev);
    PCIBus *bus = pci_get_bus(pdev);
    AdmaConfig config = {
        .interface_version = (int)s->interface_version,
        .policy = s->policy,
        .dart = s->dart,
        .max_entries = s->max_entries,
        .compat = ADMA_COMPAT_DEFAULT,
        .reset_releases = s->reset_releases == ON_OFF_AUTO_ON    ? ADMA_RESET_RELEASE
                          : s->reset_releases == ON_OFF_AUTO_OFF ? ADMA_RESET_KEEP
                                                                 : ADMA_RESET_DEFAULT,
    };
    char err[256] = "";

    if (s->compat && strcmp(s->compat, "rfc") == 0) {
        config.compat = ADMA_COMPAT_RFC;
    } else if (s->compat && strcmp(s->compat, "strict") == 0) {
        config.compat = ADMA_COMPAT_STRICT;
    } else if (s->compat) {
        error_setg(errp, "apple-dma-pci: compat=%s: must be rfc or strict", s->compat);
        return;
    }

    if (!s->managed || !*s->managed) {
        error_setg(errp, "apple-dma-pci: managed=<device id> is required");
        return;
    }
    if (bus->iommu_fn) {
        error_setg(errp, "apple-dma-pci: the PCI bus already has an IOMMU (one apple-dma-pci per bus)");
        return;
    }
    if (s->max_entries == 0) {
        error_setg(errp, "apple-dma-pci: max-entries must be at least 1");
        return;
    }
    s->core = adma_create(&config, &apple_dma_host_ops, s, err, sizeof(err));
    if (!s->core) {
        error_setg(errp, "%s", err);
        return;
    }
    snprintf(s->bdf, sizeof(s->bdf), "0000:00:00.0"); /* until the managed device is found */

    memory_region_init_io(&s->mmio, OBJECT(s), &apple_dma_mmio_ops, s, "apple-dma-mmio", ADMA_BAR0_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);

    memory_region_init(&s->dma_root, OBJECT(s), "apple-dma-dma-root", UINT64_MAX);
    memory_region_init_iommu(&s->iommu_mr, sizeof(s->iommu_mr), TYPE_APPLE_DMA_IOMMU_MEMORY_REGION, OBJECT(s),
                             "apple-dma-dart", UINT64_MAX);
    memory_region_add_subregion(&s->dma_root, 0, MEMORY_REGION(&s->iommu_mr));
    memory_region_init_alias(&s->msi_window, OBJECT(s), "apple-dma-msi", get_system_memory(), APPLE_DMA_MSI_BASE,
                             APPLE_DMA_MSI_SIZE);
    memory_region_add_subregion_overlap(&s->dma_root, APPLE_DMA_MSI_BASE, &s->msi_window, 1);
    address_space_init(&s->dma_as, &s->dma_root, "apple-dma-dart");
    pci_setup_iommu(bus, apple_dma_find_as, s);
}

static void apple_dma_exit(PCIDevice *pdev)
{
    AppleDmaState *s = APPLE_DMA_PCI(pdev);

    adma_destroy(s->core);
    s->core = NULL;
}

/* Device reset and guest (system) reset: every mapping is released. */
static void apple_dma_reset(DeviceState *dev)
{
    AppleDmaState *s = APPLE_DMA_PCI(dev);

    adma_reset(s->core);
}

/* The mappings and the DART's page tables live in the C++ core and are not serialised: refuse
 * migration rather than arrive with a managed device whose DMA addresses point nowhere. */
static const VMStateDescription vmstate_apple_dma = {
    .name = TYPE_APPLE_DMA_PCI,
    .unmigratable = 1,
};

static Property apple_dma_properties[] = {
    DEFINE_PROP_UINT32("interface", AppleDmaState, interface_version, 2),
    DEFINE_PROP_STRING("policy", AppleDmaState, policy),
    DEFINE_PROP_STRING("dart", AppleDmaState, dart),
    DEFINE_PROP_STRING("managed", AppleDmaState, managed),
    DEFINE_PROP_UINT32("max-entries", AppleDmaState, max_entries, ADMA_DEFAULT_MAX_ENTRIES),
    DEFINE_PROP_STRING("compat", AppleDmaState, compat),
    DEFINE_PROP_ON_OFF_AUTO("reset-releases", AppleDmaState, reset_releases, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_END_OF_LIST(),
};

static void apple_dma_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = apple_dma_realize;
    k->exit = apple_dma_exit;
    k->vendor_id = APPLE_DMA_VENDOR_ID;
    k->device_id = APPLE_DMA_DEVICE_ID;
    k->revision = 0;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "Apple Silicon DMA mapping device with an emulated DART (dartlab)";
    dc->reset = apple_dma_reset;
    dc->vmsd = &vmstate_apple_dma;
    /* The managed device's address space points into this device: no unplug under it. */
    dc->hotpluggable = false;
    device_class_set_props(dc, apple_dma_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static void apple_dma_iommu_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = apple_dma_translate;
}

static const TypeInfo apple_dma_info = {
    .name = TYPE_APPLE_DMA_PCI,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(AppleDmaState),
    .class_init = apple_dma_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static const TypeInfo apple_dma_iommu_info = {
    .name = TYPE_APPLE_DMA_IOMMU_MEMORY_REGION,
    .parent = TYPE_IOMMU_MEMORY_REGION,
    .class_init = apple_dma_iommu_class_init,
};

static void apple_dma_register_types(void)
{
    type_register_static(&apple_dma_info);
    type_register_static(&apple_dma_iommu_info);
}

type_init(apple_dma_register_types)
