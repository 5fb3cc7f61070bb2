// SPDX-License-Identifier: MIT
// The binary trace's codings: the magic, prefix varints, zigzag deltas, the XXH64 checksum.
#include <catch2/catch.hpp>

#include <limits>
#include <random>

#include "binary_test_files.hpp"
#include "traces/binary_format.hpp"

using namespace dartlab::trace;
using dartlab::trace::testing::varint;

TEST_CASE("The binary magic cannot start a text trace or an ftrace recording", "[traces][binary]") {
  REQUIRE(kBinaryMagic.size() == 8);
  CHECK(static_cast<unsigned char>(kBinaryMagic[0]) >= 0x80);  // both others are ASCII
  CHECK(kBinaryMagic.substr(1, 3) == "DLT");
}

TEST_CASE("Varints take one byte per seven bits, nine past 56 bits, length first", "[traces][binary]") {
  using std::string;
  CHECK(varint(0) == string("\x01", 1));
  CHECK(varint(1) == string("\x03", 1));
  CHECK(varint(127) == string("\xff", 1));
  CHECK(varint(128) == string("\x02\x02", 2));
  CHECK(varint(0x3fff) == string("\xfe\xff", 2));
  CHECK(varint(0x4000) == string("\x04\x00\x02", 3));
  CHECK(varint((std::uint64_t{1} << 56) - 1) == string("\x80\xff\xff\xff\xff\xff\xff\xff", 8));
  CHECK(varint(std::uint64_t{1} << 56) == string("\x00\x00\x00\x00\x00\x00\x00\x00\x01", 9));
  CHECK(varint(~std::uint64_t{0}) == string("\x00\xff\xff\xff\xff\xff\xff\xff\xff", 9));
  for (unsigned bits = 1; bits <= 64; ++bits) {
    const std::uint64_t v = ~std::uint64_t{0} >> (64 - bits);
    const std::size_t n = bits > 56 ? 9 : (bits + 6) / 7;
    INFO(bits << " bits");
    CHECK(binary::varint_bytes(v) == n);
    CHECK(varint(v).size() == n);
  }
}

TEST_CASE("Zigzag keeps small deltas of either sign small", "[traces][binary]") {
  using binary::unzigzag;
  using binary::zigzag;
  CHECK(zigzag(0) == 0);
  CHECK(zigzag(~std::uint64_t{0}) == 1);  // -1
  CHECK(zigzag(1) == 2);
  CHECK(zigzag(std::uint64_t{1} << 63) == ~std::uint64_t{0});  // the most negative
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t d = rng() >> (rng() % 64);
    REQUIRE(unzigzag(zigzag(d)) == d);
    REQUIRE(unzigzag(zigzag(0 - d)) == 0 - d);
  }
}

TEST_CASE("The checksum is XXH64 as its reference computes it", "[traces][binary]") {
  // Reference values (also the low 32 bits zstd --check writes after each input).
  auto h = [](std::string_view s, std::uint64_t seed = 0) { return binary::xxh64(s.data(), s.size(), seed); };
  CHECK(h("") == 0xef46db3751d8e999);
  CHECK(h("a") == 0xd24ec4f1a98c6e5b);
  CHECK(h("abc") == 0x44bc2cf5ad770999);
  CHECK(h("The quick brown fox jumps over the lazy dog") == 0x0b242d361fda71bc);
  CHECK(h("0123456789abcdef0123456789abcdef0123456789") == 0xa76190c3acf08a1c);
  CHECK(h("abc", 1) != h("abc"));
  CHECK(binary::checksum("abc", 3, 0) == 0xad770999);
}
