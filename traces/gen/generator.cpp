// SPDX-License-Identifier: MIT
// The profile table behind make_generator, and what every profile shares.
//
// Calibration of `game` (tests/unit/sim/gen_calibration_test.cpp holds it to this). Observed
// (BACKGROUND.md): the host takes about 64k mappings and 1.5 GiB at once; games at high settings
// make tens of thousands of 4 KiB mappings, over 90% of all; 256 KiB windows cut live mappings
// about 4x and the extra bytes still fit. The default game is to fail under `direct` by slots
// and fit under `window:256K`: more than 65,536 live direct mappings (each 4 KiB page rounded
// out to its 16 KiB granule, so pages sharing a granule share one), but fewer than 65,536 live
// windows and under 1.5 GiB, that is under 6,144 windows of 256 KiB less what the larger
// requests take. So the live 4 KiB pages must fill more than ten granules of each window they
// use, well past the 4x observed. The tension is resolved by the guest memory model, not by a
// special case:
// - The driver's pages come one by one from the guest's per-CPU list, with 0 .. 4 pages of the
//   rest of the guest between two of them (other_per_alloc = 2, guest_memory.hpp). A gap of 4
//   foreign pages is needed to leave a granule without a driver page, so nearly every granule
//   of the region the game's pages take holds one, though few pages are adjacent.
// - Freed pages come back first (LIFO), to the driver or to the guest, so churn and level loads
//   keep the driver's pages inside that region while mixing them with the guest's: in steady
//   state a window holds about 21 of the driver's pages over 13 to 14 of its 16 granules.
// - live_target = 104,000 requests (99% of them 4 KiB, the larger few kept rare because each
//   costs a whole window or more) then needs about 72,700 direct mappings and 5,270 windows,
//   1.37 GiB, at the top of the churn band: about 11% over the slots under direct and 11% under
//   the bytes under window:256K, for every seed tried.
// other_per_alloc (the clustering) and live_target (the scale) are guesses fitted to these
// limits; with other_per_alloc 0 the pages are contiguous, with larger values they spread.
#include <array>
#include <bit>
#include <limits>

#include "traces/gen/buddy_allocator.hpp"
#include "traces/gen/profiles.hpp"

namespace dartlab::trace::gen {

namespace {

struct Profile {
  std::string_view name;
  std::string_view help;
  std::string (*check)(const GenParams&);
  std::unique_ptr<Generator> (*make)(const GenParams&);
};

constexpr std::array kProfiles{
    Profile{"game",
            "A game at high settings. A working set of --live-target requests churns: over 90% "
            "4 KiB dma_map_page (observed), mostly to the device, the rest 64 KiB .. 2 MiB maps, "
            "a few dma_alloc_coherent and a few dma_map_sg of small runs (shares: guesses). Each "
            "page comes from a model of the guest's buddy allocator and per-CPU list (Linux), "
            "with 0 .. 2 x --other-per-alloc pages of the rest of the guest between two of the "
            "driver's (a guess): clustered in guest-physical memory, not contiguous (observed). "
            "About every --level-load-every events a level load unmaps --level-load-fraction of "
            "the working set in one burst and maps it again (guesses). The defaults are fitted to the host's "
            "observed limits: the working set needs more than 65,536 live mappings under direct "
            "(about 72,700) but fewer, within 1.5 GiB, under window:256K (about 5,300 windows, "
            "1.37 GiB): windows cut mappings about 14x here, where about 4x was observed.",
            check_game_params, make_game},
    Profile{"game-large",
            "The game with a resident pool of --resident bytes (dma_map_sg buffers of 64 MiB in "
            "--chunk pieces, contiguous runs merged as nv_dma_map_pages does) mapped first and "
            "kept to the end: a live working set past the host's 1.5 GiB, which fails under "
            "every policy, as Horizon Zero Dawn Remastered does not start (observed). The pool's "
            "shape and size are guesses.",
            check_game_large_params, make_game_large},
    Profile{"llm",
            "Inference: --big-alloc-count dma_alloc_coherent of --big-alloc, then --buffer-count "
            "very large pinned buffers (weights staging) of --buffer-min .. --buffer-max, each a "
            "dma_map_sg of runs of contiguous pages: the driver allocates them in --chunk pieces "
            "(nv_alloc_system_pages at get_order(page_size)) and nv_dma_map_pages merges "
            "contiguous ones (open-gpu-kernel-modules). Then steady per-step dma_map_page "
            "transfers of --transfer-min .. --transfer-max within the buffers, at most "
            "--transfers-in-flight live. Sizes and counts are guesses.",
            check_llm_params, make_llm},
    Profile{"buffers",
            "The llm profile under its former name, kept for the samples and scripts that use "
            "it: the same generator, the same knobs.",
            check_llm_params, make_llm},
    Profile{"uvm",
            "The UVM driver. First --uvm-sysmem-allocs system-memory allocations of --uvm-sysmem "
            "(16 MiB) in 2 MiB pages, each a dma_map_sg asking a 2 MiB-aligned bus address "
            "(align=2M), which the host cannot give (observed: nvUvmInterfaceMemoryAllocSys "
            "fails with NV_ERR_INVALID_OFFSET); --uvm-default-page-size models the kprobe "
            "workaround (4 KiB pages, no alignment). Then a working set of --uvm-live-chunks CPU "
            "chunks churns as pages migrate: dma_map_page of 4 KiB, 64 KiB or 2 MiB (the sizes "
            "UVM uses, spec; shares --uvm-64k-fraction and --uvm-2m-fraction are guesses), the "
            "2 MiB ones with align=2M. A replay counts the mappings whose bus address breaks "
            "the alignment asked.",
            check_uvm_params, make_uvm},
    Profile{"churn",
            "Fragmentation stress: long-running map/unmap and alloc/free of mixed sizes "
            "(--churn-min << k, k geometric, up to --churn-max) around --churn-live bytes live, "
            "with --churn-long-fraction of the requests living --churn-long-factor times longer. "
            "After long sessions the host's mappings fragment and new games fail to start "
            "(observed); run it for many millions of events with --no-drain to reproduce that. "
            "Every share and size is a guess.",
            check_churn_params, make_churn},
};

constexpr std::array<std::string_view, kProfiles.size()> kProfileNames = [] {
  std::array<std::string_view, kProfiles.size()> names{};
  for (std::size_t i = 0; i < kProfiles.size(); ++i) names[i] = kProfiles[i].name;
  return names;
}();

const Profile* find_profile(std::string_view name) {
  for (const Profile& profile : kProfiles) {
    if (profile.name == name) return &profile;
  }
  return nullptr;
}

std::string known_profiles() {
  std::string list;
  for (std::string_view name : kProfileNames) {
    if (!list.empty()) list += ", ";
    list += name;
  }
  return list;
}

constexpr Probability kToDevice = Probability::of(0.7);
constexpr Probability kToOrFromDevice = Probability::of(0.9);  // the rest is Bidirectional

}  // namespace

Generator::~Generator() = default;

const std::vector<std::string>& gpu_devices() {
  static const std::vector<std::string> devices{"0000:01:00.0"};
  return devices;
}

Direction draw_direction(std::uint32_t draw) {
  if (kToDevice.holds(draw)) return Direction::ToDevice;
  if (kToOrFromDevice.holds(draw)) return Direction::FromDevice;
  return Direction::Bidirectional;
}

unsigned order_for(std::uint64_t bytes) {
  return static_cast<unsigned>(std::bit_width(std::bit_ceil(bytes) / kGuestPageBytes) - 1);
}

std::string check_common_params(const GenParams& params) {
  constexpr std::uint64_t kMinRamBytes = std::uint64_t{64} << 20;   // room for any one request
  constexpr std::uint64_t kMaxRamBytes = std::uint64_t{256} << 30;  // page state at most 2.3 GiB
  if (params.drain && params.events % 2 != 0) {
    return "--events must be even with drain: each request is one map and one unmap event (got " +
           std::to_string(params.events) + ")";
  }
  if (params.guest_ram_bytes < kMinRamBytes || params.guest_ram_bytes > kMaxRamBytes) {
    return "--guest-ram must be 64M .. 256G";
  }
  if (params.ram_base % kGuestPageBytes != 0 ||
      params.ram_base > std::numeric_limits<std::uint64_t>::max() - params.guest_ram_bytes) {
    return "--ram-base must be 4K aligned, and --ram-base + --guest-ram must not pass 2^64";
  }
  if (params.pcp_batch > (1u << 16) || params.pcp_high > (1u << 24) ||
      (params.pcp_batch > 0 && params.pcp_high < params.pcp_batch)) {
    return "--pcp-batch must be 0 .. 65536 and --pcp-high from --pcp-batch .. 2^24";
  }
  if (!(params.other_per_alloc >= 0.0 && params.other_per_alloc <= 64.0)) {
    return "--other-per-alloc must be within 0 .. 64";
  }
  return {};
}

std::unique_ptr<Generator> make_generator(std::string_view profile, const GenParams& params,
                                          std::string* error) {
  auto fail = [&](std::string reason) -> std::unique_ptr<Generator> {
    if (error != nullptr) *error = std::move(reason);
    return nullptr;
  };
  const Profile* found = find_profile(profile);
  if (found == nullptr) {
    return fail("unknown profile '" + std::string(profile) +
                "'; known profiles: " + known_profiles());
  }
  std::string reason = check_common_params(params);
  if (reason.empty()) reason = found->check(params);
  if (!reason.empty()) return fail("profile " + std::string(found->name) + ": " + reason);
  return found->make(params);
}

std::span<const std::string_view> profile_names() { return kProfileNames; }

std::string_view profile_help(std::string_view profile) {
  const Profile* found = find_profile(profile);
  return found == nullptr ? std::string_view{} : found->help;
}

}  // namespace dartlab::trace::gen
