// SPDX-License-Identifier: MIT
// Spec strings and help for the timed mode, and the latency histogram.
#include <catch2/catch.hpp>

#include <variant>

#include "sim/timed/latency_histogram.hpp"
#include "sim/timed/timed_config.hpp"

using namespace dartlab;
using namespace dartlab::sim::timed;
using Catch::Matchers::Contains;

TEST_CASE("A link spec is a preset and overrides, printed back as the preset and what differs", "[timed_config]") {
  auto r = parse_link_spec("tb3,mps=256,dp=17280,port=100ns,hop=1us");
  REQUIRE(std::holds_alternative<thunderbolt::LinkConfig>(r));
  const auto& link = std::get<thunderbolt::LinkConfig>(r);
  CHECK(link.name == "tb3");
  CHECK(link.mps_bytes == 256);
  CHECK(link.dp_reserved_mbps == 17280);
  CHECK(link.port_ns == 100);
  CHECK(link.tunnel_hop_ns == 1000);
  CHECK(to_spec(link) == "tb3,mps=256,dp=17280,port=100ns,hop=1us");
  CHECK(to_spec(thunderbolt::kLinkPcieGen4x16) == "pcie-gen4-x16");
  CHECK(std::get<thunderbolt::LinkConfig>(parse_link_spec(to_spec(link))) == link);
}

TEST_CASE("Bad link specs say what is wrong", "[timed_config]") {
  CHECK_THAT(std::get<std::string>(parse_link_spec("tb9")), Contains("unknown link preset 'tb9'"));
  CHECK_THAT(std::get<std::string>(parse_link_spec("tb4,speed=5")), Contains("unknown key 'speed'"));
  CHECK_THAT(std::get<std::string>(parse_link_spec("tb4,mps=big")), Contains("not a size"));
  CHECK_THAT(std::get<std::string>(parse_link_spec("tb4,dp=50000")), Contains("leaves no tunnel bandwidth"));
  CHECK_THAT(std::get<std::string>(parse_link_spec("tb4,gen=7")), Contains("out of range"));
  CHECK_THAT(std::get<std::string>(parse_link_spec("")), Contains("starts with a preset name"));
}

TEST_CASE("A DART spec takes a bare variant, the functional keys and the timed ones", "[timed_config]") {
  SECTION("an empty spec gives t8110 with its timing row") {
    const TimedDart d = std::get<TimedDart>(parse_timed_dart_spec(""));
    CHECK(d.functional.variant.name == "t8110");
    CHECK(d.timing == dart::kDartT8110.timing);
  }
  SECTION("a bare variant picks its functional variant and its timing row") {
    const TimedDart d = std::get<TimedDart>(parse_timed_dart_spec("t8020"));
    CHECK(d.functional.variant.name == "t8020");
    CHECK(d.timing == dart::kDartT8020.timing);
  }
  SECTION("functional and timed keys mix in one spec and print back") {
    const TimedDart d =
        std::get<TimedDart>(parse_timed_dart_spec("t8110,aperture=1G,inval=batched,iotlb-sets=128,repl=fifo,flush-hw=2us"));
    CHECK(d.functional.aperture_bytes == 1ULL << 30);
    CHECK(d.timing.invalidation.mode == dart::InvalidationMode::Batched);
    CHECK(d.timing.iotlb.sets == 128);
    CHECK(d.timing.iotlb.replacement == dart::Replacement::Fifo);
    CHECK(d.timing.invalidation.flush_hw_ns == 2000);
    CHECK_THAT(to_spec(d), Contains("variant=t8110"));
    CHECK_THAT(to_spec(d), Contains("inval=batched"));
  }
  SECTION("bad DART specs say what is wrong") {
    CHECK_THAT(std::get<std::string>(parse_timed_dart_spec("t8020,scope=range")), Contains("no range flush"));
    CHECK_THAT(std::get<std::string>(parse_timed_dart_spec("t9000")), Contains("not a DART variant"));
    CHECK_THAT(std::get<std::string>(parse_timed_dart_spec("tlb=3")), Contains("unknown DART key 'tlb'"));
    CHECK_THAT(std::get<std::string>(parse_timed_dart_spec("iotlb-sets=3")), Contains("power of two"));
    CHECK_THAT(std::get<std::string>(parse_timed_dart_spec("aperture=3")), Contains("aperture"));
  }
}

TEST_CASE("Host specs set the mapping path, host memory and the copy engine", "[timed_config]") {
  const HostConfig h = std::get<HostConfig>(parse_host_spec("doorbell=10us,service=50us,mem-read=200,mode=tlp,quantum=1ms"));
  CHECK(h.mapping.doorbell_ns == 10000);
  CHECK(h.mapping.service_ns == 50000);
  CHECK(h.memory.read_ns == 200);
  CHECK(h.gpu.mode == TransferMode::Tlp);
  CHECK(h.gpu.quantum_ns == 1'000'000);
  CHECK(to_spec(HostConfig{}) == "defaults");
  CHECK_THAT(std::get<std::string>(parse_host_spec("doorbell=1.5us")), Contains("not a time"));
  CHECK_THAT(std::get<std::string>(parse_host_spec("doorbell=1500ps")), Contains("whole ns"));
}

TEST_CASE("The help lists every preset and every parameter", "[timed_config][help]") {
  const std::string link = link_help();
  for (const auto& p : thunderbolt::kLinkPresets) CHECK_THAT(link, Contains(std::string(p.name)));
  for (const char* key : {"gen", "lanes", "mps", "mrrs", "cpl", "ack", "fc", "ph", "pd", "tags", "tunnel", "guard", "dp",
                          "hop", "port", "h2d GiB/s", "d2h GiB/s"})
    CHECK_THAT(link, Contains(key));
  const std::string dart = dart_timing_help();
  for (const char* key : {"iotlb-sets", "iotlb-ways", "repl", "lookup", "inval", "scope", "batch", "window", "flush-hw", "poll"})
    CHECK_THAT(dart, Contains(key));
  const std::string host = host_help();
  for (const char* key : {"doorbell", "mapper", "service", "pte", "mem-read", "mem-gbps", "dma-setup", "quantum"})
    CHECK_THAT(host, Contains(key));
}

TEST_CASE("The latency histogram gives percentiles within 3% in fixed memory", "[histogram]") {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);
  CHECK(h.count() == 100000);
  CHECK(static_cast<double>(h.quantile(0.5)) == Approx(50'000'000.0).epsilon(0.03));
  CHECK(static_cast<double>(h.quantile(0.99)) == Approx(99'000'000.0).epsilon(0.03));
  CHECK(h.quantile(1.0) == h.max());
  CHECK(h.min() == 1000);
  CHECK(h.mean() == Approx(50'000'500.0));
  SECTION("small values are exact") {
    LatencyHistogram s;
    for (int i = 0; i < 10; ++i) s.record(7);
    CHECK(s.quantile(0.5) == 7);
  }
  SECTION("every bucket's low end maps back to the bucket") {
    for (unsigned b = 0; b < LatencyHistogram::kBuckets; ++b)
      CHECK(LatencyHistogram::bucket_of(LatencyHistogram::bucket_low(b)) == b);
  }
  static_assert(sizeof(LatencyHistogram) < 16 * 1024, "fixed memory");
}
