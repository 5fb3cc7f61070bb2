// SPDX-License-Identifier: MIT
// Writes events as a dartlab text trace (traces/FORMAT.md) in canonical form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "traces/event.hpp"
#include "traces/trace_writer.hpp"

namespace dartlab::trace {

class TextTraceWriter final : public TraceWriter {
 public:
  // Does not own `out`. Writes the header at once (into the buffer).
  explicit TextTraceWriter(std::FILE* out);
  // Flushes; an error at this point is lost, so callers call flush() themselves and check it.
  ~TextTraceWriter() override;
  TextTraceWriter(const TextTraceWriter&) = delete;
  TextTraceWriter& operator=(const TextTraceWriter&) = delete;

  // Names for Event::device indices. An index without a name is written as "devN".
  void set_devices(std::span<const std::string> devices) override;
  // Canonical form: "@TIME " if ev.has_time, one space between fields, GPA as 0x-hex, LEN in
  // decimal bytes, direction keywords. Fields an event kind does not carry are not written.
  // Precondition: the event is one the reader accepts (map_sg has 1..4096 segments, no zero LEN).
  void write(const Event& ev) override;
  // "# text"; every line of a multi-line text becomes its own comment line.
  void comment(std::string_view text) override;
  // Hands everything buffered to the FILE and fflush()es it. False if any write so far failed
  // (e.g. disk full); the failure sticks, so a late flush() still reports an early loss.
  bool flush();
  bool finish() override { return flush(); }

 private:
  void put(std::string_view s);
  void put_dec(std::uint64_t v);
  void put_hex(std::uint64_t v);
  void drain();  // buffer -> FILE

  std::FILE* out_;
  std::unique_ptr<char[]> buf_;
  std::size_t used_ = 0;
  bool failed_ = false;
  std::vector<std::string> devices_;
};

}  // namespace dartlab::trace
