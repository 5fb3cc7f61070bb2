// SPDX-License-Identifier: MIT
// The generator parameters as the command line names them. Defaults and their sources are in
// generator.hpp, beside each field; the help here repeats the unit and the source in short.
#include "traces/gen/generator.hpp"

namespace dartlab::trace::gen {

std::vector<GenKnob> gen_knobs(GenParams& p) {
  constexpr bool kSize = true;
  constexpr bool kNumber = false;
  return {
      // every profile
      {"guest-ram", "all", "guest RAM, bytes (guess: a 16 GiB gaming VM)", &p.guest_ram_bytes, kSize},
      {"ram-base", "all", "guest-physical address where RAM starts (QEMU arm64 virt: 1 GiB)",
       &p.ram_base, kSize},
      {"pcp-batch", "all",
       "pages the guest's per-CPU list moves to or from the buddy lists at once; 0: no list "
       "(Linux zone_batchsize: 63)",
       &p.pcp_batch, kNumber},
      {"pcp-high", "all",
       "pages on the per-CPU list at which a batch goes back (Linux before 5.14: 6 x batch)",
       &p.pcp_high, kNumber},
      {"other-per-alloc", "all",
       "the rest of the guest: 0 .. 2x this many pages allocated before each allocation of "
       "the driver, this many kept live per live one (guess, fitted with game's live-target)",
       &p.other_per_alloc, kNumber},
      // game, game-large
      {"live-target", "game,game-large",
       "live requests in steady state, +-1/16 (fitted: >64k mappings under direct, fewer and "
       "<1.5 GiB under window:256K)",
       &p.live_target, kNumber},
      {"small-fraction", "game,game-large",
       "share of 4 KiB dma_map_page among new requests (observed: over 90%)", &p.small_fraction,
       kNumber},
      {"sg-fraction", "game,game-large",
       "share of dma_map_sg of 2..8 small runs (guess)", &p.sg_fraction, kNumber},
      {"alloc-fraction", "game,game-large",
       "share of dma_alloc_coherent of 64 KiB .. 2 MiB (guess); the rest are maps of those sizes",
       &p.alloc_fraction, kNumber},
      {"level-load-every", "game,game-large",
       "events of churn between level loads, +-25%; 0: none (guess)", &p.level_load_every,
       kNumber},
      {"level-load-fraction", "game,game-large",
       "share of the working set a level load unmaps and maps again (guess)",
       &p.level_load_fraction, kNumber},
      {"resident", "game-large",
       "bytes of the resident pool mapped first and kept (guess: past the host's 1.5 GiB with "
       "the game's working set)",
       &p.resident_bytes, kSize},
      // llm, game-large's pool
      {"chunk", "llm,game-large",
       "bytes the driver allocates pinned memory in, its page size (guess: the 64 KiB big page)",
       &p.chunk_bytes, kSize},
      {"buffer-count", "llm", "pinned dma_map_sg buffers, weights staging (guess)",
       &p.buffer_count, kNumber},
      {"buffer-min", "llm", "smallest buffer, bytes (guess)", &p.buffer_min_bytes, kSize},
      {"buffer-max", "llm", "largest buffer, bytes (guess)", &p.buffer_max_bytes, kSize},
      {"big-alloc-count", "llm", "dma_alloc_coherent made first (guess)", &p.big_alloc_count,
       kNumber},
      {"big-alloc", "llm", "bytes of each, a power of two up to 4 MiB (guess)",
       &p.big_alloc_bytes, kSize},
      {"transfer-min", "llm", "smallest per-step transfer, bytes, a power of two (guess)",
       &p.transfer_min_bytes, kSize},
      {"transfer-max", "llm", "largest per-step transfer, bytes, a power of two (guess)",
       &p.transfer_max_bytes, kSize},
      {"transfers-in-flight", "llm", "transfers live at once at most (guess)",
       &p.transfers_in_flight, kNumber},
      // uvm
      {"uvm-live-chunks", "uvm", "live CPU chunks in steady state, +-1/16 (guess)",
       &p.uvm_live_chunks, kNumber},
      {"uvm-64k-fraction", "uvm", "share of 64 KiB chunks (sizes: spec; share: guess)",
       &p.uvm_64k_fraction, kNumber},
      {"uvm-2m-fraction", "uvm", "share of 2 MiB chunks, mapped with align=2M (share: guess)",
       &p.uvm_2m_fraction, kNumber},
      {"uvm-sysmem-allocs", "uvm",
       "system-memory allocations made first, in 2 MiB pages with align=2M (guess)",
       &p.uvm_sysmem_allocs, kNumber},
      {"uvm-sysmem", "uvm", "bytes of each (observed: 16 MiB)", &p.uvm_sysmem_bytes, kSize},
      {"uvm-default-page-size", "uvm",
       "the kprobe workaround: sysmem allocations in 4 KiB pages, no alignment asked (observed)",
       &p.uvm_default_page_size, kNumber},
      // churn
      {"churn-live", "churn", "live bytes requested in steady state, +-1/16 (guess)",
       &p.churn_live_bytes, kSize},
      {"churn-min", "churn", "smallest request, bytes, a power of two (guess)",
       &p.churn_min_bytes, kSize},
      {"churn-max", "churn", "largest request, bytes, a power of two up to 4 MiB (guess)",
       &p.churn_max_bytes, kSize},
      {"churn-sg-fraction", "churn", "share of dma_map_sg of 2..8 runs (guess)",
       &p.churn_sg_fraction, kNumber},
      {"churn-alloc-fraction", "churn", "share of dma_alloc_coherent (guess)",
       &p.churn_alloc_fraction, kNumber},
      {"churn-long-fraction", "churn", "share of long-lived requests (guess)",
       &p.churn_long_fraction, kNumber},
      {"churn-long-factor", "churn", "how many times longer they live on average (guess)",
       &p.churn_long_factor, kNumber},
  };
}

}  // namespace dartlab::trace::gen
