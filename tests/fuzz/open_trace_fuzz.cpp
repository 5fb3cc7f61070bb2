// SPDX-License-Identifier: MIT
// libFuzzer target for open_trace's own work (traces/trace_reader.hpp): telling the format from
// the first lines, and reading gzip and zstd files as what they hold. The input is any file;
// whatever reader it picks must end or fail with a message. A damaged or truncated compressed
// stream must be an error, never a crash or a hang.
// Seeds: tests/fuzz/corpus/open_trace_fuzz/. Build and run: `make test-fuzz` (tests/fuzz/run.sh).
#include <cstddef>
#include <cstdint>

#include "fuzz/drain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  dartlab::trace::fuzz::read_as(dartlab::trace::TraceFormat::Auto, data, size);
  return 0;
}
