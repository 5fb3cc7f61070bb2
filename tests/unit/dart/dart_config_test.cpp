// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "models/dart/dart_config.hpp"
#include "test_support.hpp"

using namespace dartlab::dart;
using Catch::Matchers::Contains;
using dartlab::dart::test::config_of;

namespace {
std::string error_of(const std::string& spec) {
  auto r = parse_dart_spec(spec);
  if (std::holds_alternative<DartConfig>(r)) FAIL("spec '" << spec << "' was accepted");
  return std::get<std::string>(r);
}
}  // namespace

TEST_CASE("An empty spec gives the observed defaults", "[spec]") {
  const DartConfig c = config_of("");
  CHECK(c == DartConfig{});
  CHECK(c.aperture_bytes == 1536ull << 20);
  CHECK(c.slots == 65536);
  CHECK_FALSE(c.unlimited_slots);
  CHECK(c.page_bytes == 16384);
  CHECK(c.base_bus_addr == 16384);
  CHECK(c.alloc == AllocPolicy::FirstFit);
  CHECK(c.variant.name == "t8110");
  CHECK(c.variant.va_bits == 42);
  CHECK(c.chunk_bytes == 1536ull << 20);
  CHECK(c.duplicate == DuplicateRule::Share);
  CHECK(to_spec(c) ==
        "aperture=1536M,slots=65536,page=16K,alloc=first-fit,base=16K,variant=t8110,chunk=1536M,duplicate=share");
}

TEST_CASE("The host's rules are keys of the spec: chunk=SIZE|unlimited and duplicate=share|refuse", "[spec][host]") {
  CHECK(config_of("chunk=64K").chunk_bytes == 65536);
  CHECK(config_of("chunk=0x8000,page=4K").chunk_bytes == 32768);
  CHECK(config_of("chunk=unlimited").chunk_bytes == 0);
  CHECK(config_of("duplicate=refuse").duplicate == DuplicateRule::Refuse);
  CHECK(config_of("duplicate=share").duplicate == DuplicateRule::Share);
  CHECK(to_spec(config_of("chunk=unlimited,duplicate=refuse")).ends_with(",chunk=unlimited,duplicate=refuse"));
  CHECK(to_spec(config_of("chunk=3G")).ends_with(",chunk=3G,duplicate=share"));
}

TEST_CASE("Every key is parsed, in any order, with decimal, hex and suffixed sizes", "[spec]") {
  const DartConfig c = config_of("variant=t8020,base=0x8000,alloc=best-fit,page=32k,slots=0x100,aperture=1g");
  CHECK(c.variant.name == "t8020");
  CHECK(c.variant.va_bits == 32);
  CHECK(c.base_bus_addr == 0x8000);
  CHECK(c.alloc == AllocPolicy::BestFit);
  CHECK(c.page_bytes == 32768);
  CHECK(c.slots == 256);
  CHECK(c.aperture_bytes == 1ull << 30);
  CHECK(config_of("aperture=1048576").aperture_bytes == 1ull << 20);
  CHECK(config_of("aperture=2T,base=0").aperture_bytes == 2ull << 40);
  CHECK(config_of("slots=unlimited").unlimited_slots);
  CHECK(config_of("page=4K").base_bus_addr == 4096);  // the default base is one page
  CHECK(config_of("page=64K,aperture=64M").base_bus_addr == 65536);
}

TEST_CASE("aperture=max takes the whole input space above the base", "[spec]") {
  CHECK(config_of("aperture=max").aperture_bytes == (1ull << 42) - 16384);
  CHECK(config_of("aperture=max,variant=t8020").aperture_bytes == (1ull << 32) - 16384);
  CHECK(config_of("aperture=max,base=0").aperture_bytes == 1ull << 42);
  CHECK(config_of("aperture=4T,base=0").aperture_bytes == 1ull << 42);
}

TEST_CASE("A config's spec parses back to the same config", "[spec]") {
  const std::string spec = GENERATE(as<std::string>{}, "", "aperture=max", "slots=unlimited,alloc=best-fit",
                                    "variant=t8020,page=4K,aperture=12K,base=0", "aperture=1536M,slots=3,base=1G",
                                    "aperture=0x1234000,page=16K", "alloc=buddy", "alloc=linux,aperture=max",
                                    "chunk=unlimited,duplicate=refuse", "page=64K,chunk=192K,duplicate=share");
  CAPTURE(spec);
  const DartConfig c = config_of(spec);
  const std::string canonical = to_spec(c);
  CHECK(config_of(canonical) == c);
  CHECK(to_spec(config_of(canonical)) == canonical);
}

TEST_CASE("Bad specs are refused with a message naming the item and the reason", "[spec]") {
  SECTION("an unknown key is refused with the list of known keys") {
    const std::string e = error_of("apperture=1G");
    CHECK_THAT(e, Contains("unknown key 'apperture'") &&
                      Contains("aperture, slots, page, alloc, base, variant, chunk, duplicate"));
  }
  SECTION("sizes and counts that are not numbers or overflow are refused") {
    CHECK_THAT(error_of("aperture=12Q"), Contains("aperture=12Q") && Contains("not a size"));
    CHECK_THAT(error_of("aperture=-1M"), Contains("aperture=-1M") && Contains("not a size"));
    CHECK_THAT(error_of("aperture=0x"), Contains("not a size"));
    CHECK_THAT(error_of("aperture=99999999999999999999"), Contains("not a size"));
    CHECK_THAT(error_of("aperture=17000000T"), Contains("not a size"));  // overflows 64 bits
    CHECK_THAT(error_of("slots=many"), Contains("slots=many") && Contains("not a count"));
    CHECK_THAT(error_of("base=16Kb"), Contains("base=16Kb") && Contains("not a size"));
  }
  SECTION("an aperture that is not a whole number of pages is refused") {
    CHECK_THAT(error_of("aperture=100K"), Contains("aperture=100K") && Contains("not a multiple of the 16K page"));
    CHECK_THAT(error_of("aperture=0"), Contains("at least one page"));
  }
  SECTION("an aperture or base beyond the variant's input space is refused") {
    CHECK_THAT(error_of("aperture=8T"), Contains("aperture=8T exceeds the 42-bit input space of t8110"));
    CHECK_THAT(error_of("aperture=4T"), Contains("exceeds the 42-bit input space") && Contains("base=16K"));
    CHECK_THAT(error_of("aperture=4G,variant=t8020"), Contains("aperture=4G exceeds the 32-bit input space of t8020"));
    CHECK_THAT(error_of("variant=t8020,base=4G"), Contains("base=4G") && Contains("32-bit input space"));
  }
  SECTION("a slot count of 0 or above 2^32-1 is refused") {
    CHECK_THAT(error_of("slots=0"), Contains("slots=0") && Contains("at least one slot"));
    CHECK_THAT(error_of("slots=0x100000000"), Contains("at most 4294967295"));
  }
  SECTION("a page size that is not a power of two from 4K to 64K is refused") {
    for (const char* spec : {"page=12K", "page=2K", "page=128K", "page=0"}) {
      CAPTURE(spec);
      CHECK_THAT(error_of(spec), Contains(spec) && Contains("power of two from 4K to 64K"));
    }
  }
  SECTION("a chunk that is not whole pages or a duplicate rule other than refuse or share is refused") {
    CHECK_THAT(error_of("chunk=0"), Contains("chunk=0") && Contains("not a whole number of 16K pages"));
    CHECK_THAT(error_of("chunk=24K"), Contains("chunk=24K") && Contains("not a whole number of 16K pages"));
    CHECK_THAT(error_of("chunk=8K"), Contains("chunk=8K") && Contains("not a whole number of 16K pages"));
    CHECK_THAT(error_of("page=64K,chunk=96K"), Contains("chunk=96K") && Contains("64K pages"));
    CHECK_THAT(error_of("chunk=big"), Contains("chunk=big") && Contains("not a size") && Contains("unlimited"));
    CHECK_THAT(error_of("chunk=-1G"), Contains("chunk=-1G") && Contains("not a size"));
    CHECK_THAT(error_of("duplicate=maybe"), Contains("duplicate=maybe") && Contains("refuse") && Contains("share"));
    CHECK_THAT(error_of("duplicate="), Contains("duplicate=:"));
  }
  SECTION("a key given twice is refused") { CHECK_THAT(error_of("page=16K,slots=4,page=16K"), Contains("'page' given twice")); }
  SECTION("an unknown alloc or variant, or a base off the page, is refused") {
    CHECK_THAT(error_of("alloc=worst-fit"), Contains("alloc=worst-fit") && Contains("first-fit, best-fit, buddy or linux"));
    CHECK_THAT(error_of("variant=t6000"), Contains("variant=t6000") && Contains("t8020, t8110"));
    CHECK_THAT(error_of("base=8K"), Contains("base=8K") && Contains("not a multiple of the 16K page"));
  }
  SECTION("items that are not key=value, or empty, are refused") {
    CHECK_THAT(error_of("page"), Contains("'page' is not key=value"));
    CHECK_THAT(error_of("page=16K,"), Contains("empty item"));
    CHECK_THAT(error_of(",page=16K"), Contains("empty item"));
  }
}

TEST_CASE("Sizes print with the largest binary suffix that divides them", "[spec]") {
  CHECK(format_size(16384) == "16K");
  CHECK(format_size(1536ull << 20) == "1536M");
  CHECK(format_size(1ull << 42) == "4T");
  CHECK(format_size(3ull << 30) == "3G");
  CHECK(format_size(1000) == "1000");
  CHECK(format_size(0) == "0");
}
