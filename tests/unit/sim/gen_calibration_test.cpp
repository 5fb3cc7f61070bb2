// SPDX-License-Identifier: MIT
// The generators' defaults meet the host limits they are calibrated to (traces/gen/generator.cpp):
// replayed through the mapper and the DART model, the default game fails under `direct` by slots
// and fits under `window:256K`; game-large fails under every policy.
#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include "base/types.hpp"  // kHostSlots, kHostApertureBytes: the observed host
#include "sim/replay/replay.hpp"
#include "traces/gen/generator.hpp"

using namespace dartlab;

namespace {

sim::RunConfig config(std::string_view policy, std::string_view dart_spec) {
  return {std::get<mapper::Policy>(mapper::parse_policy(policy)),
          std::get<dart::DartConfig>(dart::parse_dart_spec(dart_spec))};
}

// Replays `profile` under `runs` and returns the replay.
std::unique_ptr<sim::Replay> replay(std::string_view profile, const trace::gen::GenParams& params,
                                    const std::vector<sim::RunConfig>& runs) {
  std::string error;
  auto generator = trace::gen::make_generator(profile, params, &error);
  INFO(error);
  REQUIRE(generator != nullptr);
  auto result = std::make_unique<sim::Replay>(runs);
  trace::Event ev;
  while (generator->next(ev)) {
    if (!result->apply(ev)) FAIL(result->issue().message);
  }
  return result;
}

std::uint64_t failures(const sim::RunResult& result, dartlab::MapError reason) {
  return result.failures_by_reason[static_cast<int>(reason)];
}

}  // namespace

TEST_CASE("The default game needs more than 65,536 mappings under direct, and fits the host under window:256K",
          "[gen][calibration]") {
  // The whole default run: the window's peak is a property of all of it.
  const trace::gen::GenParams params;
  REQUIRE(params.events == 1000000);
  const std::vector<sim::RunConfig> runs{
      config("direct", "aperture=max,slots=unlimited"),  // what direct would need
      config("direct", ""),                              // the observed host
      config("window:256K", ""),
  };
  const auto r = replay("game", params, runs);
  const sim::RunResult unlimited = r->result(0);
  const sim::RunResult direct = r->result(1);
  const sim::RunResult window = r->result(2);
  INFO("direct needs " << unlimited.peak_mappings << " mappings, "
                       << unlimited.peak_mapped_bytes / (1 << 20) << " MiB; window:256K maps "
                       << window.peak_mappings << ", " << window.peak_mapped_bytes / (1 << 20)
                       << " MiB");
  CHECK(unlimited.peak_mappings > kHostSlots);

  CHECK(direct.failed_maps > 0);
  CHECK(direct.first_failure.reason == dartlab::MapError::Slots);
  CHECK(failures(direct, dartlab::MapError::Slots) > 0);

  CHECK(window.failed_maps == 0);
  CHECK(window.peak_mappings < kHostSlots);
  CHECK(window.peak_mapped_bytes < kHostApertureBytes);
  // Clustering more than ten to one, where the observed games got about four (generator.cpp).
  CHECK(unlimited.peak_mappings > 10 * window.peak_mappings);
}

TEST_CASE("game-large fails under every policy on the observed host", "[gen][calibration]") {
  // The failures come once the pool and the working set are live, well before 400,000 events;
  // a longer run makes the same events up to its drain, so it fails too.
  trace::gen::GenParams params;
  params.events = 400000;
  std::vector<sim::RunConfig> runs;
  for (const char* policy : {"direct", "window:64K", "window:256K", "window:1M"}) {
    runs.push_back(config(policy, ""));
  }
  runs.push_back(config("window:256K", "aperture=max,slots=unlimited"));
  const auto r = replay("game-large", params, runs);
  for (std::size_t i = 0; i + 1 < runs.size(); ++i) {
    const sim::RunResult result = r->result(i);
    INFO(result.policy << ": " << result.failed_maps << " refused, peak "
                       << result.peak_mapped_bytes / (1 << 20) << " MiB");
    CHECK(result.failed_maps > 0);
    CHECK(failures(result, dartlab::MapError::Slots) + failures(result, dartlab::MapError::Aperture) +
              failures(result, dartlab::MapError::Fragmented) ==
          result.failed_maps);
  }
  // The live set itself is past the host's bytes, whatever the policy.
  CHECK(r->result(runs.size() - 1).peak_requested_bytes > kHostApertureBytes);
}
