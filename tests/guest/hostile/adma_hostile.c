// SPDX-License-Identifier: GPL-2.0
/*
 * adma_hostile: a driver that misuses the DMA API on the device apple_dma manages, to prove the
 * module survives it (tests/guest/scenarios/hostile.sh). At load it finds the managed NVMe
 * (QEMU's 1b36:0010), makes every call below on it while nvme keeps doing I/O, prints one line
 * `adma_hostile: NAME ok=0|1` per check, and stays loaded doing nothing (rmmod it).
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

static void report(const char *name, bool ok)
{
	pr_info("adma_hostile: %s ok=%d\n", name, ok);
}

static void hostile_calls(struct device *dev)
{
	struct page *page = alloc_page(GFP_KERNEL);
	struct page *pages = alloc_pages(GFP_KERNEL, 1);
	struct page *big = alloc_pages(GFP_KERNEL, 7); /* 512 KiB, so aligned: it starts a 256 KiB window */
	struct scatterlist sg[3];
	unsigned long flags;
	dma_addr_t a, b;
	void *cpu;
	int n;

	if (!page || !pages || !big) {
		report("setup", false);
		goto out;
	}

	/* Unmaps of addresses nobody handed out: a warning and a counter, never a crash. */
	dma_unmap_page(dev, 0xdead0000, 4096, DMA_TO_DEVICE);
	report("unmap_unknown", true);
	sg_init_table(sg, 1);
	sg_set_page(sg, page, 4096, 0);
	sg_dma_address(sg) = 0xbeef0000;
	sg_dma_len(sg) = 4096;
	dma_unmap_sg(dev, sg, 1, DMA_FROM_DEVICE);
	report("unmap_sg_unknown", true);

	/* Unmapped with another length than mapped, then the same address again. */
	a = dma_map_page(dev, page, 0, 4096, DMA_TO_DEVICE);
	report("map_page", !dma_mapping_error(dev, a));
	if (!dma_mapping_error(dev, a)) {
		dma_unmap_page(dev, a, 512, DMA_TO_DEVICE);
		dma_unmap_page(dev, a, 4096, DMA_TO_DEVICE);
	}
	report("unmap_wrong_size_then_twice", true);

	/* Length 0, and a range that wraps: refused. */
	a = dma_map_page(dev, page, 0, 0, DMA_TO_DEVICE);
	report("map_zero_length_refused", dma_mapping_error(dev, a));
	if (!dma_mapping_error(dev, a))
		dma_unmap_page(dev, a, 0, DMA_TO_DEVICE);
	sg_init_table(sg, 2);
	sg_set_page(&sg[0], page, 4096, 0);
	sg_set_page(&sg[1], pages, 0, 0);
	n = dma_map_sg(dev, sg, 2, DMA_BIDIRECTIONAL);
	report("map_sg_zero_segment_refused", n == 0);
	if (n)
		dma_unmap_sg(dev, sg, 2, DMA_BIDIRECTIONAL);

	/* Peer-to-peer MMIO: the host maps guest RAM only. */
	a = dma_map_resource(dev, 0xfe000000, 4096, DMA_BIDIRECTIONAL, 0);
	report("map_resource_refused", dma_mapping_error(dev, a));

	/* From atomic context, interrupts off: maps and unmaps never sleep. */
	local_irq_save(flags);
	a = dma_map_page(dev, page, 128, 256, DMA_FROM_DEVICE);
	b = dma_map_page(dev, pages, 0, 8192, DMA_TO_DEVICE);
	if (!dma_mapping_error(dev, a))
		dma_unmap_page(dev, a, 256, DMA_FROM_DEVICE);
	if (!dma_mapping_error(dev, b))
		dma_unmap_page(dev, b, 8192, DMA_TO_DEVICE);
	local_irq_restore(flags);
	report("map_unmap_irqs_off", !dma_mapping_error(dev, a) && !dma_mapping_error(dev, b));

	/* A scatterlist of three, the allocations, GFP_ATOMIC included. */
	sg_init_table(sg, 3);
	sg_set_page(&sg[0], page, 1024, 0);
	sg_set_page(&sg[1], pages, 8192, 0);
	sg_set_page(&sg[2], page, 512, 2048);
	n = dma_map_sg(dev, sg, 3, DMA_TO_DEVICE);
	report("map_sg", n == 3);
	if (n)
		dma_unmap_sg(dev, sg, 3, DMA_TO_DEVICE);
	cpu = dma_alloc_coherent(dev, 12288, &a, GFP_ATOMIC);
	report("alloc_coherent_atomic", cpu != NULL);
	if (cpu)
		dma_free_coherent(dev, 12288, cpu, a);

	/* Two live requests whose host mappings would start at the same gpa: under interface 2 a
	 * 256 KiB window and the 512 KiB direct range from the same base. The real host refuses the
	 * second (still open): the driver must see a refusal, never an address. */
	a = dma_map_page(dev, big, 0, 4096, DMA_TO_DEVICE);
	b = dma_map_page(dev, big, 0, 512 * 1024, DMA_TO_DEVICE);
	report("same_base_first", !dma_mapping_error(dev, a));
	pr_info("adma_hostile: same_base_second mapped=%d\n", !dma_mapping_error(dev, b));
	if (!dma_mapping_error(dev, b))
		dma_unmap_page(dev, b, 512 * 1024, DMA_TO_DEVICE);
	if (!dma_mapping_error(dev, a))
		dma_unmap_page(dev, a, 4096, DMA_TO_DEVICE);
out:
	if (page)
		__free_page(page);
	if (pages)
		__free_pages(pages, 1);
	if (big)
		__free_pages(big, 7);
}

static int __init adma_hostile_init(void)
{
	struct pci_dev *pdev = pci_get_device(0x1b36, 0x0010, NULL);

	if (!pdev) {
		pr_err("adma_hostile: no QEMU NVMe (1b36:0010)\n");
		return -ENODEV;
	}
	hostile_calls(&pdev->dev);
	pci_dev_put(pdev);
	pr_info("adma_hostile: done\n");
	return 0;
}

static void __exit adma_hostile_exit(void)
{
}

module_init(adma_hostile_init);
module_exit(adma_hostile_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dartlab test: a hostile DMA-API caller");
