// SPDX-License-Identifier: MIT
// The binary trace's framing: the header and its device table, chunks (stored or zstd) read
// into raw_, the end chunk's checks, and the errors and warnings every part reports. The
// records inside the chunks: binary_records.cpp.
#include "traces/binary_reader.hpp"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "traces/binary_format.hpp"
#include "traces/line_import/import_notes.hpp"
#include "traces/line_import/numbers.hpp"

namespace dartlab::trace {
namespace {

using namespace binary;
using line_import::hex;

constexpr std::size_t kWarningSamples = ImportWarnings::kSamples;  // as every reader

}  // namespace

struct BinaryTraceReader::ZstdContext {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~ZstdContext() { ZSTD_freeDCtx(dctx); }
};

BinaryTraceReader::BinaryTraceReader(const std::string& path, ReaderOptions options)
    : BinaryTraceReader(ByteSource(path), std::move(options)) {}

BinaryTraceReader::BinaryTraceReader(ByteSource source, ReaderOptions options)
    : source_(std::move(source)), options_(std::move(options)), segments_(kMaxSegments) {
  error_.file = source_.name();
  if (options_.block_bytes == 0) options_.block_bytes = kReadBlockBytes;
  if (!source_.open_error().empty()) {
    state_ = State::Error;
    error_.message = source_.open_error();
    return;
  }
  read_header();
}

BinaryTraceReader::~BinaryTraceReader() = default;

std::string BinaryTraceReader::locate(std::uint64_t event) const {
  return source_.name() + ": event " + std::to_string(event);
}

std::optional<std::uint64_t> BinaryTraceReader::declared_events() const {
  if (!declared_known_) return std::nullopt;
  return declared_;
}

bool BinaryTraceReader::fail_at(std::uint64_t byte_offset, std::string message) {
  state_ = State::Error;
  cur_ = end_ = nullptr;
  error_.byte_offset = byte_offset;
  error_.message = std::move(message);
  return false;
}

std::uint64_t BinaryTraceReader::offset_of(const std::uint8_t* at) const {
  return region_compressed_ ? chunk_at_ : region_at_ + static_cast<std::uint64_t>(at - raw_.data());
}

BinaryTraceReader::Record BinaryTraceReader::bad_record(const std::uint8_t* at, const std::string& message) {
  std::string m = message;
  if (region_compressed_) {
    m += " (byte " + std::to_string(at - raw_.data()) + " of the decompressed chunk)";
  }
  fail_at(offset_of(at), std::move(m));
  return Record::Error;
}

BinaryTraceReader::Record BinaryTraceReader::senseless(const std::uint8_t* at, std::string message) {
  if (!options_.lenient) {
    return bad_record(at, "event " + std::to_string(events_seen_) + " (" +
                              std::string(to_string(static_cast<EventKind>(*at & kKindMask))) + "): " + message);
  }
  ++warnings_;
  if (warning_samples_.size() < kWarningSamples) {
    warning_samples_.push_back(locate(events_seen_) + ": warning: " + message + " (event skipped)");
  }
  return Record::Skip;
}

long BinaryTraceReader::read_fully(std::uint8_t* dst, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const long r = source_.read(dst + got, std::min(options_.block_bytes, n - got));
    if (r < 0) {
      fail_at(offset_, source_.read_error());
      return -1;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
    offset_ += static_cast<std::uint64_t>(r);
  }
  return static_cast<long>(got);
}

std::uint8_t* BinaryTraceReader::raw_buffer(std::size_t bytes) {
  // Grows to the largest chunk seen (at most kMaxChunkRawBytes, checked by the callers), never
  // with the trace's length.
  if (raw_.size() < bytes + kPadding) raw_.resize(bytes + kPadding);
  std::memset(raw_.data() + bytes, 0, kPadding);
  return raw_.data();
}

void BinaryTraceReader::read_header() {
  std::uint8_t h[kHeaderBytes];
  const long got = read_fully(h, sizeof h);
  if (got < 0) return;
  const auto n = static_cast<std::size_t>(got);
  if (n == 0) {
    fail_at(0, "truncated: the file is empty (a binary trace starts with a " + std::to_string(kHeaderBytes) +
                   "-byte header)");
    return;
  }
  if (std::memcmp(h, kBinaryMagic.data(), std::min(n, kBinaryMagic.size())) != 0) {
    fail_at(0, "not a dartlab binary trace: the file does not start with the binary magic");
    return;
  }
  if (n >= kVersionAt + 2) {
    if (const auto version = load_le<std::uint16_t>(h + kVersionAt); version != kVersion) {
      fail_at(kVersionAt, "unsupported binary trace version " + std::to_string(version) + " (this dartlab reads " +
                              std::to_string(kVersion) + ")");
      return;
    }
  }
  if (n < kHeaderBytes) {
    fail_at(n, "truncated: the file ends inside the " + std::to_string(kHeaderBytes) + "-byte header");
    return;
  }
  const auto flags = load_le<std::uint16_t>(h + kFlagsAt);
  if ((flags & ~kKnownFlags) != 0) {
    fail_at(kFlagsAt, "unknown header flags " + hex(flags & ~kKnownFlags) + " (this dartlab knows " + hex(kKnownFlags) +
                          ": zstd)");
    return;
  }
  zstd_flag_ = (flags & kFlagZstd) != 0;
  const auto table_bytes = load_le<std::uint32_t>(h + kTableBytesAt);
  if (table_bytes > kMaxTableBytes) {
    fail_at(kTableBytesAt, "device table of " + std::to_string(table_bytes) + " bytes exceeds the limit of " +
                               std::to_string(kMaxTableBytes));
    return;
  }
  std::uint8_t* table = raw_buffer(table_bytes);
  const long table_got = read_fully(table, table_bytes);
  if (table_got < 0) return;
  if (static_cast<std::size_t>(table_got) < table_bytes) {
    fail_at(offset_, "truncated: the file ends inside the device table (" + std::to_string(table_got) + " of " +
                         std::to_string(table_bytes) + " bytes)");
    return;
  }
  if (checksum(table, table_bytes, load_le<std::uint64_t>(h + kVersionAt)) != load_le<std::uint32_t>(h + kHeaderChecksumAt)) {
    fail_at(kHeaderChecksumAt, "header checksum mismatch (the version, flags or device table are damaged)");
    return;
  }
  declared_ = load_le<std::uint64_t>(h + kEventCountAt);
  declared_known_ = declared_ != kUnknownEvents;

  region_at_ = kHeaderBytes;
  region_compressed_ = false;
  end_ = table + table_bytes;  // define_device checks names against it
  for (const std::uint8_t* p = table; p < end_;) {
    if (!define_device(p, p)) return;
  }
  cur_ = end_ = nullptr;  // no records yet: next() loads the first chunk
}

bool BinaryTraceReader::define_device(const std::uint8_t* at, const std::uint8_t*& p) {
  std::uint64_t n = 0;
  p = get_varint(p, n);
  if (p > end_) {
    bad_record(at, "truncated device name record");
    return false;
  }
  if (n == 0 || n > kMaxDeviceNameBytes || n > static_cast<std::uint64_t>(end_ - p)) {
    bad_record(at, "device name of " + std::to_string(n) + " bytes " +
                       (n == 0 ? std::string("is empty")
                               : n > kMaxDeviceNameBytes ? "exceeds " + std::to_string(kMaxDeviceNameBytes)
                                                         : "runs past the end of its chunk"));
    return false;
  }
  const std::string_view name(reinterpret_cast<const char*>(p), n);
  if (!valid_device_name(name)) {
    constexpr std::size_t kShown = 60;
    bad_record(at, "device name must be letters, digits and ':._-', got '" + std::string(name.substr(0, kShown)) +
                       (name.size() > kShown ? "...'" : "'"));
    return false;
  }
  if (devices_.size() == kMaxDevices) {
    bad_record(at, "more than " + std::to_string(kMaxDevices) + " devices");
    return false;
  }
  if (!device_names_.emplace(name).second) {
    bad_record(at, "device '" + std::string(name) + "' is defined twice");
    return false;
  }
  devices_.emplace_back(name);
  device_defined_ = prev_device_ < devices_.size();
  p += n;
  return true;
}

bool BinaryTraceReader::load_chunk() {
  chunk_at_ = offset_;
  std::uint8_t h[kChunkHeaderBytes];
  const long got = read_fully(h, sizeof h);
  if (got < 0) return false;
  if (got == 0) {
    return fail_at(chunk_at_, "truncated: the file ends after " + std::to_string(events_seen_) +
                                  " events without the end chunk (the writer did not finish)");
  }
  if (static_cast<std::size_t>(got) < sizeof h) return fail_at(chunk_at_, "truncated: the file ends inside a chunk header");
  const auto raw_bytes = load_le<std::uint32_t>(h);
  const auto stored_bytes = load_le<std::uint32_t>(h + 4);
  const auto sum = load_le<std::uint32_t>(h + 8);
  if (raw_bytes == 0) {
    read_end_chunk(stored_bytes, sum, load_le<std::uint64_t>(h));
    return false;
  }
  if (raw_bytes > kMaxChunkRawBytes) {
    return fail_at(chunk_at_, "chunk of " + std::to_string(raw_bytes) + " raw bytes exceeds the limit of " +
                                  std::to_string(kMaxChunkRawBytes));
  }
  // stored == raw: stored as it is; stored < raw: a zstd frame (zstd traces only).
  const bool compressed = stored_bytes != raw_bytes;
  if (compressed && !zstd_flag_) {
    return fail_at(chunk_at_, "chunk stores " + std::to_string(stored_bytes) + " bytes for " +
                                  std::to_string(raw_bytes) + " raw bytes in an uncompressed trace");
  }
  if (compressed && (stored_bytes > raw_bytes || stored_bytes == 0)) {
    return fail_at(chunk_at_, "chunk stores " + std::to_string(stored_bytes) + " bytes for " +
                                  std::to_string(raw_bytes) + " raw bytes (a zstd chunk must be smaller, and not empty)");
  }
  std::uint8_t* raw = raw_buffer(raw_bytes);
  std::uint8_t* dst = raw;
  if (compressed) {
    if (stored_.size() < stored_bytes) stored_.resize(stored_bytes);
    dst = stored_.data();
  }
  const long payload = read_fully(dst, stored_bytes);
  if (payload < 0) return false;
  if (static_cast<std::size_t>(payload) < stored_bytes) {
    return fail_at(chunk_at_, "truncated: the file ends inside a chunk (" + std::to_string(payload) + " of " +
                                  std::to_string(stored_bytes) + " payload bytes)");
  }
  if (compressed) {
    const unsigned long long frame = ZSTD_getFrameContentSize(dst, stored_bytes);
    if (frame == ZSTD_CONTENTSIZE_ERROR) return fail_at(chunk_at_, "chunk payload is not a zstd frame");
    if (frame != raw_bytes) {
      return fail_at(chunk_at_, "zstd frame holds " + (frame == ZSTD_CONTENTSIZE_UNKNOWN ? "an unknown number of" : std::to_string(frame)) +
                                    " bytes, the chunk header says " + std::to_string(raw_bytes));
    }
    if (!zstd_) zstd_ = std::make_unique<ZstdContext>();
    if (zstd_->dctx == nullptr) return fail_at(chunk_at_, "zstd: cannot create a decompression context");
    const std::size_t out = ZSTD_decompressDCtx(zstd_->dctx, raw, raw_bytes, dst, stored_bytes);
    if (ZSTD_isError(out)) return fail_at(chunk_at_, std::string("zstd: ") + ZSTD_getErrorName(out));
    if (out != raw_bytes) {
      return fail_at(chunk_at_, "zstd frame holds " + std::to_string(out) + " bytes, the chunk header says " +
                                    std::to_string(raw_bytes));
    }
  }
  if (checksum(raw, raw_bytes, load_le<std::uint64_t>(h)) != sum) return fail_at(chunk_at_, "chunk checksum mismatch");

  cur_ = raw;
  end_ = raw + raw_bytes;
  region_at_ = chunk_at_ + kChunkHeaderBytes;
  region_compressed_ = compressed;
  prev_time_ = prev_id_ = prev_gpa_ = 0;
  prev_device_ = 0;
  device_defined_ = !devices_.empty();
  return true;
}

void BinaryTraceReader::read_end_chunk(std::uint32_t stored_bytes, std::uint32_t sum, std::uint64_t seed) {
  if (stored_bytes != kEndPayloadBytes) {
    fail_at(chunk_at_, "end chunk stores " + std::to_string(stored_bytes) + " bytes (it holds the " +
                           std::to_string(kEndPayloadBytes) + "-byte event count)");
    return;
  }
  std::uint8_t count_bytes[kEndPayloadBytes];
  const long got = read_fully(count_bytes, sizeof count_bytes);
  if (got < 0) return;
  if (static_cast<std::size_t>(got) < sizeof count_bytes) {
    fail_at(chunk_at_, "truncated: the file ends inside the end chunk");
    return;
  }
  if (checksum(count_bytes, sizeof count_bytes, seed) != sum) {
    fail_at(chunk_at_, "end chunk checksum mismatch");
    return;
  }
  const auto count = load_le<std::uint64_t>(count_bytes);
  if (count != events_seen_) {
    fail_at(chunk_at_, "the end chunk counts " + std::to_string(count) + " events, the file holds " +
                           std::to_string(events_seen_));
    return;
  }
  if (declared_known_ && declared_ != count) {
    fail_at(kEventCountAt, "the header declares " + std::to_string(declared_) + " events, the file holds " +
                               std::to_string(count));
    return;
  }
  std::uint8_t extra;
  const long more = read_fully(&extra, 1);
  if (more < 0) return;
  if (more > 0) {
    fail_at(offset_ - 1, "unexpected data after the end chunk");
    return;
  }
  state_ = State::End;
}

}  // namespace dartlab::trace
