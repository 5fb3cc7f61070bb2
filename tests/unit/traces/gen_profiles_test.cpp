// SPDX-License-Identifier: MIT
// Choosing a generator: profiles by name, parameter checks, determinism per seed.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "traces/gen/generator.hpp"

namespace {

using dartlab::trace::Event;
using dartlab::trace::gen::Generator;
using dartlab::trace::gen::GenParams;
using dartlab::trace::gen::make_generator;

// Every profile, under its current name.
const std::vector<const char*> kProfiles{"game", "game-large", "llm", "uvm", "churn"};

bool same_event(const Event& a, const Event& b) {
  if (a.kind != b.kind || a.dir != b.dir || a.device != b.device || a.id != b.id ||
      a.gpa != b.gpa || a.len_bytes != b.len_bytes || a.align_bytes != b.align_bytes ||
      a.segments.size() != b.segments.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].gpa != b.segments[i].gpa ||
        a.segments[i].len_bytes != b.segments[i].len_bytes) {
      return false;
    }
  }
  return true;
}

// Index of the first event where the two streams differ, or the count if they never do.
std::uint64_t first_difference(Generator& a, Generator& b) {
  Event ea;
  Event eb;
  std::uint64_t index = 0;
  for (;; ++index) {
    const bool more_a = a.next(ea);
    const bool more_b = b.next(eb);
    if (more_a != more_b) return index;
    if (!more_a) return index;
    if (!same_event(ea, eb)) return index;
  }
}

std::string refusal(std::string_view profile, const GenParams& params) {
  std::string error;
  const auto generator = make_generator(profile, params, &error);
  return generator == nullptr ? error : std::string{};
}

}  // namespace

TEST_CASE("The same seed gives the same stream", "[traces][gen]") {
  const char* profile = GENERATE(from_range(kProfiles));
  GenParams params;
  params.seed = GENERATE(1u, 99u, 0xdeadbeefu);
  params.events = 120000;
  std::string error;
  auto a = make_generator(profile, params, &error);
  auto b = make_generator(profile, params, &error);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(first_difference(*a, *b) == params.events);
}

TEST_CASE("Different seeds give different streams", "[traces][gen]") {
  const char* profile = GENERATE(from_range(kProfiles));
  GenParams params;
  params.events = 20000;
  params.seed = GENERATE(1u, 2u, 3u);
  GenParams other = params;
  other.seed = params.seed + 1000;
  std::string error;
  auto a = make_generator(profile, params, &error);
  auto b = make_generator(profile, other, &error);
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(first_difference(*a, *b) < params.events);
}

TEST_CASE("A generator makes exactly the events asked for, then stops", "[traces][gen]") {
  const char* profile = GENERATE(from_range(kProfiles));
  GenParams params;
  params.events = GENERATE(0u, 2u, 10u, 5000u);
  std::string error;
  auto generator = make_generator(profile, params, &error);
  REQUIRE(generator != nullptr);
  Event ev;
  std::uint64_t count = 0;
  while (generator->next(ev)) ++count;
  CHECK(count == params.events);
  CHECK_FALSE(generator->next(ev));
  CHECK(generator->live() == 0);
}

TEST_CASE("An unknown profile is refused with the known profiles named", "[traces][gen]") {
  std::string error;
  CHECK(make_generator("gmae", GenParams{}, &error) == nullptr);
  CHECK_THAT(error, Catch::Contains("gmae") && Catch::Contains("game") &&
                        Catch::Contains("game-large") && Catch::Contains("llm") &&
                        Catch::Contains("uvm") && Catch::Contains("churn"));
  CHECK(make_generator("gmae", GenParams{}, nullptr) == nullptr);  // no error wanted: no crash
}

TEST_CASE("Parameters out of range are refused, naming the flag", "[traces][gen]") {
  GenParams params;
  SECTION("odd event count with drain") {
    params.events = 1001;
    CHECK_THAT(refusal("game", params), Catch::Contains("--events") && Catch::Contains("even"));
    params.drain = false;
    CHECK(refusal("game", params) == "");
  }
  SECTION("guest RAM too small or too large") {
    params.guest_ram_bytes = std::uint64_t{32} << 20;
    CHECK_THAT(refusal("uvm", params), Catch::Contains("--guest-ram"));
    params.guest_ram_bytes = std::uint64_t{1} << 40;
    CHECK_THAT(refusal("churn", params), Catch::Contains("--guest-ram"));
  }
  SECTION("guest RAM past the end of the address space") {
    params.ram_base = ~std::uint64_t{0} - (1u << 20);
    CHECK_THAT(refusal("game", params), Catch::Contains("--ram-base"));
  }
  SECTION("per-CPU list high mark below its batch") {
    params.pcp_high = params.pcp_batch - 1;
    CHECK_THAT(refusal("llm", params), Catch::Contains("--pcp-high"));
    params.pcp_batch = 0;  // no list: no high mark to respect
    CHECK(refusal("llm", params) == "");
  }
  SECTION("the rest of the guest out of range") {
    params.other_per_alloc = -1;
    CHECK_THAT(refusal("game", params), Catch::Contains("--other-per-alloc"));
  }
  SECTION("shares of game requests above one") {
    params.small_fraction = 0.9;
    params.alloc_fraction = 0.2;
    CHECK_THAT(refusal("game", params), Catch::Contains("--small-fraction"));
    CHECK_THAT(refusal("game-large", params), Catch::Contains("--small-fraction"));
    CHECK(refusal("llm", params) == "");  // a profile ignores the knobs of others
  }
  SECTION("a game-large pool beyond half of guest RAM") {
    params.resident_bytes = params.guest_ram_bytes;
    CHECK_THAT(refusal("game-large", params), Catch::Contains("--resident"));
    CHECK(refusal("game", params) == "");
  }
  SECTION("llm buffers larger than guest RAM allows") {
    params.guest_ram_bytes = std::uint64_t{1} << 30;
    CHECK_THAT(refusal("llm", params), Catch::Contains("--guest-ram"));
    CHECK_THAT(refusal("buffers", params), Catch::Contains("--guest-ram"));
  }
  SECTION("llm chunk not one buddy block") {
    params.chunk_bytes = std::uint64_t{8} << 20;
    CHECK_THAT(refusal("llm", params), Catch::Contains("--chunk"));
    CHECK_THAT(refusal("game-large", params), Catch::Contains("--chunk"));
  }
  SECTION("llm buffers of more chunks than a map_sg may have") {
    params.chunk_bytes = 4096;
    CHECK_THAT(refusal("llm", params), Catch::Contains("--buffer-max"));
  }
  SECTION("transfer sizes not powers of two") {
    params.transfer_max_bytes = 3 << 20;
    CHECK_THAT(refusal("llm", params), Catch::Contains("--transfer-max"));
  }
  SECTION("uvm chunk shares above one") {
    params.uvm_2m_fraction = 0.8;
    CHECK_THAT(refusal("uvm", params), Catch::Contains("--uvm-2m-fraction"));
  }
  SECTION("uvm sysmem allocations of more 4 KiB pages than a map_sg may have") {
    params.uvm_default_page_size = true;
    params.uvm_sysmem_bytes = std::uint64_t{32} << 20;
    CHECK_THAT(refusal("uvm", params), Catch::Contains("--uvm-sysmem"));
    params.uvm_default_page_size = false;  // sixteen 2 MiB pages are fine
    CHECK(refusal("uvm", params) == "");
  }
  SECTION("churn sizes past one buddy block") {
    params.churn_max_bytes = std::uint64_t{8} << 20;
    CHECK_THAT(refusal("churn", params), Catch::Contains("--churn-max"));
  }
  SECTION("churn live bytes beyond half of guest RAM") {
    params.churn_live_bytes = params.guest_ram_bytes;
    CHECK_THAT(refusal("churn", params), Catch::Contains("--churn-live"));
  }
  SECTION("a churn long-lived factor of zero") {
    params.churn_long_factor = 0;
    CHECK_THAT(refusal("churn", params), Catch::Contains("--churn-long-factor"));
  }
}

TEST_CASE("Every parameter is a knob with a flag, its profiles and a help line", "[traces][gen]") {
  GenParams params;
  const auto knobs = dartlab::trace::gen::gen_knobs(params);
  const auto names = dartlab::trace::gen::profile_names();
  std::set<std::string_view> flags;
  for (const auto& knob : knobs) {
    INFO(knob.flag);
    CHECK(flags.insert(knob.flag).second);
    CHECK(knob.help.size() > 10);
    CHECK(knob.flag.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos);
    // Each named profile exists.
    std::string_view rest = knob.profiles;
    while (!rest.empty() && rest != "all") {
      const std::string_view name = rest.substr(0, rest.find(','));
      CHECK(std::find(names.begin(), names.end(), name) != names.end());
      rest.remove_prefix(std::min(rest.size(), name.size() + 1));
    }
    // The knob points into params: setting it through the table changes params.
    std::visit([](auto* target) { CHECK(target != nullptr); }, knob.target);
  }
  CHECK(flags.count("live-target") == 1);
  CHECK(flags.count("other-per-alloc") == 1);
  CHECK(flags.count("uvm-default-page-size") == 1);
  // Fields and knobs, one to one: every field but events, seed and drain has a knob. A new field
  // without one shows here as a size mismatch.
  CHECK(knobs.size() == 34);
  for (const auto& knob : knobs) {
    if (knob.flag == "live-target") *std::get<std::uint64_t*>(knob.target) = 5;
    if (knob.flag == "uvm-default-page-size") *std::get<bool*>(knob.target) = true;
  }
  CHECK(params.live_target == 5);
  CHECK(params.uvm_default_page_size);
}

TEST_CASE("Every profile has a name and a help paragraph", "[traces][gen]") {
  const auto names = dartlab::trace::gen::profile_names();
  REQUIRE(names.size() == 6);
  for (std::string_view name : names) {
    INFO(name);
    CHECK(dartlab::trace::gen::profile_help(name).size() > 80);
    std::string error;
    CHECK(make_generator(name, GenParams{}, &error) != nullptr);
  }
  CHECK(dartlab::trace::gen::profile_help("nope").empty());
}
