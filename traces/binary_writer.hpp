// SPDX-License-Identifier: MIT
// Writes events as a dartlab binary trace (traces/BINARY.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "traces/event.hpp"
#include "traces/trace_writer.hpp"

namespace dartlab::trace {

struct BinaryWriterOptions {
  bool zstd = false;   // compress each chunk with zstd (Debian's libzstd)
  int zstd_level = 3;  // zstd's own default; 1 and 9 are within 4% of its size (BINARY.md)
};

class BinaryTraceWriter final : public TraceWriter {
 public:
  // Does not own `out`. Nothing is written before the first write(), comment(), flush() or
  // finish(), so that set_devices() can still fill the header's device table.
  explicit BinaryTraceWriter(std::FILE* out, BinaryWriterOptions options = {});
  // Writes out the pending chunk but no end chunk: a reader then reports the file as truncated,
  // so a conversion that stops early can never pass for a whole trace. Call finish().
  ~BinaryTraceWriter() override;
  BinaryTraceWriter(const BinaryTraceWriter&) = delete;
  BinaryTraceWriter& operator=(const BinaryTraceWriter&) = delete;

  // Names for Event::device indices; an index without a name is written as "devN". May be called
  // again with a longer list (a reader that discovers devices as it goes): names not yet in the
  // file are written inline before the first event that uses them. As in the text trace, a
  // device is its name: indices with the same name are one device in the file.
  void set_devices(std::span<const std::string> devices) override;
  // Precondition: the event is one the reader accepts (map_sg has 1..4096 segments, no zero LEN),
  // and device names are at most 4096 bytes of the text trace's characters. Fields the event's
  // kind does not carry (a device on unmap, a direction on alloc...) are not written.
  void write(const Event& ev) override;
  // Stored in the file as a comment record (cut at 64 KiB), which readers skip; the first few
  // are kept by BinaryTraceReader::comments().
  void comment(std::string_view text) override;
  // Writes the pending chunk and fflush()es. False if any write so far failed (e.g. disk full);
  // the failure sticks, so a late flush() still reports an early loss.
  bool flush();
  // Writes the end chunk with the event count and flushes; if `out` is seekable (and not in
  // append mode), also patches the count into the header. False if any write failed. Nothing
  // may be written after it; calling it again only repeats its result.
  bool finish() override;

  std::uint64_t events_written() const { return events_; }
  std::string failure() const override { return failure_; }

 private:
  void start();            // header and device table; once, before anything else
  void end_chunk();        // the pending records as one chunk
  void reserve(std::size_t bytes);  // room for a record of up to `bytes` in the pending chunk
  void put(const void* data, std::size_t n);
  std::uint16_t file_device(std::uint16_t device);  // defines it in the file first if need be
  std::string device_name(std::size_t device) const;
  void define_device(const std::string& name);  // appends to the file's device list, inline

  std::FILE* out_;
  BinaryWriterOptions options_;
  bool started_ = false;
  bool finished_ = false;
  bool failed_ = false;
  std::string failure_;  // the first broken precondition, said for people
  long header_at_ = -1;  // ftell() where the header starts; -1: not seekable

  // Names as the caller numbers them, and which file index each maps to (kUnassigned: none yet).
  static constexpr std::int32_t kUnassigned = -1;
  std::vector<std::string> devices_;
  std::vector<std::int32_t> file_index_;
  std::unordered_map<std::string, std::uint16_t> file_index_by_name_;  // the file's devices

  // The pending chunk and the delta predictors, which restart with every chunk.
  std::unique_ptr<std::uint8_t[]> chunk_;
  std::size_t used_ = 0;
  std::uint64_t prev_time_ = 0, prev_id_ = 0, prev_gpa_ = 0;
  std::uint16_t prev_device_ = 0;

  std::unique_ptr<std::uint8_t[]> compressed_;
  std::size_t compressed_capacity_ = 0;
  struct ZstdContext;  // binary_writer.cpp; keeps <zstd.h> out of this header
  std::unique_ptr<ZstdContext> zstd_;

  std::uint64_t events_ = 0;
};

}  // namespace dartlab::trace
