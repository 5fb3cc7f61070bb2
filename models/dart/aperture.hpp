// SPDX-License-Identifier: MIT
// The bus-address aperture: which pages of the DART's input space are free, and a pluggable
// policy that picks where a new mapping goes. Counts pages, never bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace dartlab::dart {

enum class AllocPolicy : std::uint8_t {
  FirstFit,  // lowest-address free run that fits
  BestFit,   // smallest free run that fits, ties to the lowest address
  Buddy,     // binary buddy: runs rounded up to 2^k pages, naturally aligned blocks (buddy_aperture.hpp)
  Linux,     // top-down, size-aligned, with a cached start point, as Linux's iova.c (iova_aperture.hpp)
};
inline constexpr AllocPolicy kAllocPolicies[] = {AllocPolicy::FirstFit, AllocPolicy::BestFit, AllocPolicy::Buddy,
                                                 AllocPolicy::Linux};

std::string_view to_string(AllocPolicy policy);
std::optional<AllocPolicy> alloc_policy_from_string(std::string_view name);
std::string_view alloc_policy_names();  // "first-fit, best-fit, buddy or linux", for messages

class ApertureAllocator {
 public:
  virtual ~ApertureAllocator();
  static constexpr std::uint64_t kNoFit = ~std::uint64_t{0};  // take(): no run fits

  // First page index of a contiguous free run of `pages` pages, now allocated; kNoFit if no run
  // fits or pages == 0, and then nothing has changed (the DART asks why only afterwards). A
  // refusal holds for larger requests too until the next free() or reset(): a run (aligned, for
  // linux and buddy) that fits more pages holds one that fits fewer, and taking pages never makes
  // room, so the DART need not ask again (Dart::map). A
  // plain integer: GCC returned a std::optional<std::uint64_t> from these functions through a
  // stack slot, its "engaged" byte stored and then loaded with its neighbours as 8 bytes, a load
  // no store can forward. It waited until the byte reached the cache, behind every older store
  // still missing its line (the allocators' own): perf put 65% of first-fit's alloc samples in
  // `dartlab replay -p direct` on that load.
  virtual std::uint64_t take(std::uint64_t pages) = 0;
  // take() as an optional, off the hot path (tests, tools).
  std::optional<std::uint64_t> alloc(std::uint64_t pages) {
    const std::uint64_t first = take(pages);
    if (first == kNoFit) return std::nullopt;
    return first;
  }
  // Returns a run made by alloc() (or a part of one: not with buddy, which frees whole blocks,
  // so it takes exactly the first page and page count alloc() was given); coalesces with free
  // neighbours.
  virtual void free(std::uint64_t first_page, std::uint64_t pages) = 0;
  // Pages alloc(pages) takes out of the free pages: `pages`, except buddy's power of two. Fewer
  // free pages than that and no arrangement of the aperture could serve the request (the DART
  // says "aperture"); more and a refusal is fragmentation.
  virtual std::uint64_t reserved_pages(std::uint64_t pages) const { return pages; }
  virtual std::uint64_t free_pages() const = 0;
  // The largest request alloc() would satisfy now: the longest free run for first-fit and
  // best-fit, the largest free block for buddy, the longest run that fits size-aligned for linux.
  // So free_pages() - largest_free_pages() measures what fragmentation (and alignment) cost.
  // Cheap (O(1), or O(log aperture) for linux): read on every event for metrics.
  virtual std::uint64_t largest_free_pages() const = 0;
  // Number of free runs (fragmentation); for buddy, of free blocks (neighbours that are not
  // buddies stay apart).
  virtual std::uint64_t free_extents() const = 0;
  virtual void reset() = 0;  // everything free again
};

std::unique_ptr<ApertureAllocator> make_aperture_allocator(AllocPolicy policy, std::uint64_t first_page,
                                                           std::uint64_t page_count);

}  // namespace dartlab::dart
