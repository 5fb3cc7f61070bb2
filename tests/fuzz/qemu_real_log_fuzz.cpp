// SPDX-License-Identifier: MIT
// libFuzzer target for the real apple-dma-pci device's QEMU log (traces/qemu_log/IMPORT.md): the
// input is a whole log, read at the guest level (map and unmap entries) and at the host level
// (apple_dext_* registrations), strict and lenient, in small and large blocks. Its seeds are the
// real device's events, where qemu_log_fuzz starts from dartlab's own device's.
// Seeds: tests/fuzz/corpus/qemu_real_log_fuzz/. Build and run: `make test-fuzz` (tests/fuzz/run.sh).
#include <cstddef>
#include <cstdint>

#include "fuzz/drain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dartlab::trace::fuzz::read_as(dartlab::trace::TraceFormat::QemuLog, data, size);
  return 0;
}
