// SPDX-License-Identifier: MIT
// The `game-large` profile: the game with a resident pool on top, a live set past the host's
// 1.5 GiB (BACKGROUND.md: Horizon Zero Dawn Remastered needs more than 1.5 GiB mapped at once
// and does not start).
#include "traces/gen/profiles.hpp"

namespace dartlab::trace::gen {

std::string check_game_large_params(const GenParams& params) {
  if (std::string reason = check_game_params(params); !reason.empty()) return reason;
  if (std::string reason = check_chunk_params(params); !reason.empty()) return reason;
  // Half of guest RAM at most, so that the working set always finds room beside the pool.
  if (params.resident_bytes % params.chunk_bytes != 0 ||
      params.resident_bytes > params.guest_ram_bytes / 2) {
    return "--resident must be a multiple of --chunk and at most half of --guest-ram";
  }
  return {};
}

std::unique_ptr<Generator> make_game_large(const GenParams& params) {
  return make_game_generator(params, params.resident_bytes);
}

}  // namespace dartlab::trace::gen
