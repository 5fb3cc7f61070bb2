// SPDX-License-Identifier: MIT
// Streams events out of a dartlab text trace (traces/FORMAT.md), one line at a time. A
// LineImporter (traces/line_import/) that makes at most one event of a line: the header first,
// then events; a line too long is an error, and only a range that makes no sense (zero length,
// past 2^64) is a lenient-mode warning.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/line_import/device_table.hpp"
#include "traces/line_import/line_importer.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class TextTraceReader final : public LineImporter {
 public:
  // "-" reads stdin. An open failure is reported by the first next().
  explicit TextTraceReader(const std::string& path, ReaderOptions options = {});
  TextTraceReader(ByteSource source, ReaderOptions options);
  ~TextTraceReader() override;
  TextTraceReader(const TextTraceReader&) = delete;
  TextTraceReader& operator=(const TextTraceReader&) = delete;

  // Device names by Event::device, in order of first appearance.
  const std::vector<std::string>& devices() const override { return devices_.names(); }
  // Line number of the last event returned.
  std::uint64_t line() const { return position(); }
  std::string_view format_name() const override { return "text"; }

 private:
  struct LineParser;  // text_reader.cpp

  void handle_line(std::string_view line) override;
  void line_too_long() override;
  void at_end() override;
  void parse_header(std::string_view line);

  bool header_seen_ = false;

  line_import::DeviceTable devices_;
  std::vector<Segment> segments_;
};

}  // namespace dartlab::trace
