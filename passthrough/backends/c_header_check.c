/* SPDX-License-Identifier: MIT */
/* Compiled as C11 so that dartlab_dart.h stays usable from QEMU's C. */
#include "passthrough/backends/dartlab_dart.h"

int dl_dart_c_header_check(void);
int dl_dart_c_header_check(void) { return (int)sizeof(DlDartStats); }
