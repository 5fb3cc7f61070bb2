// SPDX-License-Identifier: MIT
// libFuzzer target for the apple_dma debugfs CSV importer (traces/apple_dma_csv/IMPORT.md): the
// input is a whole trace file, read in small and large blocks, strict and lenient, with the
// default device name and a given one. Hostile active counts (falls, rises, rollbacks past
// anything seen) must end in notes, rows that are none in FILE:LINE:COL, never a crash.
// Seeds: tests/fuzz/corpus/apple_dma_csv_fuzz/. Build and run: `make test-fuzz` (tests/fuzz/run.sh).
#include <cstddef>
#include <cstdint>

#include "fuzz/drain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dartlab::trace::fuzz::read_as(dartlab::trace::TraceFormat::AppleDmaCsv, data, size);
  return 0;
}
