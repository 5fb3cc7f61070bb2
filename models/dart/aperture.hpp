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
};

std::string_view to_string(AllocPolicy policy);
std::optional<AllocPolicy> alloc_policy_from_string(std::string_view name);

class ApertureAllocator {
 public:
  virtual ~ApertureAllocator();
  // First page index of a contiguous free run of `pages` pages, now allocated; nullopt if no run
  // fits or pages == 0.
  virtual std::optional<std::uint64_t> alloc(std::uint64_t pages) = 0;
  // Returns a run made by alloc() (or a part of one); coalesces with free neighbours.
  virtual void free(std::uint64_t first_page, std::uint64_t pages) = 0;
  virtual std::uint64_t free_pages() const = 0;
  virtual std::uint64_t largest_free_pages() const = 0;  // O(1): read on every event for metrics
  virtual std::uint64_t free_extents() const = 0;        // number of free runs (fragmentation)
  virtual void reset() = 0;                              // everything free again
};

std::unique_ptr<ApertureAllocator> make_aperture_allocator(AllocPolicy policy, std::uint64_t first_page,
                                                           std::uint64_t page_count);

}  // namespace dartlab::dart
