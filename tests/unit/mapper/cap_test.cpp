// The cap policy: at most N live host mappings; past it a request is turned away unchanged.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "passthrough/mapper/mapper.hpp"
#include "support/alloc_counter.hpp"
#include "support/fake_backend.hpp"

using namespace dartlab::mapper;
using dartlab::test::FakeBackend;

namespace {

constexpr std::uint64_t K = 1024;
constexpr std::uint64_t M = 1024 * K;

Policy must_parse(std::string_view spec) {
  auto p = parse_policy(spec);
  if (auto* e = std::get_if<std::string>(&p)) FAIL(*e);
  return std::get<Policy>(p);
}

std::string parse_error(std::string_view spec) {
  auto p = parse_policy(spec);
  if (auto* e = std::get_if<std::string>(&p)) return *e;
  FAIL("'" << spec << "' parsed, but should not have");
  return {};
}

}  // namespace

TEST_CASE("cap specs wrap any policy but bounce and print back canonically", "[policy][cap]") {
  const Policy c = must_parse("cap:window:128K,windows=5600");
  CHECK(c.kind == PolicyKind::Window);
  CHECK(c.window_bytes == 128 * K);
  CHECK(c.cap_windows == 5600);
  CHECK(must_parse("cap:window:0x20000,windows=0x10").spec() == "cap:window:128K,windows=16");
  const auto spec = GENERATE(as<std::string>{}, "cap:direct,windows=1", "cap:window:128K,windows=5600",
                             "cap:multi:64K,256K,1M,promote=0.25,windows=300",
                             "cap:adaptive:start=256K,min=16K,max=4M,high=0.9,low=0.5,every=64,windows=64",
                             "cap:lazy:window:256K,keep=64,windows=100", "cap:lazy:multi:64K,1M,keep=32,bytes=8M,windows=9");
  CAPTURE(spec);
  CHECK(must_parse(spec).spec() == spec);
  CHECK(must_parse(must_parse(spec).spec()) == must_parse(spec));
}

TEST_CASE("bad cap specs are refused with a message that says what is wrong", "[policy][cap]") {
  CHECK_THAT(parse_error("cap:window:256K"), Catch::Contains("needs a policy and its limit"));
  CHECK_THAT(parse_error("cap:windows=5"), Catch::Contains("needs a policy and its limit"));
  CHECK_THAT(parse_error("cap"), Catch::Contains("needs a policy and its limit"));
  CHECK_THAT(parse_error("cap:window:256K,windows=0"), Catch::Contains("windows must be 1.."));
  CHECK_THAT(parse_error("cap:window:256K,windows=5000000000"), Catch::Contains("windows must be 1.."));
  CHECK_THAT(parse_error("cap:window:256K,windows=many"), Catch::Contains("not a number"));
  CHECK_THAT(parse_error("cap:window:100K,windows=5"), Catch::Contains("inside cap"));
  CHECK_THAT(parse_error("cap:cap:direct,windows=1,windows=2"), Catch::Contains("cannot wrap a cap"));
  CHECK_THAT(parse_error("lazy:cap:direct,windows=3,keep=1"), Catch::Contains("cap goes outside lazy"));
}

TEST_CASE("at the cap a request that needs a new host mapping is turned away and nothing changes",
          "[policy][cap]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:window:64K,windows=2"));
  const auto a = m.map(0x00000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x10000, 4 * K, Direction::ToDevice);
  REQUIRE((a && b));
  const MapperStats before = m.stats();
  const auto c = m.map(0x20000, 4 * K, Direction::ToDevice);
  REQUIRE_FALSE(c);
  CHECK(c.error == MapError::Cap);
  CHECK(backend.maps == 2);
  CHECK(m.stats().cap_refusals == 1);
  // Not a request, not a failure: the same request is asked again later.
  CHECK(m.stats().map_requests == before.map_requests);
  CHECK(m.stats().failed_maps == 0);
  CHECK(m.stats().failures[static_cast<int>(MapError::Cap)] == 0);
  CHECK(m.stats().live_requests == before.live_requests);
  // A request a live window serves needs no room.
  const auto hit = m.map(0x01000, 4 * K, Direction::ToDevice);
  REQUIRE(hit);
  CHECK(m.stats().shared_hits == 1);
  // A release that frees a window makes room.
  REQUIRE(m.unmap(b.value.token, 4 * K));
  REQUIRE(m.map(0x20000, 4 * K, Direction::ToDevice));
  CHECK(m.stats().live_mappings == 2);
  CHECK(m.stats().peak_mappings == 2);
}

TEST_CASE("under cap a kept lazy mapping gives its place up before a request is turned away", "[policy][cap][lazy]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:lazy:window:64K,keep=8,windows=2"));
  const auto a = m.map(0x00000, 4 * K, Direction::ToDevice);
  const auto b = m.map(0x10000, 4 * K, Direction::ToDevice);
  REQUIRE(m.unmap(a.value.token, 4 * K));  // kept: still a live host mapping, at the cap
  CHECK(m.stats().live_mappings == 2);
  REQUIRE(m.map(0x20000, 4 * K, Direction::ToDevice));
  CHECK(m.stats().evictions == 1);
  CHECK_FALSE(backend.has(0x00000, 64 * K));
  CHECK(m.stats().cap_refusals == 0);
  CHECK(m.map(0x30000, 4 * K, Direction::ToDevice).error == MapError::Cap);  // nothing kept now
  CHECK(m.stats().live_mappings == 2);
  REQUIRE(m.unmap(b.value.token, 4 * K));
}

TEST_CASE("a scatter-gather list turned away at the cap waits whole and counts as no request", "[policy][cap]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:window:64K,windows=3"));
  const auto held = m.map(0x00000, 4 * K, Direction::ToDevice);
  const auto other = m.map(0x40000, 4 * K, Direction::ToDevice);
  REQUIRE((held && other));
  // The first segment shares a live window, the second takes the last place, the third is one too many.
  const MapSegment list[] = {{0x01000, 4 * K}, {0x10000, 4 * K}, {0x20000, 4 * K}};
  Mapping out[3];
  const MapperStats before = m.stats();
  CHECK(m.map_sg(list, Direction::ToDevice, out).error == MapError::Cap);
  CHECK(m.stats().map_requests == before.map_requests);
  CHECK(m.stats().shared_hits == before.shared_hits);
  CHECK(m.stats().live_requests == 2);
  CHECK(m.stats().live_mappings == 2);
  CHECK(m.stats().failed_maps == 0);
  // The host really mapped and unmapped the window the second segment took.
  CHECK(m.stats().host_map_calls == before.host_map_calls + 1);
  CHECK(m.stats().host_unmap_calls == before.host_unmap_calls + 1);
  REQUIRE(m.unmap(other.value.token, 4 * K));
  REQUIRE(m.map_sg(list, Direction::ToDevice, out));
  CHECK(m.stats().map_requests == before.map_requests + 3);
}

TEST_CASE("requests served at the cap by live windows allocate nothing", "[policy][cap][alloc]") {
  FakeBackend backend;
  Mapper m(backend, must_parse("cap:window:256K,windows=4"));
  std::vector<Mapping> anchors;
  for (std::uint64_t w = 0; w < 4; ++w) anchors.push_back(m.map(w * 256 * K, 4 * K, Direction::ToDevice).value);
  std::vector<Mapping> held(128);
  dartlab::test::AllocationCount count;
  for (int round = 0; round < 20; ++round) {
    for (std::uint64_t i = 0; i < held.size(); ++i) held[i] = m.map(i * 8 * K, 4 * K, Direction::ToDevice).value;
    CHECK(m.map(1 * M, 4 * K, Direction::ToDevice).error == MapError::Cap);  // and a turn-away costs nothing either
    for (const auto& h : held) REQUIRE(m.unmap(h.token, 4 * K));
  }
  CHECK(count.count() == 0);
  CHECK(m.stats().cap_refusals == 20);
  CHECK(m.stats().host_map_calls == 4);
}
