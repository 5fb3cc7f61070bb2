// SPDX-License-Identifier: MIT
// libFuzzer target for the ftrace importer (traces/ftrace/IMPORT.md): the input is a whole
// recording, read in small and large blocks, strict and lenient, with and without a device
// filter. The importer must reach the end or stop with FILE:LINE:COL and a message.
// Seeds: tests/fuzz/corpus/ftrace_reader_fuzz/. Build and run: `make test-fuzz` (tests/fuzz/run.sh).
#include <cstddef>
#include <cstdint>

#include "fuzz/drain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dartlab::trace::fuzz::read_as(dartlab::trace::TraceFormat::Ftrace, data, size);
  return 0;
}
