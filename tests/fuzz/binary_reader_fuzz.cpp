// SPDX-License-Identifier: MIT
// libFuzzer target for the binary trace reader: the input is a whole file. The reader must reach
// the end or stop with a message, never crash, read out of bounds or allocate without bound.
//
// Each input is read twice: as it is, where checksums stop most damage, and with its checksums
// recomputed (testing::reseal), so that the damage reaches the chunk and record decoders too.
// Seeds: tests/fuzz/corpus/binary_reader_fuzz/, small .dlt files; checksums are no obstacle, since
// inputs are also resealed. Build and run: `make test-fuzz` (tests/fuzz/run.sh).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/drain.hpp"
#include "traces/binary_reader.hpp"
#include "unit/traces/binary_test_files.hpp"

namespace {

void read_all(const std::string& path, std::size_t input_bytes, const dartlab::trace::ReaderOptions& options) {
  dartlab::trace::BinaryTraceReader reader(path, options);
  dartlab::trace::fuzz::drain(reader, input_bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dartlab::trace::testing::MemoryFile file;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The input's length picks the options, so that every input is read the same way each time.
  dartlab::trace::ReaderOptions options;
  options.lenient = (size & 1) != 0;
  options.block_bytes = (size & 2) != 0 ? 7 : 0;
  read_all(file.hold(bytes), dartlab::trace::fuzz::offset_bound(bytes), options);
  const std::string resealed = dartlab::trace::testing::reseal(bytes);
  read_all(file.hold(resealed), dartlab::trace::fuzz::offset_bound(resealed), options);
  return 0;
}
