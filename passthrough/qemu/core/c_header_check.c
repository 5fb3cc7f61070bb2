/* SPDX-License-Identifier: MIT */
/* Compiles apple_dma.h as C11 so the QEMU glue can include it. */
#include "passthrough/qemu/core/apple_dma.h"

int adma_c_header_check(void);
int adma_c_header_check(void) { return ADMA_STATS_BASE > ADMA_REG_LAST; }
