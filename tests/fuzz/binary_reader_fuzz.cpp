// libFuzzer target for the binary trace reader: the input is a whole file. The reader must reach
// the end or stop with a message, never crash, read out of bounds or allocate without bound.
//
// Each input is read twice: as it is, where checksums stop most damage, and with its checksums
// recomputed (testing::reseal), so that the damage reaches the chunk and record decoders too.
// Build by hand (Debian's clang 14): clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined
//   -I. -Itests tests/fuzz/binary_reader_fuzz.cpp traces/*.cpp traces/ftrace/*.cpp -lzstd
// Seed it with a few small .dlt files; checksums are no obstacle, since inputs are also resealed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "traces/binary_reader.hpp"
#include "unit/traces/binary_test_files.hpp"

namespace {

void read_all(const std::string& path, std::size_t input_bytes, const dartlab::trace::ReaderOptions& options) {
  using dartlab::trace::TraceReader;
  dartlab::trace::BinaryTraceReader reader(path, options);
  dartlab::trace::Event ev;
  std::uint64_t sum = 0;
  TraceReader::Status status;
  while ((status = reader.next(ev)) == TraceReader::Status::Event) {
    sum += ev.id ^ ev.gpa;
    for (const auto& s : ev.segments) sum += s.gpa ^ s.len_bytes;  // touch every segment
    // A device index always has a name; events that carry none say 0.
    if (dartlab::trace::is_map_kind(ev.kind) ? ev.device >= reader.devices().size() : ev.device != 0) std::abort();
  }
  if (status == TraceReader::Status::Error) {
    const auto& error = reader.error();
    if (error.message.empty() || (error.byte_offset && *error.byte_offset > input_bytes)) std::abort();
  }
  if (reader.next(ev) != status) std::abort();  // the end, or the error, sticks
  static volatile std::uint64_t sink;
  sink = sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static dartlab::trace::testing::MemoryFile file;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The input's length picks the options, so that every input is read the same way each time.
  dartlab::trace::ReaderOptions options;
  options.lenient = (size & 1) != 0;
  options.block_bytes = (size & 2) != 0 ? 7 : 0;
  read_all(file.hold(bytes), size, options);
  read_all(file.hold(dartlab::trace::testing::reseal(bytes)), size, options);
  return 0;
}
