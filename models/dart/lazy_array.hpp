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

// ChunkBits: log2 of the entries per chunk. An array that fits one chunk is sized to its
// contents and read without the chunk lookup.
template <typename T, typename Pristine, unsigned ChunkBits = 12>
class LazyArray {
 public:
  static constexpr unsigned kChunkBits = ChunkBits;
  static constexpr std::uint64_t kChunk = std::uint64_t{1} << kChunkBits;

  LazyArray(std::uint64_t size, Pristine pristine)
      : pristine_(pristine),
        chunks_((size + kChunk - 1) / kChunk),
        single_(chunks_.size() == 1),
        chunk_size_(single_ ? size : kChunk) {}  // a small aperture gets a small array

  T get(std::uint64_t i) const {
    if (single_) return flat_[i];  // one chunk: kept, one load less
    const T* chunk = chunks_[i >> kChunkBits].get();
    return chunk != nullptr ? chunk[i & (kChunk - 1)] : pristine_(i);
  }
  T& at(std::uint64_t i) {
    if (single_) return flat_[i];
    std::unique_ptr<T[]>& chunk = chunks_[i >> kChunkBits];
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
  void fill(std::unique_ptr<T[]>& chunk, std::uint64_t base) {
    chunk = std::make_unique_for_overwrite<T[]>(chunk_size_);
    for (std::uint64_t k = 0; k < chunk_size_; ++k) chunk[k] = pristine_(base + k);
  }

  Pristine pristine_;
  std::vector<std::unique_ptr<T[]>> chunks_;
  bool single_;
  std::uint64_t chunk_size_;  // kChunk, or the whole size when single_
  T* flat_ = nullptr;         // chunk 0 when single_
};

}  // namespace dartlab::dart
