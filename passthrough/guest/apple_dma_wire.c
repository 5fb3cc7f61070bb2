// SPDX-License-Identifier: GPL-2.0
/*
 * apple_dma: the doorbell. The command page and both entry arrays were handed to the device by
 * guest-physical address at probe; a doorbell fills the page, writes DOORBELL once and reads
 * STATUS back. The device runs the whole command inside that write (a synchronous MMIO exit),
 * so the responses are in place when the read returns.
 */
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>

#include "apple_dma.h"

u32 adma_doorbell(struct adma *a, u32 type, u32 count)
{
	u32 status;

	lockdep_assert_held(&a->lock);
	a->cmd->type = cpu_to_le32(type);
	a->cmd->count = cpu_to_le32(count);
	a->cmd->status = cpu_to_le32(ADMA_STATUS_INVALID); /* what we read if the device never answers */
	a->cmd->reserved = 0;
	a->cmd->req_gpa = cpu_to_le64(virt_to_phys(a->req));
	a->cmd->resp_gpa = cpu_to_le64(virt_to_phys(a->resp));
	/* writel orders the stores above before the doorbell; readl both flushes the posted write
	 * (on a real bus) and orders the response reads after it. */
	writel(1, a->regs + ADMA_REG_DOORBELL);
	status = readl(a->regs + ADMA_REG_STATUS);
	a->stats.doorbells++;
	return status;
}

/* One 64-bit counter of dartlab's statistics window (two 4-byte reads, low half first). */
u64 adma_read_stat(struct adma *a, unsigned int index)
{
	return lo_hi_readq(a->regs + ADMA_STATS_BASE + 8 * index);
}

/* A reason the device reported, or ADMA_REASON_IO when it is none the module knows. */
u8 adma_device_reason(u32 reason)
{
	return reason >= ADMA_REASON_INVALID && reason < ADMA_DEVICE_REASONS ? reason : ADMA_REASON_IO;
}
