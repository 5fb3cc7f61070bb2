// SPDX-License-Identifier: MIT
// An open-addressing hash map (linear probing, backward-shift deletion) for the hot paths:
// no allocation per insert once capacity is reached, no tombstones, memory follows the
// number of live keys. Keys and values must be trivially copyable. An empty slot holds the key
// `Empty`, which therefore cannot be stored (slots stay key + value, with no flag to pad them).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "base/huge_page_allocator.hpp"

namespace dartlab {

// A strong 64-bit mixer (the splitmix64 finaliser), so that page-aligned keys spread well.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

template <class K>
struct FlatHash {
  std::uint64_t operator()(const K& k) const { return mix64(static_cast<std::uint64_t>(k)); }
};

template <class K, class V, class Hash = FlatHash<K>, K Empty = K{}>
class FlatMap {
  static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>);

 public:
  explicit FlatMap(std::size_t expected = 16) { rehash(capacity_for(expected)); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // A hint that `key` will be looked up soon: brings its home slot toward the cache.
  void prefetch(const K& key) const { __builtin_prefetch(&slots_[index_of(key)]); }

  V* find(const K& key) {
    std::size_t i = index_of(key);
    while (used(i)) {
      if (slots_[i].key == key) return &slots_[i].value;
      i = (i + 1) & mask_;
    }
    return nullptr;
  }
  const V* find(const K& key) const { return const_cast<FlatMap*>(this)->find(key); }

  // Inserts key -> value unless key is present. Returns the stored value and whether it was
  // inserted. The caller guarantees key != Empty.
  std::pair<V*, bool> insert(const K& key, const V& value) {
    // Max load 1/2: linear probing stays at about 1.5 slots per hit and 2.5 per miss (3/4 would
    // be 2.5 and 8.5); the tables are small next to what they index.
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    std::size_t i = index_of(key);
    while (used(i)) {
      if (slots_[i].key == key) return {&slots_[i].value, false};
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{key, value};
    ++size_;
    return {&slots_[i].value, true};
  }

  bool erase(const K& key) {
    std::size_t i = index_of(key);
    while (used(i)) {
      if (slots_[i].key == key) {
        erase_at(i);
        return true;
      }
      i = (i + 1) & mask_;
    }
    return false;
  }

  void clear() {
    for (auto& s : slots_) s.key = Empty;
    size_ = 0;
  }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_)
      if (!(s.key == Empty)) f(s.key, s.value);
  }

 private:
  struct Slot {
    K key = Empty;
    V value{};
  };

  bool used(std::size_t i) const { return !(slots_[i].key == Empty); }

  static std::size_t capacity_for(std::size_t n) { return std::bit_ceil(n < 8 ? std::size_t{16} : n * 2 + 1); }
  std::size_t index_of(const K& key) const { return static_cast<std::size_t>(Hash{}(key)) & mask_; }

  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  void erase_at(std::size_t hole) {
    std::size_t j = hole;
    for (;;) {
      j = (j + 1) & mask_;
      if (!used(j)) break;
      const std::size_t home = index_of(slots_[j].key);
      // Move j into the hole when its home lies cyclically outside (hole, j].
      const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].key = Empty;
    --size_;
  }

  void rehash(std::size_t capacity) {
    std::vector<Slot, HugePageAllocator<Slot>> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    size_ = 0;
    for (const auto& s : old)
      if (!(s.key == Empty)) insert(s.key, s.value);
  }

  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace dartlab
