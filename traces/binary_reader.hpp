// SPDX-License-Identifier: MIT
// Streams events out of a dartlab binary trace (traces/BINARY.md), one chunk at a time: the
// framing (header, chunks, end chunk) in binary_reader.cpp, the records in binary_records.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "traces/byte_source.hpp"
#include "traces/event.hpp"
#include "traces/trace_reader.hpp"

namespace dartlab::trace {

class BinaryTraceReader final : public TraceReader {
 public:
  // "-" reads stdin (never seeks). Reads the header at once, so that declared_events() and the
  // header's devices are known before the first next(); any failure is reported by next().
  explicit BinaryTraceReader(const std::string& path, ReaderOptions options = {});
  BinaryTraceReader(ByteSource source, ReaderOptions options);
  ~BinaryTraceReader() override;
  BinaryTraceReader(const BinaryTraceReader&) = delete;
  BinaryTraceReader& operator=(const BinaryTraceReader&) = delete;

  // Zero bytes kept after the records of a chunk (binary_records.cpp says why they suffice).
  static constexpr std::size_t kPadding = 64;

  // Errors about the bytes carry byte_offset: in the file, or for a record inside a zstd chunk,
  // the offset of that chunk (the message then names the offset inside its decompressed payload).
  // Device names by Event::device: the header's table, then names defined inline as they come.
  const std::vector<std::string>& devices() const override { return devices_; }
  // Ordinal of the last event returned, counted from 1 over every event record in the file
  // (records skipped in lenient mode count too).
  std::uint64_t position() const override { return event_no_; }
  std::string locate(std::uint64_t event) const override;  // "FILE: event N"
  std::string_view position_unit() const override { return "event"; }
  std::uint64_t bytes_consumed() const override { return source_.consumed(offset_); }
  std::uint64_t file_bytes() const override { return source_.file_bytes(); }
  std::uint64_t warnings() const override { return warnings_; }
  const std::vector<std::string>& warning_samples() const override { return warning_samples_; }
  // The header's event count, unless the writer could not seek back to fill it in.
  std::optional<std::uint64_t> declared_events() const override;
  std::string_view format_name() const override { return "binary"; }

  // The first few comment records (kKeptComments), e.g. who made the file.
  const std::vector<std::string>& comments() const { return comments_; }
  static constexpr std::size_t kKeptComments = 8;
  bool zstd() const { return zstd_flag_; }

 private:
  Status read_event(Event& ev) override;
  const ParseError& reader_error() const override { return error_; }
  enum class Record { Event, Skip, Error };
  struct ZstdContext;  // binary_reader.cpp

  void read_header();
  bool load_chunk();  // the next chunk's records into raw_; false at the end or on an error
  void read_end_chunk(std::uint32_t stored_bytes, std::uint32_t sum, std::uint64_t seed);
  long read_fully(std::uint8_t* dst, std::size_t n);  // < n only at end of input; -1 on error
  std::uint8_t* raw_buffer(std::size_t bytes);         // raw_, grown to bytes + padding
  enum class Problem : std::uint8_t;  // binary_records.cpp
  bool decode_plain(Event& ev);     // the fast path
  Status next_record(Event& ev);    // the rest: chunks, meta records, errors, lenient skips
  Record decode(Event& ev);
  Record report(Problem problem, const std::uint8_t* at, std::uint64_t value);
  Record meta_record(const std::uint8_t* at);
  bool define_device(const std::uint8_t* at, const std::uint8_t*& p);  // varint length, name

  // Failures. `at` points into raw_; offset_of() turns it into a file offset.
  std::uint64_t offset_of(const std::uint8_t* at) const;
  bool fail_at(std::uint64_t byte_offset, std::string message);
  Record bad_record(const std::uint8_t* at, const std::string& message);
  Record senseless(const std::uint8_t* at, std::string message);  // a lenient-mode warning

  ByteSource source_;
  ReaderOptions options_;

  enum class State { Events, End, Error } state_ = State::Events;
  ParseError error_;
  bool zstd_flag_ = false;
  std::uint64_t declared_ = 0;
  bool declared_known_ = false;

  std::uint64_t offset_ = 0;  // file offset of the next byte read
  // The records being decoded: raw_[0, end_ - raw_) and kPadding zero bytes, so that a varint
  // that runs off the end stops in the padding and is caught after the record.
  std::vector<std::uint8_t> raw_;
  std::vector<std::uint8_t> stored_;  // a compressed payload
  const std::uint8_t* cur_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  std::uint64_t region_at_ = 0;    // file offset of raw_[0] (stored chunks, the device table)
  std::uint64_t chunk_at_ = 0;     // file offset of the chunk's header
  bool region_compressed_ = false;
  std::unique_ptr<ZstdContext> zstd_;

  // Delta predictors; they restart with every chunk.
  std::uint64_t prev_time_ = 0, prev_id_ = 0, prev_gpa_ = 0;
  std::uint16_t prev_device_ = 0;
  bool device_defined_ = false;  // prev_device_ < devices_.size(), kept for the fast path

  std::uint64_t events_seen_ = 0;  // event records decoded
  std::uint64_t event_no_ = 0;     // the ordinal of the last one returned
  std::vector<Segment> segments_;  // kMaxSegments, allocated once

  std::vector<std::string> devices_;
  std::unordered_set<std::string> device_names_;
  std::vector<std::string> comments_;
  std::uint64_t warnings_ = 0;
  std::vector<std::string> warning_samples_;
};

}  // namespace dartlab::trace
