// SPDX-License-Identifier: MIT
// libFuzzer target for the text trace reader (traces/FORMAT.md): the input is a whole file, read
// in small and large blocks, strict and lenient, with and without a device filter. The reader
// must reach the end or stop with FILE:LINE:COL and a message, never crash or overrun its buffer.
// Seeds: tests/fuzz/corpus/text_reader_fuzz/. Build and run: `make test-fuzz` (tests/fuzz/run.sh).
#include <cstddef>
#include <cstdint>

#include "fuzz/drain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dartlab::trace::fuzz::read_as(dartlab::trace::TraceFormat::Text, data, size);
  return 0;
}
