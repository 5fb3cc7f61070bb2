// SPDX-License-Identifier: MIT
// Properties of the mapper over the functional DART, on random request streams.
#include <catch2/catch.hpp>

#include <map>
#include <variant>
#include <vector>

#include "models/dart/dart.hpp"
#include "passthrough/backends/dart_backend.hpp"
#include "passthrough/mapper/mapper.hpp"
#include "support/random_requests.hpp"

using namespace dartlab;
using test::RandomRequests;

namespace {

mapper::Policy policy(std::string_view spec) { return std::get<mapper::Policy>(mapper::parse_policy(spec)); }
dart::DartConfig dart_config(std::string_view spec) { return std::get<dart::DartConfig>(dart::parse_dart_spec(spec)); }

// Every byte the device may touch reaches its own guest-physical address (probed per page).
void require_translates(dart::Dart& d, std::uint64_t dma_addr, std::uint64_t gpa, std::uint64_t len) {
  const std::uint64_t page = d.config().page_bytes;
  for (std::uint64_t off = 0; off < len; off += page) {
    const auto t = d.translate(dma_addr + off, dart::Access::Read);
    REQUIRE(t.ok);
    REQUIRE(t.pa == gpa + off);
  }
  const auto last = d.translate(dma_addr + len - 1, dart::Access::Write);
  REQUIRE(last.ok);
  REQUIRE(last.pa == gpa + len - 1);
}

struct Held {
  mapper::Mapping mapping;
  std::uint64_t gpa, len;
};

}  // namespace

TEST_CASE("under every policy the mapper never hands out a DMA address whose translation misses, and drains to zero",
          "[property][mapper][dart]") {
  const auto seed = GENERATE(1u, 2u, 3u, 4u);
  const auto policy_spec = GENERATE(as<std::string>{}, "direct", "window:16K", "window:256K", "window:1M",
                                    "multi:16K,256K,1M", "multi:64K,2M,promote=0.25", "adaptive",
                                    "adaptive:start=64K,min=16K,max=1M,high=0.5,low=0.1,every=4",
                                    "lazy:window:256K,keep=64", "lazy:multi:64K,1M,keep=32,bytes=8M",
                                    "lazy:direct,bytes=1M", "bounce", "bounce:4M,at=0x10000000000",
                                    "cap:window:256K,windows=32", "cap:direct,windows=100", "cap:adaptive,windows=64",
                                    "cap:lazy:multi:64K,1M,keep=32,windows=48");
  // The small hosts make the pressure-driven policies evict and adapt; the host's own rules
  // refuse duplicate gpas and cut the large buffers (up to 8 MiB) and 2 MiB windows at 1 MiB.
  const auto dart_spec = GENERATE(as<std::string>{}, "alloc=first-fit", "alloc=best-fit,variant=t8020",
                                  "alloc=buddy", "alloc=linux", "aperture=64M,slots=256",
                                  "aperture=64M,slots=256,alloc=buddy", "duplicate=refuse",
                                  "aperture=64M,slots=256,chunk=1M,duplicate=refuse");
  CAPTURE(seed, policy_spec, dart_spec);

  dart::Dart d(dart_config(dart_spec));
  dartlab::backends::DartBackend backend(d);
  mapper::Mapper m(backend, policy(policy_spec));
  RandomRequests gen(seed);
  std::vector<Held> held;
  std::uint64_t refused = 0, turned_away = 0;
  const std::uint64_t cap = m.policy().cap_windows;

  for (int step = 0; step < 4000; ++step) {
    if (held.empty() || gen.coin()) {
      const auto req = gen.next();
      const auto r = m.map(req.gpa, req.len_bytes, dartlab::Direction::Bidirectional);
      if (!r) {
        // The 1.5 GiB aperture can fill with 1M windows, a bounce pool with requests; a refusal
        // must leave no trace. The cap turns requests away without a refusal.
        ++(r.error == dartlab::MapError::Cap ? turned_away : refused);
        continue;
      }
      // The device reaches the request's own memory, or (bounce) its slot in the pool, which no
      // other live request shares.
      require_translates(d, r.value.dma_addr, m.target_gpa(r.value.dma_addr, req.gpa), req.len_bytes);
      if (m.bounce())
        for (const Held& h : held)
          REQUIRE((r.value.dma_addr + req.len_bytes <= h.mapping.dma_addr || h.mapping.dma_addr + h.len <= r.value.dma_addr));
      held.push_back({r.value, req.gpa, req.len_bytes});
    } else {
      const std::size_t i = gen.pick(held.size());
      REQUIRE(m.unmap(held[i].mapping.token, held[i].len));
      held[i] = held.back();
      held.pop_back();
      // Whatever is still held still translates after someone else's release.
      if (!held.empty()) {
        const Held& h = held[gen.pick(held.size())];
        require_translates(d, h.mapping.dma_addr, m.target_gpa(h.mapping.dma_addr, h.gpa), h.len);
      }
    }
    REQUIRE(d.stats().live_mappings == m.stats().live_mappings);
    REQUIRE(d.stats().mapped_bytes == m.stats().mapped_bytes);
    if (cap != 0) REQUIRE(m.stats().live_mappings <= cap);
  }
  for (const Held& h : held) REQUIRE(m.unmap(h.mapping.token, h.len));
  // What lazy still keeps, or bounce's pool, is all that is mapped; a reset gives it back.
  // (A pool the host cut, under a small chunk=, was undone at once: mapped and unmapped.)
  const bool pool = m.bounce() && m.stats().host_map_calls > m.stats().host_unmap_calls;
  CHECK(m.stats().live_mappings == m.stats().cached_mappings + (pool ? 1 : 0));
  CHECK(m.stats().mapped_bytes == m.stats().cached_bytes + (pool ? m.policy().bounce_pool_bytes : 0));
  CHECK(m.stats().live_requests == 0);
  CHECK(m.stats().pool_bytes_taken == 0);
  m.release_all();

  CHECK(m.stats().live_mappings == 0);
  CHECK(m.stats().mapped_bytes == 0);
  CHECK(m.stats().live_requests == 0);
  CHECK(m.stats().requested_bytes == 0);
  CHECK(d.stats().live_mappings == 0);
  CHECK(d.stats().mapped_bytes == 0);
  CHECK(d.stats().free_bytes == d.config().aperture_bytes);
  // Coalesced back to where it started (buddy and linux cannot serve the whole aperture at once:
  // it does not start on a large enough boundary).
  CHECK(d.stats().largest_free_bytes == dart::Dart(d.config()).stats().largest_free_bytes);
  CHECK(d.stats().tables_live == 0);
  CHECK(m.stats().failed_maps == refused);
  CHECK(m.stats().cap_refusals == turned_away);
  // The stream did reach the cap (unless the host's own rules refused enough to stay under it).
  if (cap != 0 && cap <= 48 && dart_spec.find("duplicate=refuse") == std::string::npos) CHECK(turned_away > 0);
  // A released mapping no longer translates.
  if (!held.empty()) CHECK_FALSE(d.translate(held.front().mapping.dma_addr, dart::Access::Read).ok);
}

TEST_CASE("window and direct policies agree on every returned address's physical target",
          "[property][mapper][dart]") {
  const auto seed = GENERATE(11u, 12u, 13u);
  const auto window = GENERATE(as<std::string>{}, "window:64K", "window:256K");
  CAPTURE(seed, window);
  const auto cfg = dart_config("aperture=max,slots=unlimited");
  dart::Dart d_direct(cfg), d_window(cfg);
  dartlab::backends::DartBackend b_direct(d_direct), b_window(d_window);
  mapper::Mapper direct(b_direct, policy("direct")), windowed(b_window, policy(window));
  RandomRequests gen(seed);
  std::vector<std::pair<Held, Held>> held;
  for (int step = 0; step < 3000; ++step) {
    if (held.empty() || gen.coin()) {
      const auto req = gen.next();
      const auto a = direct.map(req.gpa, req.len_bytes, dartlab::Direction::ToDevice);
      const auto b = windowed.map(req.gpa, req.len_bytes, dartlab::Direction::ToDevice);
      REQUIRE((a.ok && b.ok));  // no limits: nothing may be refused
      for (std::uint64_t off : {std::uint64_t{0}, req.len_bytes / 2, req.len_bytes - 1}) {
        const auto ta = d_direct.translate(a.value.dma_addr + off, dart::Access::Read);
        const auto tb = d_window.translate(b.value.dma_addr + off, dart::Access::Read);
        REQUIRE((ta.ok && tb.ok));
        REQUIRE(ta.pa == tb.pa);
        REQUIRE(ta.pa == req.gpa + off);
      }
      held.push_back({{a.value, req.gpa, req.len_bytes}, {b.value, req.gpa, req.len_bytes}});
    } else {
      const std::size_t i = gen.pick(held.size());
      REQUIRE(direct.unmap(held[i].first.mapping.token, held[i].first.len));
      REQUIRE(windowed.unmap(held[i].second.mapping.token, held[i].second.len));
      held[i] = held.back();
      held.pop_back();
    }
  }
  // Windows trade bytes for mappings: never more host mappings than direct at the peak.
  CHECK(windowed.stats().peak_mappings <= direct.stats().peak_mappings);
}

TEST_CASE("no aperture allocator hands out overlapping bus ranges", "[property][dart]") {
  const auto seed = GENERATE(21u, 22u, 23u, 24u);
  const auto alloc = GENERATE(as<std::string>{}, "first-fit", "best-fit", "buddy", "linux");
  CAPTURE(seed, alloc);
  // A small aperture keeps the allocator under pressure: fragmentation, refusals, reuse.
  dart::Dart d(dart_config("aperture=64M,alloc=" + alloc));
  RandomRequests gen(seed);
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> live;  // bus base -> (len, handle)
  std::uint64_t refused = 0;
  for (int step = 0; step < 10000; ++step) {
    if (live.empty() || gen.pick(5) < 3) {  // maps outnumber unmaps: the aperture fills up
      const std::uint64_t pages = 1 + gen.pick(64);
      const auto r = d.map(0x4000'0000 + (gen.pick(1 << 16) << 14), pages << 14, dart::Perms{});
      if (!r.ok) {
        ++refused;
        continue;
      }
      const std::uint64_t base = r.mapping.bus_addr, len = pages << 14;
      REQUIRE(base >= d.config().base_bus_addr);
      REQUIRE(base + len <= d.config().base_bus_addr + d.config().aperture_bytes);
      auto next = live.lower_bound(base);
      if (next != live.end()) REQUIRE(base + len <= next->first);
      if (next != live.begin()) {
        const auto prev = std::prev(next);
        REQUIRE(prev->first + prev->second.first <= base);
      }
      live[base] = {len, r.mapping.handle};
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(gen.pick(live.size())));
      REQUIRE(d.unmap(it->second.second));
      live.erase(it);
    }
  }
  CHECK(refused > 0);  // the test did reach the allocator's limits
}
