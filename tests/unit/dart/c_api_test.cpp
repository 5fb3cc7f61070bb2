// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <string>

#include "passthrough/backends/dartlab_dart.h"

using Catch::Matchers::Contains;

TEST_CASE("dl_dart_create refuses a bad spec with the parser's reason", "[c_api]") {
  char err[128] = "unchanged";
  CHECK(dl_dart_create("aperture=8T", err, sizeof err) == nullptr);
  CHECK_THAT(std::string(err), Contains("aperture=8T exceeds the 42-bit input space of t8110"));

  char tiny[8];
  CHECK(dl_dart_create("bogus=1", tiny, sizeof tiny) == nullptr);
  CHECK(std::string(tiny) == "unknown");  // truncated, still terminated
  CHECK(dl_dart_create("bogus=1", nullptr, 0) == nullptr);
}

TEST_CASE("The C API maps unaligned ranges, translates and unmaps", "[c_api]") {
  char err[128] = "";
  DlDart* d = dl_dart_create("aperture=1M,slots=2", err, sizeof err);
  REQUIRE(d != nullptr);
  uint64_t bus = 0;
  uint64_t handle = 0;
  REQUIRE(dl_dart_map(d, 0x8'0000'3ff0, 0x20, DL_DART_TO_DEVICE, &bus, &handle) == DL_DART_OK);
  CHECK(bus == 16384 + 0x3ff0);

  uint64_t pa = 0;
  int fault = -1;
  CHECK(dl_dart_translate(d, bus + 0x1f, 0, &pa, &fault) == 0);
  CHECK(pa == 0x8'0000'3ff0 + 0x1f);
  CHECK(fault == DL_DART_FAULT_NONE);
  CHECK(dl_dart_translate(d, bus, 1, &pa, &fault) == 1);
  CHECK(fault == DL_DART_FAULT_WRITE_PROT);
  CHECK(dl_dart_translate(d, 0, 0, nullptr, &fault) == 1);
  CHECK(fault == DL_DART_FAULT_NO_TTBR);
  uint64_t fault_addr = 0;
  CHECK(dl_dart_last_fault(d, &fault_addr) == DL_DART_FAULT_WRITE_PROT);
  CHECK(fault_addr == bus);
  dl_dart_clear_fault(d);
  CHECK(dl_dart_last_fault(d, nullptr) == DL_DART_FAULT_NONE);

  DlDartStats s{};
  dl_dart_stats(d, &s);
  CHECK(s.live_mappings == 1);
  CHECK(s.mapped_bytes == 2 * 16384);
  CHECK(s.aperture_bytes == 1u << 20);
  CHECK(s.slot_capacity == 2);
  CHECK(s.faults_by_code[DL_DART_FAULT_WRITE_PROT - 1] == 1);
  CHECK(s.faults_by_code[DL_DART_FAULT_NO_TTBR - 1] == 1);

  CHECK(dl_dart_map(d, 0, 0, DL_DART_BIDIRECTIONAL, &bus, &handle) == DL_DART_INVALID);
  CHECK(dl_dart_map(d, 0, 1, 7, &bus, &handle) == DL_DART_INVALID);
  CHECK(dl_dart_map(d, 0, 2u << 20, DL_DART_BIDIRECTIONAL, &bus, &handle) == DL_DART_APERTURE);
  uint64_t second = 0;
  REQUIRE(dl_dart_map(d, 0, 1, DL_DART_FROM_DEVICE, nullptr, &second) == DL_DART_OK);
  CHECK(dl_dart_map(d, 0, 1, DL_DART_FROM_DEVICE, nullptr, nullptr) == DL_DART_SLOTS);
  dl_dart_stats(d, &s);
  CHECK(s.failures[DL_DART_SLOTS - 1] == 1);
  CHECK(s.failures[DL_DART_APERTURE - 1] == 1);

  CHECK(dl_dart_unmap(d, handle) == DL_DART_OK);
  CHECK(dl_dart_unmap(d, handle) == DL_DART_INVALID);
  dl_dart_reset(d);
  CHECK(dl_dart_unmap(d, second) == DL_DART_INVALID);
  dl_dart_stats(d, &s);
  CHECK(s.live_mappings == 0);
  CHECK(s.tables_live == 0);
  dl_dart_destroy(d);
}

TEST_CASE("The C API tolerates null handles and default specs", "[c_api]") {
  CHECK(dl_dart_map(nullptr, 0, 1, 0, nullptr, nullptr) == DL_DART_ERROR);
  CHECK(dl_dart_unmap(nullptr, 1) == DL_DART_ERROR);
  CHECK(dl_dart_translate(nullptr, 0, 0, nullptr, nullptr) == DL_DART_ERROR);
  dl_dart_stats(nullptr, nullptr);
  dl_dart_reset(nullptr);
  dl_dart_destroy(nullptr);
  DlDart* d = dl_dart_create(nullptr, nullptr, 0);
  REQUIRE(d != nullptr);
  DlDartStats s{};
  dl_dart_stats(d, &s);
  CHECK(s.aperture_bytes == 1536ull << 20);
  CHECK(s.slot_capacity == 65536);
  dl_dart_destroy(d);
}

TEST_CASE("dl_dart_map_region answers a region cut at the host's chunk; dl_dart_map refuses it and keeps nothing",
          "[c_api][host]") {
  char err[128] = "";
  DlDart* d = dl_dart_create("chunk=64K", err, sizeof err);
  REQUIRE(d != nullptr);
  uint64_t bus = 0, len = 0, handle = 0;
  REQUIRE(dl_dart_map_region(d, 0x100000, 256 * 1024, DL_DART_BIDIRECTIONAL, &bus, &len, &handle) == DL_DART_OK);
  CHECK(len == 64 * 1024);
  DlDartStats s{};
  dl_dart_stats(d, &s);
  CHECK(s.mapped_bytes == 64 * 1024);
  CHECK(dl_dart_unmap(d, handle) == DL_DART_OK);

  uint64_t untouched = 7;
  CHECK(dl_dart_map(d, 0x100000, 256 * 1024, DL_DART_BIDIRECTIONAL, &untouched, &handle) == DL_DART_TRUNCATED);
  CHECK(untouched == 7);
  dl_dart_stats(d, &s);
  CHECK(s.live_mappings == 0);
  REQUIRE(dl_dart_map_region(d, 0x100000, 4096, DL_DART_BIDIRECTIONAL, &bus, &len, &handle) == DL_DART_OK);
  CHECK(len == 4096);
  CHECK(dl_dart_map_region(nullptr, 0, 1, 0, nullptr, nullptr, nullptr) == DL_DART_ERROR);
  dl_dart_destroy(d);
}

TEST_CASE("Under duplicate=refuse the C API answers DL_DART_DUPLICATE, and a reset forgets the registrations",
          "[c_api][host]") {
  char err[128] = "";
  DlDart* d = dl_dart_create("duplicate=refuse", err, sizeof err);
  REQUIRE(d != nullptr);
  uint64_t handle = 0;
  REQUIRE(dl_dart_map(d, 0x40000, 16384, DL_DART_BIDIRECTIONAL, nullptr, &handle) == DL_DART_OK);
  CHECK(dl_dart_map(d, 0x40000, 32768, DL_DART_BIDIRECTIONAL, nullptr, nullptr) == DL_DART_DUPLICATE);
  dl_dart_reset(d);
  CHECK(dl_dart_map(d, 0x40000, 32768, DL_DART_BIDIRECTIONAL, nullptr, &handle) == DL_DART_OK);
  CHECK(dl_dart_unmap(d, handle) == DL_DART_OK);
  CHECK(dl_dart_map(d, 0x40000, 16384, DL_DART_BIDIRECTIONAL, nullptr, nullptr) == DL_DART_OK);
  dl_dart_destroy(d);
}
