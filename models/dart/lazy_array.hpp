// SPDX-License-Identifier: MIT
// A lazily materialized array for the bitmap apertures (bitmap_aperture.cpp, bitmap_best_fit.cpp):
// fixed-size chunks allocated on first write; a missing chunk reads as the pristine value of each
// index, computed from the index alone. So a 64 GiB or `max` aperture costs a chunk table to
// create, and memory grows with the part of the aperture ever touched.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace dartlab::dart {

// An array of up to 2^SingleBits entries is one flat array sized to its contents and read
// without a chunk lookup; a larger one is cut into chunks of 2^ChunkBits entries (at most
// SingleBits), smaller so that memory follows the touched parts closely.
template <typename T, typename Pristine, unsigned SingleBits = 12, unsigned ChunkBits = SingleBits>
class LazyArray {
 public:
  static_assert(ChunkBits <= SingleBits);
  static constexpr std::uint64_t kChunk = std::uint64_t{1} << ChunkBits;

  LazyArray(std::uint64_t size, Pristine pristine)
      : pristine_(pristine),
        single_(size <= (std::uint64_t{1} << SingleBits)),
        chunks_(single_ ? 1 : (size + kChunk - 1) / kChunk),
        chunk_size_(single_ ? size : kChunk) {}  // a small aperture gets a small array

  T get(std::uint64_t i) const {
    if (single_) return flat_[i];  // one chunk: kept, one load less
    const T* chunk = chunks_[i >> ChunkBits].get();
    return chunk != nullptr ? chunk[i & (kChunk - 1)] : pristine_(i);
  }
  // Entry i's address when its chunk exists (entries up to the chunk's end follow it), else
  // nullptr: the entries there are still pristine.
  const T* find(std::uint64_t i) const {
    if (single_) return flat_ + i;
    const T* chunk = chunks_[i >> ChunkBits].get();
    return chunk != nullptr ? chunk + (i & (kChunk - 1)) : nullptr;
  }
  T& at(std::uint64_t i) {
    if (single_) return flat_[i];
    std::unique_ptr<T[]>& chunk = chunks_[i >> ChunkBits];
    if (!chunk) [[unlikely]] fill(chunk, i & ~(kChunk - 1));
    return chunk[i & (kChunk - 1)];
  }
  // Back to pristine: chunks dropped, so memory follows what is touched again; a single chunk
  // is refilled instead, as get() reads it without a check. Must be called once before use.
  void clear() {
    for (auto& c : chunks_) c.reset();
    if (single_) {
      fill(chunks_[0], 0);
      flat_ = chunks_[0].get();
    }
  }

 private:
  // Once per chunk: out of line, so that at() stays small enough to inline.
  [[gnu::noinline, gnu::cold]] void fill(std::unique_ptr<T[]>& chunk, std::uint64_t base) {
    chunk = std::make_unique_for_overwrite<T[]>(chunk_size_);
    for (std::uint64_t k = 0; k < chunk_size_; ++k) chunk[k] = pristine_(base + k);
  }

  Pristine pristine_;
  bool single_;
  std::vector<std::unique_ptr<T[]>> chunks_;
  std::uint64_t chunk_size_;  // kChunk, or the whole size when single_
  T* flat_ = nullptr;         // chunk 0 when single_
};

// Page bits in a LazyArray of 64-bit words (the boundary-tag allocators' start and end bits).
// Forced inline: GCC called the two writers, about 19 instructions a call around a load, an OR
// or AND and a store, four calls an alloc and free of BM_CoreDirect's (callgrind).
template <typename Words>
[[gnu::always_inline]] inline bool test_page_bit(const Words& words, std::uint64_t page) {
  return ((words.get(page / 64) >> (page % 64)) & 1) != 0;
}
template <typename Words>
[[gnu::always_inline]] inline void set_page_bit(Words& words, std::uint64_t page) {
  words.at(page / 64) |= std::uint64_t{1} << (page % 64);
}
template <typename Words>
[[gnu::always_inline]] inline void clear_page_bit(Words& words, std::uint64_t page) {
  words.at(page / 64) &= ~(std::uint64_t{1} << (page % 64));
}

}  // namespace dartlab::dart
