// The profile table behind make_generator, and what every profile shares.
#include <algorithm>
#include <array>
#include <bit>
#include <limits>

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
            "A game at high settings. A working set of live_target requests churns: over 90% "
            "4 KiB dma_map_page (mostly to the device), the rest 64 KiB .. 2 MiB maps, a few "
            "dma_alloc_coherent of the same sizes and a few dma_map_sg of small runs. The 4 KiB "
            "pages cluster in guest-physical memory (a few dozen per 2 MiB cluster) without being "
            "contiguous. About every level_load_every events a level load unmaps "
            "level_load_fraction of the working set in one burst, which is then mapped again at "
            "new addresses. Knobs: live_target, small_fraction, sg_fraction, alloc_fraction, "
            "level_load_every, level_load_fraction, cluster_bytes, cluster_fill.",
            check_game_params, make_game},
    Profile{"buffers",
            "A compute job's large long-lived buffers. First big_alloc_count dma_alloc_coherent "
            "of big_alloc_bytes and buffer_count dma_map_sg buffers of buffer_min_bytes .. "
            "buffer_max_bytes, each made of naturally aligned runs of 16 KiB .. 2 MiB pages; "
            "then steady dma_map_page / unmap pairs of transfer_min_bytes .. transfer_max_bytes "
            "within those buffers, at most transfers_in_flight at once.",
            check_buffers_params, make_buffers},
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

}  // namespace

Generator::~Generator() = default;

const std::vector<std::string>& gpu_devices() {
  static const std::vector<std::string> devices{"0000:01:00.0"};
  return devices;
}

std::string check_memory_params(const GenParams& params) {
  constexpr std::uint64_t kMinRamBytes = std::uint64_t{64} << 20;  // room for any one request
  constexpr std::uint64_t kMaxRamBytes = std::uint64_t{1} << 40;   // bitmap at most 32 MiB
  if (params.drain && params.events % 2 != 0) {
    return "events must be even with drain: each request is one map and one unmap event (got " +
           std::to_string(params.events) + ")";
  }
  if (!std::has_single_bit(params.cluster_bytes) ||
      params.cluster_bytes < (std::uint64_t{256} << 10) ||
      params.cluster_bytes > (std::uint64_t{1} << 30)) {
    return "cluster_bytes must be a power of two, 256 KiB .. 1 GiB";
  }
  if (params.guest_ram_bytes < kMinRamBytes || params.guest_ram_bytes > kMaxRamBytes ||
      params.guest_ram_bytes < 4 * params.cluster_bytes) {
    return "guest_ram_bytes must be 64 MiB .. 1 TiB and at least 4 clusters";
  }
  if (params.ram_base % kGuestPageBytes != 0 ||
      params.ram_base > std::numeric_limits<std::uint64_t>::max() - params.guest_ram_bytes) {
    return "ram_base must be 4 KiB aligned, and ram_base + guest_ram_bytes must not overflow";
  }
  if (!(params.cluster_fill > 0.0 && params.cluster_fill <= 1.0)) {
    return "cluster_fill must be within (0, 1]";
  }
  return {};
}

GuestMemory make_guest_memory(const GenParams& params) {
  const std::uint64_t cluster_pages = params.cluster_bytes / kGuestPageBytes;
  // At least room for the largest clustered request (4 pages) twice over.
  const auto fill_pages = std::max<std::uint64_t>(
      8, static_cast<std::uint64_t>(params.cluster_fill * static_cast<double>(cluster_pages)));
  return GuestMemory(params.ram_base, params.guest_ram_bytes, params.cluster_bytes,
                     static_cast<std::uint32_t>(fill_pages));
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
  std::string reason = check_memory_params(params);
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
