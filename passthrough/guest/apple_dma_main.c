// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: the PCI driver for apple-dma-pci and the ownership of the managed device's DMA.
 *
 * Ownership: the managed device's driver must map nothing before our DMA ops are installed, and
 * behind the host's DART a DMA the module did not map reaches nothing. So apple_dma is loaded
 * before the driver (initramfs order, or `softdep <driver> pre: apple_dma`). At probe the ops are
 * installed and the device is offered to the drivers already loaded (device_attach): a driver
 * that was loaded first, failed for want of mappings and let the device go, binds now. A driver
 * still bound is refused: unbind it first (its DMA never reached the host anyway).
 * Removing the module unbinds the driver (it releases what it mapped through the module), puts
 * the original DMA path back and releases whatever was left on the host; the driver is not bound
 * again: without the module its DMA has no host mappings. Loading apple_dma again binds it.
 */
#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "apple_dma.h"

static int interface;
module_param(interface, int, 0444);
MODULE_PARM_DESC(interface, "wire interface: 0 = the device's best (3 when offered), 2 or 3");

static int window_shift = 18;
module_param(window_shift, int, 0444);
MODULE_PARM_DESC(window_shift,
		 "interface 2: cluster requests into 2^window_shift byte windows (12..30; 0 = map directly). "
		 "Default 18 (256 KiB), the seed module's");

static unsigned int trace_entries = 1u << 18;
module_param(trace_entries, uint, 0444);
MODULE_PARM_DESC(trace_entries, "records in the debugfs trace ring (a power of two; 0 = no trace). "
				"Default 2^18, the seed module's");

static char *refusal = "fail";
module_param(refusal, charp, 0444);
MODULE_PARM_DESC(refusal,
		 "what dma_map_sg returns when the host refuses: fail (-EREMOTEIO: block drivers fail the I/O, "
		 "default) or retry (-ENOMEM: 'should succeed if retried later'; NVMe requeues until it does)");

bool adma_fault_inject;
module_param_named(fault_inject, adma_fault_inject, bool, 0644);
MODULE_PARM_DESC(fault_inject, "TEST HOOK, off by default: streaming maps hand out an address past their "
			       "mapping, so the managed device's DMA faults in the DART");

struct adma *adma_dev;

static int adma_take_managed(struct adma *a)
{
	struct device *dev = &a->managed->dev;

	device_lock(dev);
	if (dev->driver) {
		pci_err(a->pdev, "%s is bound to %s: unbind it (echo %s > /sys/bus/pci/drivers/%s/unbind) and load apple_dma again\n",
			pci_name(a->managed), dev->driver->name, pci_name(a->managed), dev->driver->name);
		device_unlock(dev);
		return -EBUSY;
	}
	a->orig_ops = get_dma_ops(dev);
	if (a->orig_ops) {
		device_unlock(dev);
		pci_err(a->pdev, "%s already has DMA ops (%ps: a guest IOMMU?); apple_dma needs the direct path\n",
			pci_name(a->managed), a->orig_ops);
		return -EINVAL;
	}
	if (!dev_is_dma_coherent(dev)) {
		device_unlock(dev);
		pci_err(a->pdev, "%s is not DMA-coherent: unsupported\n", pci_name(a->managed));
		return -EINVAL;
	}
	set_dma_ops(dev, &adma_dma_ops);
	device_unlock(dev);
	return 0;
}

static void adma_give_back_managed(struct adma *a)
{
	struct device *dev = &a->managed->dev;
	unsigned long flags;

	if (READ_ONCE(dev->driver)) {
		pci_info(a->pdev, "unbinding %s from %s: without apple_dma its DMA has no host mappings\n",
			 pci_name(a->managed), dev->driver->name);
		device_release_driver(dev);
	}
	device_lock(dev);
	set_dma_ops(dev, a->orig_ops);
	device_unlock(dev);
	spin_lock_irqsave(&a->lock, flags);
	adma_release_all(a);
	spin_unlock_irqrestore(&a->lock, flags);
}

static void adma_free_buffers(struct adma *a)
{
	kfree(a->req);
	kfree(a->resp);
	free_page((unsigned long)a->cmd);
	kmem_cache_destroy(a->request_cache);
	kmem_cache_destroy(a->window_cache);
	adma_trace_free(a);
}

static int adma_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct adma *a;
	u32 bdf;
	int ret;

	if (adma_dev) {
		pci_err(pdev, "one apple-dma-pci per guest: %s is already driven\n", pci_name(adma_dev->pdev));
		return -EBUSY;
	}
	if (window_shift != 0 && (window_shift < 12 || window_shift > 30)) {
		pci_err(pdev, "window_shift=%d: must be 0 or 12..30\n", window_shift);
		return -EINVAL;
	}
	a = devm_kzalloc(&pdev->dev, sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->pdev = pdev;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), ADMA_DRV_NAME);
	if (ret)
		return ret;
	a->regs = pcim_iomap_table(pdev)[0];

	a->version = readl(a->regs + ADMA_REG_VERSION);
	if (a->version < 2) {
		pci_err(pdev, "interface version %u: this module speaks 2 and 3\n", a->version);
		return -ENODEV;
	}
	a->iface = interface ? interface : (a->version >= 3 ? 3 : 2);
	if (a->iface != 2 && a->iface != 3) {
		pci_err(pdev, "interface=%d: must be 0, 2 or 3\n", interface);
		return -EINVAL;
	}
	if (a->iface > a->version) {
		pci_err(pdev, "interface=%u asked, the device offers %u\n", a->iface, a->version);
		return -EINVAL;
	}
	a->window_shift = window_shift;
	if (!strcmp(refusal, "fail")) {
		a->refusal_fails = true;
	} else if (strcmp(refusal, "retry")) {
		pci_err(pdev, "refusal=%s: must be fail or retry\n", refusal);
		return -EINVAL;
	}
	a->max_entries = readl(a->regs + ADMA_REG_MAX_ENTRIES);
	if (a->max_entries == 0) {
		pci_err(pdev, "MAX_ENTRIES is 0\n");
		return -ENODEV;
	}
	a->batch_entries = min(a->max_entries, ADMA_BATCH_MAX);
	/* dartlab's device tells its aperture (the fault-injection hook aims past it); 0 elsewhere. */
	a->aperture_bytes = adma_read_stat(a, ADMA_STAT_APERTURE_BYTES);
	a->dartlab_device = a->aperture_bytes != 0;

	bdf = readl(a->regs + ADMA_REG_MANAGED_BDF);
	a->managed = pci_get_domain_bus_and_slot(pci_domain_nr(pdev->bus), bdf >> 8 & 0xff, bdf & 0xff);
	if (!a->managed || a->managed == pdev) {
		pci_err(pdev, "managed device %02x:%02x.%x (MANAGED_BDF 0x%x) not found\n", bdf >> 8 & 0xff,
			PCI_SLOT(bdf & 0xff), PCI_FUNC(bdf & 0xff), bdf);
		pci_dev_put(a->managed);
		return -ENODEV;
	}

	spin_lock_init(&a->lock);
	adma_track_init(a);
	ret = -ENOMEM;
	a->cmd = (struct adma_cmd *)get_zeroed_page(GFP_KERNEL);
	a->req = kcalloc(a->batch_entries, ADMA_ENTRY_BYTES, GFP_KERNEL);
	a->resp = kcalloc(a->batch_entries, ADMA_ENTRY_BYTES, GFP_KERNEL);
	a->request_cache = KMEM_CACHE(adma_request, 0);
	a->window_cache = KMEM_CACHE(adma_window, 0);
	if (!a->cmd || !a->req || !a->resp || !a->request_cache || !a->window_cache)
		goto fail;
	ret = adma_trace_init(a, trace_entries);
	if (ret) {
		pci_err(pdev, "trace_entries=%u: must be a power of two (or 0)\n", trace_entries);
		goto fail;
	}
	/* The device keeps the command page's address: given once. */
	writel(lower_32_bits(virt_to_phys(a->cmd)), a->regs + ADMA_REG_CMD_GPA_LO);
	writel(upper_32_bits(virt_to_phys(a->cmd)), a->regs + ADMA_REG_CMD_GPA_HI);

	WRITE_ONCE(adma_dev, a);
	ret = adma_take_managed(a);
	if (ret) {
		WRITE_ONCE(adma_dev, NULL);
		goto fail;
	}
	pci_set_drvdata(pdev, a);
	adma_debugfs_init(a);
	/* A driver loaded before us that let the device go binds now, through our ops. */
	if (device_attach(&a->managed->dev) < 0)
		pci_warn(pdev, "no driver could bind %s yet\n", pci_name(a->managed));
	if (a->iface == 2)
		pci_info(pdev, "managing %s: interface 2, window_shift %u, MAX_ENTRIES %u\n", pci_name(a->managed),
			 a->window_shift, a->max_entries);
	else
		pci_info(pdev, "managing %s: interface 3 (the device's policy clusters), MAX_ENTRIES %u\n",
			 pci_name(a->managed), a->max_entries);
	return 0;

fail:
	adma_free_buffers(a);
	pci_dev_put(a->managed);
	return ret;
}

static void adma_remove(struct pci_dev *pdev)
{
	struct adma *a = pci_get_drvdata(pdev);

	debugfs_remove_recursive(a->debugfs);
	adma_give_back_managed(a);
	WRITE_ONCE(adma_dev, NULL);
	adma_free_buffers(a);
	pci_dev_put(a->managed);
}

static const struct pci_device_id adma_ids[] = {
	{ PCI_DEVICE(0x1b36, 0x0015) },
	{}
};
MODULE_DEVICE_TABLE(pci, adma_ids);

static struct pci_driver adma_driver = {
	.name = ADMA_DRV_NAME,
	.id_table = adma_ids,
	.probe = adma_probe,
	.remove = adma_remove,
};
module_pci_driver(adma_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dartlab: DMA of a passthrough device through apple-dma-pci and the host's DART");
