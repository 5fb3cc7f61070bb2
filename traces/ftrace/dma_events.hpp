// SPDX-License-Identifier: MIT
// The payloads of the dma:* events (Linux 6.12 and later, include/trace/events/dma.h), every
// format each has had, read into one record; and the segments a scatter-gather event maps.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "traces/event.hpp"
#include "traces/ftrace/ftrace_events.hpp"
#include "traces/line_import/fields.hpp"

namespace dartlab::trace::ftrace {

using line_import::PayloadError;

// What a dma:* payload says. Fields an event does not print keep their defaults.
struct DmaRecord {
  std::string_view device;  // dev_name(): a PCI BDF such as 0000:01:00.0, or a platform name
  Direction dir = Direction::Bidirectional;
  bool dir_printed = false;  // dma_alloc and dma_free before "trace dma_alloc/free direction"
  std::uint64_t dma_addr = 0;
  std::uint64_t size_bytes = 0;
  // dma_map_*, and dma_alloc / dma_free as first released (6.12-rc1): the CPU physical address.
  bool has_phys = false;
  std::uint64_t phys_addr = 0;
  // dma_alloc* printed virt_addr as a %p that is all zeros: a failed allocation (traced since the
  // "trace more error paths" change).
  bool virt_is_null = false;
  // Lists (views into the ArrayScratch given to the parser).
  std::span<const std::uint64_t> phys_addrs;  // dma_map_sg, dma_unmap_sg, dma_*_sgt: sg_phys() of each entry
  std::span<const std::uint64_t> dma_addrs;   // dma_map_sg: sg_dma_address() of each DMA segment
  std::span<const std::uint64_t> sizes;       // dma_map_sg: sg_dma_len() of each DMA segment
  // dma_map_sg: the entries and DMA segments the call had. "nents=128/300" says 300 while only
  // 128 are printed ("[TRUNCATED]", since the cap of 2026); older formats print them all.
  std::uint64_t nents = 0;
  std::uint64_t ents = 0;
  bool truncated = false;
  // Where the fields are in the line, for messages.
  const char* size_at = nullptr;
  const char* phys_at = nullptr;   // phys_addr= or phys_addrs=
  const char* sizes_at = nullptr;  // sizes=
};

// Reused storage for the lists, so that parsing allocates nothing once warmed up.
struct ArrayScratch {
  std::vector<std::uint64_t> phys_addrs;
  std::vector<std::uint64_t> dma_addrs;
  std::vector<std::uint64_t> sizes;
};

// Reads the payload of a dma:* event of `type` (named `name` in messages) into `out`, which must
// be a fresh DmaRecord (fields the event does not print keep their defaults). False with `error`
// set when a field the format prints is missing or malformed, or the values make no sense
// (zero size, a range past 2^64, dir=NONE on a mapping, lists that disagree). Fields no format
// prints are ignored, so that a kernel adding one does not break the import.
bool parse_dma_payload(EventType type, std::string_view name, std::string_view payload, ArrayScratch& scratch,
                       DmaRecord& out, PayloadError& error);

// How the segments of a scatter-gather event were found.
enum class SegmentGuess : std::uint8_t {
  Exact,         // one segment per entry, with its own length
  EqualShares,   // entries outnumber the lengths printed: equal shares of their total (IMPORT.md)
};

// The guest-physical segments of a dma_map_sg (entry i with DMA segment i when no segments were
// merged, else equal shares of the mapped bytes) or a dma_alloc_sgt (equal shares of size), at
// most `max_segments` of them. False with `error` set when a segment is empty or ends past 2^64.
bool sg_segments(EventType type, std::string_view name, const DmaRecord& record, std::size_t max_segments,
                 std::vector<Segment>& out, SegmentGuess& guess, PayloadError& error);

// The key a dma_map_sg and its dma_unmap_sg share: the scatterlist's entry count and the
// physical addresses of its first (up to 128, what the newest dma_map_sg prints) entries.
std::uint64_t sg_key(std::span<const std::uint64_t> phys_addrs, std::uint64_t entries);

}  // namespace dartlab::trace::ftrace
