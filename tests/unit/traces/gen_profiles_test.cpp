// Choosing a generator: profiles by name, parameter checks, determinism per seed.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "traces/gen/generator.hpp"

namespace {

using dartlab::trace::Event;
using dartlab::trace::gen::Generator;
using dartlab::trace::gen::GenParams;
using dartlab::trace::gen::make_generator;

bool same_event(const Event& a, const Event& b) {
  if (a.kind != b.kind || a.dir != b.dir || a.device != b.device || a.id != b.id ||
      a.gpa != b.gpa || a.len_bytes != b.len_bytes || a.segments.size() != b.segments.size()) {
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
  const char* profile = GENERATE("game", "buffers");
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
  const char* profile = GENERATE("game", "buffers");
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
  const char* profile = GENERATE("game", "buffers");
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
  CHECK_THAT(error,
             Catch::Contains("gmae") && Catch::Contains("game") && Catch::Contains("buffers"));
  CHECK(make_generator("gmae", GenParams{}, nullptr) == nullptr);  // no error wanted: no crash
}

TEST_CASE("Parameters out of range are refused, naming the field", "[traces][gen]") {
  GenParams params;
  SECTION("odd event count with drain") {
    params.events = 1001;
    CHECK_THAT(refusal("game", params), Catch::Contains("even"));
    params.drain = false;
    CHECK(refusal("game", params) == "");
  }
  SECTION("cluster size not a power of two") {
    params.cluster_bytes = 3 << 20;
    CHECK_THAT(refusal("buffers", params), Catch::Contains("cluster_bytes"));
  }
  SECTION("guest RAM past the end of the address space") {
    params.ram_base = ~std::uint64_t{0} - (1u << 20);
    CHECK_THAT(refusal("game", params), Catch::Contains("ram_base"));
  }
  SECTION("shares of game requests above one") {
    params.small_fraction = 0.9;
    params.alloc_fraction = 0.2;
    CHECK_THAT(refusal("game", params), Catch::Contains("small_fraction"));
    CHECK(refusal("buffers", params) == "");  // a profile ignores the knobs of others
  }
  SECTION("buffers larger than guest RAM allows") {
    params.guest_ram_bytes = std::uint64_t{1} << 30;
    CHECK_THAT(refusal("buffers", params), Catch::Contains("guest_ram_bytes"));
  }
  SECTION("transfer sizes not powers of two") {
    params.transfer_max_bytes = 3 << 20;
    CHECK_THAT(refusal("buffers", params), Catch::Contains("transfer_max_bytes"));
  }
}

TEST_CASE("Every profile has a name and a help paragraph", "[traces][gen]") {
  const auto names = dartlab::trace::gen::profile_names();
  REQUIRE(names.size() >= 2);
  for (std::string_view name : names) {
    INFO(name);
    CHECK(dartlab::trace::gen::profile_help(name).size() > 80);
    std::string error;
    CHECK(make_generator(name, GenParams{}, &error) != nullptr);
  }
  CHECK(dartlab::trace::gen::profile_help("nope").empty());
}
