// The guest-physical memory model the generators place requests in.
#include <catch2/catch.hpp>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>

#include "traces/gen/guest_memory.hpp"

namespace {

using dartlab::trace::gen::GuestMemory;
using dartlab::trace::gen::Rng;

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t kBase = 0x4000'0000;  // 1 GiB aligned, so alignment shows in the gpa
constexpr std::uint64_t kRam = 256 * MiB;

// Ranges handed out, checked for alignment, bounds and overlap as they come.
class Taken {
 public:
  void add(std::optional<std::uint64_t> gpa, std::uint64_t bytes) {
    if (!gpa) return note("no room although RAM is mostly free");
    if (*gpa % bytes != 0) note("not naturally aligned");
    if (*gpa < kBase || *gpa + bytes > kBase + kRam) note("outside guest RAM");
    const auto next = ranges_.lower_bound(*gpa);
    if (next != ranges_.end() && next->first < *gpa + bytes) note("overlaps the next range");
    if (next != ranges_.begin() && std::prev(next)->first + std::prev(next)->second > *gpa) {
      note("overlaps the previous range");
    }
    ranges_.emplace(*gpa, bytes);
    bytes_ += bytes;
  }
  std::map<std::uint64_t, std::uint64_t>& ranges() { return ranges_; }
  std::uint64_t bytes() const { return bytes_; }
  const std::string& problem() const { return problem_; }

 private:
  void note(const char* what) {
    if (problem_.empty()) problem_ = what;
  }
  std::map<std::uint64_t, std::uint64_t> ranges_;
  std::uint64_t bytes_ = 0;
  std::string problem_;
};

}  // namespace

TEST_CASE("Guest memory hands out aligned, disjoint ranges and takes them all back",
          "[traces][gen][memory]") {
  Rng rng(GENERATE(1u, 2u, 3u));
  GuestMemory memory(kBase, kRam, 2 * MiB, 128);
  Taken taken;
  for (int i = 0; i < 3000; ++i) {
    const std::uint32_t pages = 1u << rng.below(3);
    taken.add(memory.alloc_pages(rng, pages), pages * 4 * KiB);
    if (i % 50 == 0) {
      const std::uint64_t bytes = (64 * KiB) << rng.below(6);
      taken.add(memory.alloc_block(rng, bytes), bytes);
    }
  }
  const std::uint64_t big = 16 * MiB;  // more than a cluster: whole clusters
  taken.add(memory.alloc_block(rng, big), big);
  CHECK(taken.problem() == "");
  CHECK(memory.used_bytes() == taken.bytes());

  for (const auto& [gpa, bytes] : taken.ranges()) memory.free(gpa, bytes);
  CHECK(memory.used_bytes() == 0);
}

TEST_CASE("Guest memory clusters single pages, apart from one another", "[traces][gen][memory]") {
  Rng rng(GENERATE(4u, 5u));
  GuestMemory memory(kBase, kRam, 2 * MiB, 128);
  std::map<std::uint64_t, int> per_cluster;
  std::uint64_t previous = 0;
  int adjacent = 0;
  for (int i = 0; i < 1024; ++i) {
    const auto gpa = memory.alloc_pages(rng, 1);
    REQUIRE(gpa.has_value());
    ++per_cluster[*gpa / (2 * MiB)];
    adjacent += *gpa == previous + 4 * KiB;
    previous = *gpa;
  }
  CHECK(per_cluster.size() == 1024 / 128);  // each cluster filled to its mark, then the next
  CHECK(adjacent < 1024 / 4);
}

TEST_CASE("Guest memory says so when it is full", "[traces][gen][memory]") {
  Rng rng(6);
  GuestMemory memory(kBase, 8 * MiB, 2 * MiB, 512);
  for (int i = 0; i < 4; ++i) CHECK(memory.alloc_block(rng, 2 * MiB).has_value());
  CHECK_FALSE(memory.alloc_pages(rng, 1).has_value());
  CHECK_FALSE(memory.alloc_block(rng, 64 * KiB).has_value());
  memory.free(kBase + 2 * MiB, 2 * MiB);
  CHECK(memory.alloc_block(rng, 4 * MiB) == std::nullopt);  // 2 MiB free, not 4
  CHECK(memory.alloc_pages(rng, 4).has_value());
}
