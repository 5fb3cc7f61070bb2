// SPDX-License-Identifier: MIT
// When the host flushes the IOTLB and what one flush costs it: strict (Linux apple-dart) against
// batched (the flush queue).
#include <catch2/catch.hpp>

#include "models/dart/invalidation.hpp"

using namespace dartlab::dart;

TEST_CASE("A flush costs a command write, a status read and a 1 us poll for each read that finds it busy",
          "[invalidation]") {
  InvalidationConfig c;  // write 100 ns, read 150 ns, the DART 500 ns, polls every 1 us
  FlushCost f = flush_cost(c);
  CHECK(f.polls == 2);  // busy at 150 ns, done at 1300 ns
  CHECK(f.ns == 100 + 150 + 1000 + 150);
  CHECK_FALSE(f.timed_out);
  SECTION("a DART faster than one read costs one read") {
    c.flush_hw_ns = 100;
    f = flush_cost(c);
    CHECK(f.polls == 1);
    CHECK(f.ns == 250);
  }
  SECTION("a DART slower than the timeout gives up at the timeout") {
    c.flush_hw_ns = 1'000'000;
    f = flush_cost(c);
    CHECK(f.timed_out);
    CHECK(f.ns >= c.poll_timeout_ns);
    CHECK(f.ns < c.poll_timeout_ns + c.poll_interval_ns + 2 * c.status_read_ns + c.command_write_ns);
  }
}

TEST_CASE("Strict mode flushes after every map and every unmap", "[invalidation]") {
  InvalidationPolicy p(InvalidationConfig{});
  for (int i = 0; i < 10; ++i) {
    CHECK(p.on_map(i));
    CHECK(p.on_unmap(i));
  }
  CHECK_FALSE(p.on_time(1'000'000'000));
  CHECK(p.scope() == FlushScope::Stream);
}

TEST_CASE("Batched mode flushes once per 250 unmaps or once the oldest waited 10 ms, never on a map",
          "[invalidation]") {
  InvalidationConfig c;
  c.mode = InvalidationMode::Batched;
  InvalidationPolicy p(c);
  SECTION("a full queue of 250 unmaps flushes, four times in 1000") {
    int flushes = 0;
    for (int i = 0; i < 1000; ++i) {
      CHECK_FALSE(p.on_map(i));
      flushes += p.on_unmap(i) ? 1 : 0;
    }
    CHECK(flushes == 4);
    CHECK(p.pending() == 0);
  }
  SECTION("a queued unmap flushes once the oldest has waited 10 ms, and nothing queued flushes nothing") {
    CHECK_FALSE(p.on_unmap(1'000));
    CHECK_FALSE(p.on_time(1'000 + 9'999'999));
    CHECK(p.on_time(1'000 + 10'000'000));
    CHECK(p.pending() == 0);
    CHECK_FALSE(p.on_time(100'000'000));  // nothing queued, nothing to flush
  }
  SECTION("a batched range flush is widened to cover the stream") {
    c.scope = FlushScope::Range;
    CHECK(InvalidationPolicy(c).scope() == FlushScope::Stream);
  }
}
