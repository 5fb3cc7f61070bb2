// SPDX-License-Identifier: MIT
// The bytes of the dartlab binary trace, v1 (see traces/BINARY.md): magic, header fields, record
// tags, limits, and the varint, zigzag and checksum codings. Reader and writer both spell the
// format from here, so they cannot drift apart.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "traces/event.hpp"
#include "traces/text_format.hpp"

namespace dartlab::trace {

// The first eight bytes of every binary trace. Built like PNG's signature: a high-bit first byte
// (never the start of a text trace or an ftrace recording, both ASCII), "DLT", then CR LF, ^Z and
// LF, which any text-mode line-ending conversion or 7-bit transfer damages visibly.
inline constexpr std::string_view kBinaryMagic{"\x89" "DLT\r\n\x1a\n", 8};

}  // namespace dartlab::trace

namespace dartlab::trace::binary {

inline constexpr std::uint16_t kVersion = 1;

// Header flags (u16 at offset 10). Unknown bits are an error: they could change the meaning.
inline constexpr std::uint16_t kFlagZstd = 1;  // chunk payloads may be zstd frames
inline constexpr std::uint16_t kKnownFlags = kFlagZstd;

// The fixed header, little-endian:
//   0  magic (8)   8  version u16   10  flags u16   12  table_bytes u32
//   16 event count u64 (kUnknownEvents if the writer could not seek back)
//   24 checksum u32 of the device table, seeded with bytes 8..15 (not the count: finish() patches it)
// and then table_bytes bytes of device table.
inline constexpr std::size_t kHeaderBytes = 28;
inline constexpr std::size_t kVersionAt = 8;
inline constexpr std::size_t kFlagsAt = 10;
inline constexpr std::size_t kTableBytesAt = 12;
inline constexpr std::size_t kEventCountAt = 16;
inline constexpr std::size_t kHeaderChecksumAt = 24;
inline constexpr std::uint64_t kUnknownEvents = ~std::uint64_t{0};

// A chunk: raw_bytes u32, stored_bytes u32, checksum u32, then stored_bytes of payload.
// raw_bytes 0 marks the end chunk, whose payload is the u64 event count.
inline constexpr std::size_t kChunkHeaderBytes = 12;
inline constexpr std::size_t kEndPayloadBytes = 8;

// Limits, checked before anything is allocated. A chunk's raw payload: 1 MiB bounds the reader's
// memory (two buffers of it); records never span chunks, and the largest record (a map_sg of
// 4096 segments, max_record_bytes(4096) = 73,769 bytes) fits with room to spare.
inline constexpr std::size_t kMaxChunkRawBytes = std::size_t{1} << 20;
// The writer's chunk size: the per-chunk cost vanishes and a chunk stays in L2. zstd barely
// cares: 64 KiB and 1 MiB chunks are within 2% of this size (BINARY.md, measured).
inline constexpr std::size_t kWriterChunkBytes = std::size_t{256} << 10;
inline constexpr std::size_t kMaxTableBytes = kMaxChunkRawBytes;
inline constexpr std::size_t kMaxDevices = text::kMaxDevices;    // Event::device is 16 bits
inline constexpr std::size_t kMaxSegments = text::kMaxSegments;  // as in the text trace
// BDFs are 12 bytes; the text trace allows longer names, so be generous.
inline constexpr std::size_t kMaxDeviceNameBytes = 4096;
// A longer comment is cut here by the writer.
inline constexpr std::size_t kMaxCommentBytes = std::size_t{64} << 10;
// Read size when ReaderOptions::block_bytes is 0: one read(2) per chunk.
inline constexpr std::size_t kReadBlockBytes = kMaxChunkRawBytes;

// Record tags. An event record's tag byte:
//   bits 0-2 kind (EventKind; 7: a meta record)   bit 3 has time   bits 4-5 direction
//   bit 6 ranges in 4 KiB pages                   bit 7 an extras byte follows
inline constexpr std::uint8_t kKindMask = 0x07;
inline constexpr std::uint8_t kTimeBit = 0x08;
inline constexpr unsigned kDirShift = 4;
inline constexpr std::uint8_t kDirMask = 0x30;
inline constexpr std::uint8_t kPagesBit = 0x40;
inline constexpr std::uint8_t kExtrasBit = 0x80;
inline constexpr unsigned kPageShift = 12;
inline constexpr std::uint8_t kMetaKind = 7;
// Meta records (kind 7): a device name, or a comment. Every other tag with kind 7 is an error.
inline constexpr std::uint8_t kTagDevice = 0x07;
inline constexpr std::uint8_t kTagComment = 0x0f;
// The extras byte: bits 0-6 alignment code (0: none; c in 1..64: 2^(c-1) bytes), bit 7 a device
// index follows.
inline constexpr std::uint8_t kExtrasAlignMask = 0x7f;
inline constexpr std::uint8_t kExtrasDeviceBit = 0x80;
inline constexpr std::uint8_t kMaxAlignCode = 64;

// Which tag bits each event kind may set; a set bit outside its mask is an error.
inline constexpr std::array<std::uint8_t, kEventKindCount> kAllowedTagBits = {
    kKindMask | kTimeBit | kDirMask | kPagesBit | kExtrasBit,  // map
    kKindMask | kTimeBit,                                      // unmap
    kKindMask | kTimeBit | kDirMask | kPagesBit | kExtrasBit,  // map_sg
    kKindMask | kTimeBit,                                      // unmap_sg
    kKindMask | kTimeBit | kPagesBit | kExtrasBit,             // alloc
    kKindMask | kTimeBit,                                      // free
    kKindMask | kTimeBit | kDirMask | kPagesBit,               // access
};
constexpr bool has_range(EventKind k) { return k == EventKind::Map || k == EventKind::Alloc || k == EventKind::Access; }
constexpr bool has_dir(EventKind k) { return k == EventKind::Map || k == EventKind::MapSg || k == EventKind::Access; }

// The most bytes an event record with `segments` segments can take: tag, extras, time, id,
// device (a 16-bit index), GPA and LEN (or the segment count); then two varints a segment.
constexpr std::size_t kMaxFixedRecordBytes = 1 + 1 + 9 + 9 + 3 + 9 + 9;
constexpr std::size_t max_record_bytes(std::size_t segments) { return kMaxFixedRecordBytes + 18 * segments; }

// Device names follow the text trace's DEVICE rule (FORMAT.md): letters, digits and ':._-'.
constexpr bool is_device_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '.' || c == '_' || c == '-';
}
constexpr bool valid_device_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxDeviceNameBytes) return false;
  for (char c : name) {
    if (!is_device_char(c)) return false;
  }
  return true;
}

// Varints are prefix varints: the number of trailing zero bits of the first byte, plus one, is
// the length n in bytes. For n = 1..8 the n bytes, little-endian, hold (v << n) | 1 << (n - 1):
// 7n bits of value. A first byte of 0 (n = 9) is followed by v as eight little-endian bytes.
// As compact as LEB128, and decoded with one load, one count and two shifts, no loop.
inline constexpr std::size_t kMaxVarintBytes = 9;
constexpr std::size_t varint_bytes(std::uint64_t v) {
  const auto bits = static_cast<std::size_t>(std::bit_width(v | 1));
  return bits > 56 ? 9 : (bits + 6) / 7;
}
inline std::uint8_t* put_varint(std::uint8_t* p, std::uint64_t v) {
  const std::size_t n = varint_bytes(v);
  std::uint64_t x = v;
  if (n == 9) {
    *p++ = 0;
  } else {
    x = (v << n) | (std::uint64_t{1} << (n - 1));
  }
  for (std::size_t i = 0; i < (n == 9 ? 8 : n); ++i) p[i] = static_cast<std::uint8_t>(x >> (8 * i));
  return p + (n == 9 ? 8 : n);
}
// Zigzag folds a signed delta into an unsigned varint: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
constexpr std::uint64_t zigzag(std::uint64_t delta) {
  return (delta << 1) ^ (0 - (delta >> 63));
}
constexpr std::uint64_t unzigzag(std::uint64_t v) { return (v >> 1) ^ (0 - (v & 1)); }

// Little-endian fixed-width fields.
template <typename T>
inline T load_le(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) {
    T r = 0;
    for (std::size_t i = 0; i < sizeof v; ++i) r = static_cast<T>(r << 8 | ((v >> (8 * i)) & 0xff));
    v = r;
  }
  return v;
}
template <typename T>
inline void store_le(void* p, T v) {
  auto* b = static_cast<std::uint8_t*>(p);
  for (std::size_t i = 0; i < sizeof v; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

// The low n bytes, for n = 1..8.
inline constexpr auto kVarintBytesMask = [] {
  std::array<std::uint64_t, 8> m{};
  for (unsigned t = 0; t < m.size(); ++t) m[t] = ~std::uint64_t{0} >> (56 - 8 * t);
  return m;
}();

// The varint at p, into v; returns the byte after it. Reads p[0, 9) whatever its length: the
// caller pads.
[[gnu::always_inline]] inline const std::uint8_t* get_varint(const std::uint8_t* p, std::uint64_t& v) {
  const auto x = load_le<std::uint64_t>(p);
  if ((x & 1) != 0) {  // one byte: ids counting up, lengths of a page
    v = (x & 0xff) >> 1;
    return p + 1;
  }
  const auto t = static_cast<unsigned>(std::countr_zero(static_cast<std::uint32_t>(x) | 0x100));  // n - 1
  if (t == 8) [[unlikely]] {
    v = load_le<std::uint64_t>(p + 1);
    return p + 9;
  }
  v = (x & kVarintBytesMask[t]) >> (t + 1);  // the n bytes, less the n length bits
  return p + t + 1;
}

// XXH64 (xxHash, Yann Collet; the hash zstd uses for its frame checksums) of `n` bytes.
std::uint64_t xxh64(const void* data, std::size_t n, std::uint64_t seed);
// Every checksum in the format: the low 32 bits of XXH64 of the payload, seeded with the eight
// bytes of lengths in front of it, so that a damaged length fails the check too.
inline std::uint32_t checksum(const void* payload, std::size_t n, std::uint64_t seed) {
  return static_cast<std::uint32_t>(xxh64(payload, n, seed));
}

}  // namespace dartlab::trace::binary
