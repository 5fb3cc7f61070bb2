// SPDX-License-Identifier: MIT
#include "traces/binary_writer.hpp"

#include <fcntl.h>
#include <zstd.h>

#include <bit>
#include <cstring>

#include "traces/binary_format.hpp"
#include "traces/printable.hpp"

namespace dartlab::trace {
namespace {

using namespace binary;

// A GPA delta as a zigzag varint value, in bytes (shift 0) or 4 KiB pages (shift 12, exact:
// the caller checked that the low 12 bits are zero).
inline std::uint64_t coded_delta(std::uint64_t delta, unsigned shift) {
  return zigzag(static_cast<std::uint64_t>(static_cast<std::int64_t>(delta) >> shift));
}

constexpr std::uint64_t kPageMask = (std::uint64_t{1} << kPageShift) - 1;

}  // namespace

struct BinaryTraceWriter::ZstdContext {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~ZstdContext() { ZSTD_freeCCtx(cctx); }
};

BinaryTraceWriter::BinaryTraceWriter(std::FILE* out, BinaryWriterOptions options)
    : out_(out), options_(options), chunk_(std::make_unique_for_overwrite<std::uint8_t[]>(kWriterChunkBytes)) {
  if (options_.zstd) {
    zstd_ = std::make_unique<ZstdContext>();
    if (zstd_->cctx == nullptr) failed_ = true;
    compressed_capacity_ = ZSTD_compressBound(kWriterChunkBytes);
    compressed_ = std::make_unique_for_overwrite<std::uint8_t[]>(compressed_capacity_);
  }
}

BinaryTraceWriter::~BinaryTraceWriter() {
  if (!finished_) flush();
}

void BinaryTraceWriter::set_devices(std::span<const std::string> devices) {
  // An index whose name changes (a "devN" stand-in that got its name, say) maps anew.
  for (std::size_t i = 0; i < file_index_.size(); ++i) {
    if (i >= devices.size() || i >= devices_.size() || devices[i] != devices_[i]) file_index_[i] = kUnassigned;
  }
  devices_.assign(devices.begin(), devices.end());
}

std::string BinaryTraceWriter::device_name(std::size_t device) const {
  return device < devices_.size() ? devices_[device] : "dev" + std::to_string(device);
}

void BinaryTraceWriter::put(const void* data, std::size_t n) {
  if (!failed_ && n != 0 && std::fwrite(data, 1, n, out_) != n) failed_ = true;
}

void BinaryTraceWriter::start() {
  started_ = true;
  header_at_ = std::ftell(out_);
  // In append mode every write lands at the end: the header could not be patched in place.
  if (const int fd = ::fileno(out_); fd >= 0) {
    const int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_APPEND) != 0) header_at_ = -1;
  }

  // The device table: the names known now, as many as fit; later ones go inline.
  std::vector<std::uint8_t> table;
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    const std::string& name = devices_[i];
    if (file_index_by_name_.contains(name)) continue;
    const std::size_t entry = varint_bytes(name.size()) + name.size();
    if (!valid_device_name(name) || file_index_by_name_.size() == kMaxDevices || table.size() + entry > kMaxTableBytes) {
      continue;  // defined inline at its first use, or found broken there
    }
    table.resize(table.size() + entry);
    std::uint8_t* p = put_varint(table.data() + table.size() - entry, name.size());
    std::memcpy(p, name.data(), name.size());
    file_index_by_name_.emplace(name, static_cast<std::uint16_t>(file_index_by_name_.size()));
  }

  std::uint8_t header[kHeaderBytes];
  std::memcpy(header, kBinaryMagic.data(), kBinaryMagic.size());
  store_le<std::uint16_t>(header + kVersionAt, kVersion);
  store_le<std::uint16_t>(header + kFlagsAt, options_.zstd ? kFlagZstd : 0);
  store_le<std::uint32_t>(header + kTableBytesAt, static_cast<std::uint32_t>(table.size()));
  store_le<std::uint64_t>(header + kEventCountAt, kUnknownEvents);
  store_le<std::uint32_t>(header + kHeaderChecksumAt,
                          checksum(table.data(), table.size(), load_le<std::uint64_t>(header + kVersionAt)));
  put(header, sizeof header);
  put(table.data(), table.size());
}

void BinaryTraceWriter::end_chunk() {
  if (used_ == 0) return;
  const std::uint8_t* payload = chunk_.get();
  std::size_t stored = used_;
  if (zstd_ && zstd_->cctx != nullptr) {
    const std::size_t z = ZSTD_compressCCtx(zstd_->cctx, compressed_.get(), compressed_capacity_, chunk_.get(), used_,
                                            options_.zstd_level);
    // A chunk zstd cannot shrink is stored as it is (stored == raw says which).
    if (!ZSTD_isError(z) && z < used_) {
      payload = compressed_.get();
      stored = z;
    }
  }
  std::uint8_t header[kChunkHeaderBytes];
  store_le<std::uint32_t>(header, static_cast<std::uint32_t>(used_));
  store_le<std::uint32_t>(header + 4, static_cast<std::uint32_t>(stored));
  store_le<std::uint32_t>(header + 8, checksum(chunk_.get(), used_, load_le<std::uint64_t>(header)));
  put(header, sizeof header);
  put(payload, stored);
  used_ = 0;
  prev_time_ = prev_id_ = prev_gpa_ = 0;
  prev_device_ = 0;
}

void BinaryTraceWriter::reserve(std::size_t bytes) {
  if (used_ + bytes > kWriterChunkBytes) end_chunk();
}

void BinaryTraceWriter::define_device(const std::string& name) {
  if (!valid_device_name(name) || file_index_by_name_.size() == kMaxDevices) {
    failed_ = true;  // a broken precondition: the file could not be read back
    if (!failure_.empty()) return;
    if (file_index_by_name_.size() == kMaxDevices) {
      failure_ = "more than " + std::to_string(kMaxDevices) + " devices: the binary format's limit";
    } else if (name.size() > kMaxDeviceNameBytes) {
      failure_ = "the device name " + quoted(name) + " is " + std::to_string(name.size()) +
                 " bytes long: the binary format's limit is " + std::to_string(kMaxDeviceNameBytes) +
                 " bytes (write a text trace instead: --to text)";
    } else {
      failure_ = "the device name " + quoted(name) + " is not one a trace can hold (letters, digits and ':._-', 1 to " +
                 std::to_string(kMaxDeviceNameBytes) + " bytes)";
    }
    return;
  }
  reserve(1 + kMaxVarintBytes + name.size());
  std::uint8_t* p = chunk_.get() + used_;
  *p++ = kTagDevice;
  p = put_varint(p, name.size());
  std::memcpy(p, name.data(), name.size());
  used_ = static_cast<std::size_t>(p + name.size() - chunk_.get());
  file_index_by_name_.emplace(name, static_cast<std::uint16_t>(file_index_by_name_.size()));
}

std::uint16_t BinaryTraceWriter::file_device(std::uint16_t device) {
  if (device < file_index_.size() && file_index_[device] != kUnassigned) [[likely]] {
    return static_cast<std::uint16_t>(file_index_[device]);
  }
  if (device >= file_index_.size()) file_index_.resize(std::size_t{device} + 1, kUnassigned);
  const std::string name = device_name(device);
  auto it = file_index_by_name_.find(name);
  if (it == file_index_by_name_.end()) {
    define_device(name);
    it = file_index_by_name_.find(name);
    if (it == file_index_by_name_.end()) return 0;  // could not define it; failed_ is set
  }
  file_index_[device] = it->second;
  return it->second;
}

void BinaryTraceWriter::write(const Event& ev) {
  if (!started_) start();
  const EventKind kind = ev.kind;
  if (kind == EventKind::MapSg && ev.segments.size() > kMaxSegments) [[unlikely]] {
    failed_ = true;  // a broken precondition; the record would not fit a chunk
    if (failure_.empty())
      failure_ = "a map_sg of " + std::to_string(ev.segments.size()) + " segments: the binary format's limit is " +
                 std::to_string(kMaxSegments);
    return;
  }
  const std::uint16_t device = is_map_kind(kind) ? file_device(ev.device) : 0;
  reserve(max_record_bytes(kind == EventKind::MapSg ? ev.segments.size() : 0));

  std::uint8_t* const tag_at = chunk_.get() + used_;
  std::uint8_t* p = tag_at + 1;
  auto tag = static_cast<std::uint8_t>(kind);
  if (has_dir(kind)) tag |= static_cast<std::uint8_t>((static_cast<unsigned>(ev.dir) & 3) << kDirShift);
  std::uint8_t extras = 0;
  if (is_map_kind(kind)) {
    if (ev.align_bytes != 0) extras = static_cast<std::uint8_t>(std::countr_zero(ev.align_bytes) + 1);
    if (device != prev_device_) extras |= kExtrasDeviceBit;
  }
  if (extras != 0) {
    tag |= kExtrasBit;
    *p++ = extras;
  }
  if (ev.has_time) {
    tag |= kTimeBit;
    p = put_varint(p, zigzag(ev.time_ns - prev_time_));
    prev_time_ = ev.time_ns;
  }
  p = put_varint(p, zigzag(ev.id - prev_id_));
  prev_id_ = ev.id;
  if ((extras & kExtrasDeviceBit) != 0) {
    p = put_varint(p, device);
    prev_device_ = device;
  }

  if (has_range(kind)) {
    const std::uint64_t delta = ev.gpa - prev_gpa_;
    const unsigned shift = ((delta | ev.len_bytes) & kPageMask) == 0 ? kPageShift : 0;
    if (shift != 0) tag |= kPagesBit;
    p = put_varint(p, coded_delta(delta, shift));
    p = put_varint(p, ev.len_bytes >> shift);
    prev_gpa_ = ev.gpa;
  } else if (kind == EventKind::MapSg) {
    std::uint64_t low_bits = 0;
    std::uint64_t gpa = prev_gpa_;
    for (const Segment& s : ev.segments) {
      low_bits |= (s.gpa - gpa) | s.len_bytes;
      gpa = s.gpa;
    }
    const unsigned shift = (low_bits & kPageMask) == 0 ? kPageShift : 0;
    if (shift != 0) tag |= kPagesBit;
    p = put_varint(p, ev.segments.size());
    for (const Segment& s : ev.segments) {
      p = put_varint(p, coded_delta(s.gpa - prev_gpa_, shift));
      p = put_varint(p, s.len_bytes >> shift);
      prev_gpa_ = s.gpa;
    }
  }
  *tag_at = tag;
  used_ = static_cast<std::size_t>(p - chunk_.get());
  ++events_;
}

void BinaryTraceWriter::comment(std::string_view text) {
  if (!started_) start();
  text = text.substr(0, kMaxCommentBytes);
  reserve(1 + kMaxVarintBytes + text.size());
  std::uint8_t* p = chunk_.get() + used_;
  *p++ = kTagComment;
  p = put_varint(p, text.size());
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  used_ = static_cast<std::size_t>(p + text.size() - chunk_.get());
}

bool BinaryTraceWriter::flush() {
  if (!started_) start();
  end_chunk();
  if (std::fflush(out_) != 0 || std::ferror(out_)) failed_ = true;
  return !failed_;
}

bool BinaryTraceWriter::finish() {
  if (finished_) return !failed_;
  if (!started_) start();
  end_chunk();
  finished_ = true;
  std::uint8_t end[kChunkHeaderBytes + kEndPayloadBytes];
  store_le<std::uint32_t>(end, 0);
  store_le<std::uint32_t>(end + 4, static_cast<std::uint32_t>(kEndPayloadBytes));
  store_le<std::uint64_t>(end + kChunkHeaderBytes, events_);
  store_le<std::uint32_t>(end + 8, checksum(end + kChunkHeaderBytes, kEndPayloadBytes, load_le<std::uint64_t>(end)));
  put(end, sizeof end);
  if (std::fflush(out_) != 0 || std::ferror(out_)) failed_ = true;
  if (failed_ || header_at_ < 0) return !failed_;

  // Seekable: the header learns the count too, so that readers know it before they start.
  const long end_at = std::ftell(out_);
  if (end_at < 0 || std::fseek(out_, header_at_ + static_cast<long>(kEventCountAt), SEEK_SET) != 0) {
    std::clearerr(out_);
    return true;  // not seekable after all: the end chunk alone carries the count
  }
  std::uint8_t count[8];
  store_le<std::uint64_t>(count, events_);
  put(count, sizeof count);
  if (std::fseek(out_, end_at, SEEK_SET) != 0 || std::fflush(out_) != 0 || std::ferror(out_)) failed_ = true;
  return !failed_;
}

}  // namespace dartlab::trace
