// SPDX-License-Identifier: MIT
// The Mapper's host-mapping records and the index that finds a live one by its key.
//
// The index is the hot path's one random memory access per new request (direct maps a new key
// per request and looks it up first), so its slots are 8 bytes: 32 bits of the key's hash and
// the record's index, eight to a cache line, a third of what a key-and-value slot takes. The key
// itself lives once, in the record: a slot whose hash bits match is confirmed there, which a hit
// reads anyway (the caller takes the record next). Open addressing with linear probing and
// backward-shift deletion as FlatMap (base/flat_map.hpp); a slot's home is its stored hash bits,
// so growing and deleting never read a record.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/flat_map.hpp"
#include "base/huge_page_allocator.hpp"
#include "passthrough/mapper/policy.hpp"

namespace dartlab::mapper {

// A live (refs > 0), kept (lazy) or free host-mapping record. Kept small: the hot path touches
// only these.
struct HostEntry {
  Key key;
  std::uint64_t bus_addr = 0;
  std::uint64_t backend_handle = 0;
  std::uint32_t refs = 0;
  std::uint32_t generation = 0;
};
using HostEntries = std::vector<HostEntry, HugePageAllocator<HostEntry>>;

struct KeyHash {
  // Bases are 16 KiB-aligned and sizes whole pages: one mix over both is enough.
  std::uint64_t operator()(const Key& k) const { return mix64(k.base ^ (k.size_bytes << 40) ^ (k.size_bytes >> 24)); }
};

// Keys of the records in `entries` (the Mapper's, which outlives the index) to their index.
class KeyIndex {
 public:
  explicit KeyIndex(const HostEntries& entries) : entries_(entries) { rehash(kMinCapacity); }

  std::size_t size() const { return size_ - pending_count(); }  // keys stored, erases still pending left out

  // The record index stored for key, or nullptr. A miss is remembered: the free slot it ended
  // at is where insert() puts that key, as long as no slot has been filled or emptied since.
  const std::uint32_t* find(const Key& key) const {
    const std::uint32_t tag = tag_of(key);
    std::size_t i = home(tag);
    for (; used(i); i = (i + 1) & mask_) {
      if (slots_[i].tag == tag && entries_[slots_[i].entry].key == key) return &slots_[i].entry;
    }
    miss_ = Miss{key, i, tag};
    return nullptr;
  }

  // Stores key -> entry unless key is present (then the stored index stays), as FlatMap::insert.
  void insert(const Key& key, std::uint32_t entry) {
    // Right after find() missed this key (under direct, every new request), the slot that find
    // ended at is the key's: every slot before it on the key's chain was compared then, none
    // held the key, and none has changed since. The second hash and probe are skipped: 15 M of
    // BM_CoreDirect's 1,320 M instructions (callgrind, 1 M events x 3).
    if (miss_.slot != kNowhere && miss_.key == key && (size_ + 1) * 2 <= slots_.size()) {
      slots_[miss_.slot] = Slot{miss_.tag, entry};
      ++size_;
      miss_.slot = kNowhere;
      return;
    }
    miss_.slot = kNowhere;
    if ((size_ + 1) * 2 > slots_.size()) {
      flush_pending();  // stale slots must not make the table grow (65,536 live keys fit 1 MiB)
      if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);  // max load 1/2, as FlatMap
    }
    const std::uint32_t tag = tag_of(key);
    std::size_t i = home(tag);
    for (; used(i); i = (i + 1) & mask_) {
      // A stale slot of the same record whose new key has the same hash bits looks present;
      // it is about to go, so the key gets a slot of its own (two identical slots: either may go).
      if (slots_[i].tag == tag && entries_[slots_[i].entry].key == key &&
          !(slots_[i].entry == entry && pending(tag, entry))) {
        return;
      }
    }
    slots_[i] = Slot{tag, entry};
    ++size_;
  }

  // erase() later: record `entry`'s slot, found by key's hash bits and the record's index, is
  // removed after kPending more erase_soon() calls (or at the next growth). Its line is
  // prefetched now, so an unmap does not wait for it: in BM_CoreDirect the wait for the slot was
  // most of drop_host_mapping (9.5% of the profile). Until then the slot is stale, so the caller
  // must make the record unmatchable at once (a key of size 0, which no lookup asks for) or give
  // it a new key; find() then never answers through the stale slot, since it compares the key.
  void erase_soon(const Key& key, std::uint32_t entry) {
    const std::uint32_t tag = tag_of(key);
    __builtin_prefetch(&slots_[home(tag)], 1);
    Pending& p = pending_[pending_next_ % kPending];
    if (pending_next_ >= kPending) erase_pending(p);
    p = Pending{tag, entry};
    ++pending_next_;
  }

  // Removes key, which record `entry` holds (the key is read from the record only when another
  // record's slot has the same hash bits, or when key is stored under another record).
  void erase(const Key& key, std::uint32_t entry) { erase_at(locate(key, entry)); }

  // erase() in two halves, so that other work can run while the slot's cache line arrives:
  // locate() reads the slot (a real load, which the compiler cannot drop or sink past an opaque
  // call as it may a prefetch), erase_at() removes it. kNowhere when key is not stored.
  static constexpr std::size_t kNowhere = ~std::size_t{0};
  std::size_t locate(const Key& key, std::uint32_t entry) const {
    const std::uint32_t tag = tag_of(key);
    for (std::size_t i = home(tag); used(i); i = (i + 1) & mask_) {
      if (slots_[i].tag == tag && (slots_[i].entry == entry || entries_[slots_[i].entry].key == key)) return i;
    }
    return kNowhere;
  }
  void erase_at(std::size_t slot) {
    if (slot != kNowhere) shift_into(slot);
  }

  void clear() {
    miss_.slot = kNowhere;
    for (Slot& s : slots_) s.entry = kEmpty;
    size_ = 0;
    pending_next_ = 0;
  }

 private:
  static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};  // never a record index (Mapper's entries stay below)
  static constexpr std::size_t kMinCapacity = 32;  // FlatMap's 16 slots of 24 bytes, in the same memory
  struct Slot {
    std::uint32_t tag = 0;  // the low 32 bits of the key's hash: the home is tag & mask_
    std::uint32_t entry = kEmpty;
  };

  // Erases waiting for their slot's line: 16 unmaps (about 32 events, ~2 us) is ample time for
  // a miss to arrive, and the ring is one cache line pair.
  static constexpr std::uint64_t kPending = 16;
  struct Pending {
    std::uint32_t tag;
    std::uint32_t entry;
  };
  std::size_t pending_count() const { return static_cast<std::size_t>(std::min(pending_next_, kPending)); }
  bool pending(std::uint32_t tag, std::uint32_t entry) const {
    for (std::size_t k = 0; k < pending_count(); ++k) {
      if (pending_[k].tag == tag && pending_[k].entry == entry) return true;
    }
    return false;
  }
  // Removes the first slot holding exactly (tag, entry): there is one (two only after insert()'s
  // collision case, and then either serves the live key).
  void erase_pending(const Pending& p) {
    for (std::size_t i = home(p.tag); used(i); i = (i + 1) & mask_) {
      if (slots_[i].tag == p.tag && slots_[i].entry == p.entry) {
        shift_into(i);
        return;
      }
    }
  }
  void flush_pending() {
    for (std::size_t k = 0; k < pending_count(); ++k) erase_pending(pending_[k]);
    pending_next_ = 0;
  }

  static std::uint32_t tag_of(const Key& key) { return static_cast<std::uint32_t>(KeyHash{}(key)); }
  std::size_t home(std::uint32_t tag) const { return tag & mask_; }
  bool used(std::size_t i) const { return slots_[i].entry != kEmpty; }

  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  void shift_into(std::size_t hole) {
    miss_.slot = kNowhere;  // a slot emptied: a remembered miss's chain may end elsewhere now
    for (std::size_t j = (hole + 1) & mask_; used(j); j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].tag);
      // Move j into the hole when its home lies cyclically outside (hole, j].
      const bool movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].entry = kEmpty;
    --size_;
  }

  void rehash(std::size_t capacity) {
    // A home is taken from 32 hash bits: past 2^32 slots (2^31 live host mappings, 32 GiB of
    // slots) the upper slots fill by probing only, which is slower but still correct.
    miss_.slot = kNowhere;
    std::vector<Slot, HugePageAllocator<Slot>> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.entry == kEmpty) continue;
      std::size_t i = home(s.tag);
      while (used(i)) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  const HostEntries& entries_;
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;  // slots used, stale ones included
  std::array<Pending, kPending> pending_{};
  std::uint64_t pending_next_ = 0;  // erase_soon() calls since the ring was last empty
  // find()'s last miss (slot kNowhere: none, or forgotten once a slot was filled or emptied).
  struct Miss {
    Key key;
    std::size_t slot = kNowhere;
    std::uint32_t tag = 0;
  };
  mutable Miss miss_{};
};

}  // namespace dartlab::mapper
