// Synthetic DMA workloads: deterministic per seed, streamed one event at a time.
//
// A generator keeps only its live requests (and a bitmap of guest RAM, one bit per 4 KiB), never
// the events it has produced, and allocates nothing per event once its live set has grown.
// Every stream is well-formed for replay: ids increase from 1 and are never reused, every
// unmap/free names a live request of the matching kind (Unmap for Map, UnmapSg for MapSg, Free for
// Alloc), lengths are > 0 and ranges lie in guest RAM. No Access events yet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "traces/event.hpp"

namespace dartlab::trace::gen {

// One flat set of knobs for all profiles; a profile ignores the fields of others.
struct GenParams {
  // --- every profile ---
  std::uint64_t events = 100000;  // events in the stream, drain included
  std::uint64_t seed = 1;
  // The last events release whatever is still live, so that the stream ends with nothing live.
  // Needs an even `events`: each request is one map and one unmap event.
  bool drain = true;
  // Guest RAM. 16 GiB: a guess at a gaming VM. 0x4000'0000: a guess, QEMU's arm64 `virt` machine
  // puts RAM at 1 GiB.
  std::uint64_t guest_ram_bytes = std::uint64_t{16} << 30;
  std::uint64_t ram_base = 0x4000'0000;
  // Memory model (see guest_memory.hpp): clustered 4 KiB pages come from one cluster of this size
  // at a time. 2 MiB: the arm64 huge page / buddy pageblock size. Power of two, 256 KiB .. 1 GiB.
  std::uint64_t cluster_bytes = std::uint64_t{2} << 20;
  // A cluster is left once this fraction of its pages is in use. 0.25 is a guess, tuned so that
  // 256 KiB windows cut live 4 KiB mappings about 4x, as observed with the apple_dma module.
  double cluster_fill = 0.25;

  // --- game: churn of mostly 4 KiB dma_map_page, with level loads ---
  // Live requests in steady state: churn keeps the live set within live_target +- live_target/16
  // (pulled toward live_target), below it only in a level load, and at most one above it.
  // 24,000: a guess matching "tens of thousands of 4 KiB mappings" at high settings, sized so
  // that window:256K keeps the bytes within the host's 1.5 GiB, as observed with the apple_dma
  // module ("the extra bytes still fit"); 40,000 with these clusters needs about 2.4 GiB.
  std::uint64_t live_target = 24000;
  // Shares of new requests (the rest are 64 KiB .. 2 MiB maps). Over 90% 4 KiB: observed.
  double small_fraction = 0.94;  // 4 KiB dma_map_page
  double sg_fraction = 0.005;    // dma_map_sg of 2..8 segments of 4..16 KiB
  double alloc_fraction = 0.01;  // dma_alloc_coherent, 64 KiB .. 2 MiB
  // Level loads: once the working set is full, about this many events (+-25%; 0: never) of
  // churn pass, then level_load_fraction of the live set is unmapped in one burst and mapped
  // again at new addresses. Guesses.
  std::uint64_t level_load_every = 50000;
  double level_load_fraction = 0.75;

  // --- buffers: a few large long-lived buffers, then small transfers within them ---
  // buffer_count dma_map_sg buffers of buffer_min_bytes .. buffer_max_bytes (uniform, 16 KiB
  // steps), each made of naturally aligned runs of 16 KiB .. 2 MiB pages. Guesses.
  std::uint32_t buffer_count = 8;
  std::uint64_t buffer_min_bytes = std::uint64_t{16} << 20;
  std::uint64_t buffer_max_bytes = std::uint64_t{256} << 20;
  // big_alloc_count dma_alloc_coherent of big_alloc_bytes (a power of two). Guesses.
  std::uint32_t big_alloc_count = 2;
  std::uint64_t big_alloc_bytes = std::uint64_t{32} << 20;
  // dma_map_page transfers of a power of two in this range, within one run of a buffer (shorter
  // when the run is), at most transfers_in_flight live at once. Guesses.
  std::uint64_t transfer_min_bytes = std::uint64_t{64} << 10;
  std::uint64_t transfer_max_bytes = std::uint64_t{1} << 20;
  std::uint32_t transfers_in_flight = 4;
};

class Generator {
 public:
  virtual ~Generator();
  // The next event, or false once `events` events have been produced. ev.segments stays valid
  // until the next call.
  virtual bool next(Event& ev) = 0;
  // BDF strings that Event::device indexes.
  virtual const std::vector<std::string>& devices() const = 0;
  // Requests live now (mapped or allocated, not yet released).
  virtual std::uint64_t live() const = 0;
};

// A generator for `profile`, or nullptr with the reason in *error (if given): an unknown profile
// (the message names the known ones) or a parameter out of range.
std::unique_ptr<Generator> make_generator(std::string_view profile, const GenParams& params,
                                          std::string* error);

std::span<const std::string_view> profile_names();
// One paragraph on what the profile models; empty for an unknown profile.
std::string_view profile_help(std::string_view profile);

}  // namespace dartlab::trace::gen
