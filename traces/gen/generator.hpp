// SPDX-License-Identifier: MIT
// Synthetic DMA workloads shaped by what is known of the NVIDIA driver (BACKGROUND.md):
// deterministic per seed, streamed one event at a time.
//
// A generator keeps only its live requests and a model of guest memory (buddy_allocator.hpp,
// guest_memory.hpp), never the events it has produced, and allocates nothing per event once its
// live set has grown. Every stream is well-formed for replay: ids increase from 1 and are never
// reused, every unmap/free names a live request of the matching kind (Unmap for Map, UnmapSg for
// MapSg, Free for Alloc), lengths are > 0 and ranges lie in guest RAM. No Access events yet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "traces/event.hpp"

namespace dartlab::trace::gen {

// One flat set of knobs for all profiles; a profile ignores the fields of others. gen_knobs
// below names each one for the command line.
struct GenParams {
  // --- every profile ---
  // Events in the stream, drain included. 1 M: enough for the default game to reach its full
  // working set, go through level loads and drain (its calibration, generator.cpp).
  std::uint64_t events = 1000000;
  std::uint64_t seed = 1;
  // The last events release whatever is still live, so that the stream ends with nothing live.
  // Needs an even `events`: each request is one map and one unmap event.
  bool drain = true;
  // Guest RAM. 16 GiB: a guess at a gaming VM. 0x4000'0000: QEMU's arm64 `virt` machine puts
  // RAM at 1 GiB.
  std::uint64_t guest_ram_bytes = std::uint64_t{16} << 30;
  std::uint64_t ram_base = 0x4000'0000;
  // The guest's per-CPU page list (buddy_allocator.hpp). 63: Linux's zone_batchsize for any
  // zone of 256 MiB or more with 4 KiB pages; 378 = 6 x batch, as Linux set it before 5.14 (newer
  // kernels scale it with the zone's watermarks). 0 turns the list off.
  std::uint32_t pcp_batch = 63;
  std::uint32_t pcp_high = 378;
  // The rest of the guest (guest_memory.hpp): it allocates 0 .. 2 x this many pages before
  // each allocation of the driver, and keeps this many live per live allocation of the driver.
  // 2: a guess, fitted with live_target to the host's limits (generator.cpp).
  double other_per_alloc = 2.0;

  // --- game, game-large: churn of mostly 4 KiB dma_map_page, with level loads ---
  // Live requests in steady state: churn keeps the live set within live_target +- live_target/16
  // (pulled toward live_target), below it only in a level load. 104,000: fitted (generator.cpp)
  // so that the direct policy needs more than 65,536 host mappings while window:256K needs
  // fewer and under 1.5 GiB, the host limits observed with the apple_dma module.
  std::uint64_t live_target = 104000;
  // Shares of new requests (the rest are 64 KiB .. 2 MiB maps). Over 90% 4 KiB: observed; 99%
  // and the rest: guesses, the larger requests kept rare as each takes a window or more.
  double small_fraction = 0.99;   // 4 KiB dma_map_page
  double sg_fraction = 0.004;     // dma_map_sg of 2..8 runs of 4..16 KiB
  double alloc_fraction = 0.002;  // dma_alloc_coherent, 64 KiB .. 2 MiB
  // Level loads: once the working set is full, about this many events (+-25%; 0: never) of
  // churn pass, then level_load_fraction of the live set is unmapped in one burst and mapped
  // again. Guesses.
  std::uint64_t level_load_every = 50000;
  double level_load_fraction = 0.75;
  // game-large only: a resident pool of this many bytes (dma_map_sg buffers of up to 64 MiB)
  // mapped first and kept to the end, on top of the game's working set. 1 GiB: a guess that puts
  // the live set well past the host's 1.5 GiB, as Horizon Zero Dawn Remastered's is (observed).
  std::uint64_t resident_bytes = std::uint64_t{1} << 30;

  // --- llm (also called buffers), and game-large's resident pool ---
  // The driver allocates pinned system memory in chunks of its page size (nv_alloc_system_pages
  // at get_order(page_size)); 64 KiB, the GPU's big page: a guess at the size it picks for
  // large buffers. A power of two, 4 KiB .. 4 MiB.
  std::uint64_t chunk_bytes = std::uint64_t{64} << 10;
  // buffer_count dma_map_sg buffers of buffer_min_bytes .. buffer_max_bytes (uniform, whole
  // chunks): weights staging. Guesses.
  std::uint32_t buffer_count = 4;
  std::uint64_t buffer_min_bytes = std::uint64_t{64} << 20;
  std::uint64_t buffer_max_bytes = std::uint64_t{256} << 20;
  // big_alloc_count dma_alloc_coherent of big_alloc_bytes (a power of two, at most 4 MiB: one
  // buddy block). Guesses.
  std::uint32_t big_alloc_count = 4;
  std::uint64_t big_alloc_bytes = std::uint64_t{2} << 20;
  // Per-step dma_map_page transfers of a power of two in this range, within one run of a
  // buffer, at most transfers_in_flight live at once. Guesses (token ids in, logits out).
  std::uint64_t transfer_min_bytes = std::uint64_t{4} << 10;
  std::uint64_t transfer_max_bytes = std::uint64_t{1} << 20;
  std::uint32_t transfers_in_flight = 4;

  // --- uvm: CPU chunks of 4 KiB, 64 KiB and 2 MiB, and 2 MiB-page sysmem allocations ---
  // Live chunks in steady state (+-1/16, as game). 3,000: a guess (about 700 MiB).
  std::uint64_t uvm_live_chunks = 3000;
  // Shares of 64 KiB and 2 MiB chunks; the rest are 4 KiB (and page-table pages). Guesses.
  double uvm_64k_fraction = 0.3;
  double uvm_2m_fraction = 0.1;
  // nvUvmInterfaceMemoryAllocSys allocations made first and kept: 16 MiB each, in 2 MiB pages
  // (observed). With uvm_default_page_size they use 4 KiB pages and ask no alignment, as the
  // kprobe workaround forces (observed).
  std::uint32_t uvm_sysmem_allocs = 1;
  std::uint64_t uvm_sysmem_bytes = std::uint64_t{16} << 20;
  bool uvm_default_page_size = false;

  // --- churn: long-running alloc/free of mixed sizes, for fragmentation tests ---
  // Live bytes requested in steady state (+-1/16). 1 GiB: a guess, two thirds of the host's
  // 1.5 GiB, so that the aperture fills and fragments over a long run.
  std::uint64_t churn_live_bytes = std::uint64_t{1} << 30;
  // Sizes churn_min_bytes << k, k geometric (p = 1/2) capped at churn_max_bytes; powers of two,
  // 4 KiB .. 4 MiB. Guesses.
  std::uint64_t churn_min_bytes = std::uint64_t{4} << 10;
  std::uint64_t churn_max_bytes = std::uint64_t{4} << 20;
  // Shares of dma_map_sg (2..8 runs of the drawn size) and dma_alloc_coherent; the rest are
  // dma_map_page. Guesses.
  double churn_sg_fraction = 0.1;
  double churn_alloc_fraction = 0.1;
  // Long-lived requests: this share of new requests lives churn_long_factor times as long on
  // average. Guesses: pinned mappings that outlive the churn around them fragment the aperture.
  double churn_long_fraction = 0.05;
  std::uint32_t churn_long_factor = 16;
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
// (the message names the known ones) or a parameter out of range (the message names its flag).
std::unique_ptr<Generator> make_generator(std::string_view profile, const GenParams& params,
                                          std::string* error);

std::span<const std::string_view> profile_names();
// One paragraph on what the profile models and the facts behind it; empty for an unknown one.
std::string_view profile_help(std::string_view profile);

// One parameter as the command line offers it: `--FLAG VALUE` sets *target.
struct GenKnob {
  std::string_view flag;      // without the dashes: "live-target"
  std::string_view profiles;  // the profiles that read it: "all" or names, comma-separated
  std::string_view help;      // meaning, unit, and where its default comes from (or "guess")
  std::variant<std::uint64_t*, std::uint32_t*, double*, bool*> target;
  bool is_size;  // a byte count: accepts K/M/G/T suffixes (dartlab::parse_size)
};
// Every field of `params` but events, seed and drain (the command's own -n, -s and --no-drain),
// pointing into `params`.
std::vector<GenKnob> gen_knobs(GenParams& params);

}  // namespace dartlab::trace::gen
