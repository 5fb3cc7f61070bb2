// SPDX-License-Identifier: MIT
// KeyIndex against the FlatMap it replaced: the same answers over random inserts, finds and
// erases, with keys that collide in their home slots and records reused for other keys.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "base/flat_map.hpp"
#include "passthrough/mapper/key_index.hpp"

using dartlab::mapper::HostEntries;
using dartlab::mapper::HostEntry;
using dartlab::mapper::Key;
using dartlab::mapper::KeyHash;
using dartlab::mapper::KeyIndex;

namespace {

struct Model {
  HostEntries entries;
  KeyIndex index{entries};
  dartlab::FlatMap<Key, std::uint32_t, KeyHash> reference;  // the old index
  std::vector<std::uint32_t> free_records;

  std::uint32_t record_for(const Key& key) {
    std::uint32_t r = static_cast<std::uint32_t>(entries.size());
    if (free_records.empty()) {
      entries.emplace_back();
    } else {
      r = free_records.back();
      free_records.pop_back();
    }
    entries[r].key = key;
    entries[r].refs = 1;
    return r;
  }
  // Stores key in both indexes under a record of its own; returns the record.
  std::uint32_t add(const Key& key) {
    const std::uint32_t r = record_for(key);
    index.insert(key, r);
    reference.insert(key, r);
    return r;
  }
};

// One of the live records, drawn at random and taken out of `live`.
std::uint32_t take_random(std::vector<std::uint32_t>& live, std::mt19937_64& rng) {
  const std::size_t at = rng() % live.size();
  const std::uint32_t r = live[at];
  live[at] = live.back();
  live.pop_back();
  return r;
}

Key random_key(std::mt19937_64& rng, std::uint64_t span_pages) {
  const std::uint64_t page = 16384;
  return Key{(rng() % span_pages) * page, (1 + rng() % 4) * page};
}

// Random finds, inserts and erases on the index and on the FlatMap it replaced, with records
// reused newest first as the Mapper does; every answer is compared. Erase::Now removes a key's slot
// at once (erase, or locate then erase_at); Erase::Deferred through erase_soon, the record made
// unmatchable at once as the Mapper does, its slot left stale for a while. Returns the records
// still live.
enum class Erase { Now, Deferred };
std::vector<std::uint32_t> churn(Model& m, std::uint64_t seed, std::uint64_t span, Erase mode) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint32_t> live;  // records whose key is in both indexes
  for (int step = 0; step < 200000; ++step) {
    const Key key = random_key(rng, span);
    const std::uint32_t* got = m.index.find(key);
    const std::uint32_t* want = m.reference.find(key);
    REQUIRE((got == nullptr) == (want == nullptr));
    if (got != nullptr) REQUIRE(*got == *want);
    if (rng() % 2 == 0 && got == nullptr) {
      live.push_back(m.add(key));  // the newest freed record first, as the Mapper
    } else if (!live.empty()) {
      const std::uint32_t r = take_random(live, rng);
      const Key gone = m.entries[r].key;
      if (mode == Erase::Deferred) {
        m.index.erase_soon(gone, r);
        m.entries[r].key.size_bytes = 0;  // the caller's part: the record no longer matches
      } else if (rng() % 2 == 0) {
        m.index.erase(gone, r);
      } else {
        const std::size_t slot = m.index.locate(gone, r);
        REQUIRE(slot != KeyIndex::kNowhere);
        m.index.erase_at(slot);
      }
      m.reference.erase(gone);
      m.entries[r].refs = 0;
      m.free_records.push_back(r);
      REQUIRE(m.index.find(gone) == nullptr);
    }
    REQUIRE(m.index.size() == m.reference.size());
  }
  // Every key still live is found at its record.
  for (const std::uint32_t r : live) {
    const std::uint32_t* got = m.index.find(m.entries[r].key);
    REQUIRE(got != nullptr);
    CHECK(*got == r);
  }
  return live;
}

}  // namespace

TEST_CASE("KeyIndex answers as the FlatMap it replaced over random churn", "[mapper][key_index]") {
  for (const std::uint64_t span : {64ull, 4096ull, 1ull << 20}) {
    Model m;
    const std::vector<std::uint32_t> live = churn(m, span, span, Erase::Now);
    // clear forgets them all.
    m.index.clear();
    CHECK(m.index.size() == 0);
    for (const std::uint32_t r : live) CHECK(m.index.find(m.entries[r].key) == nullptr);
  }
}

TEST_CASE("KeyIndex inserts where it should whatever came between a find that missed and the insert",
          "[mapper][key_index]") {
  // find() remembers where a miss ended, for an insert of the same key right after. Between the
  // two: nothing, a find of another key (hit or miss), an insert or an erase of another key
  // (growth included), or an insert of another key (the mapper chose a window, not the request's
  // own key). Every answer must stay the FlatMap's. Erases are all immediate or all deferred,
  // as the Mapper's (deferred) are.
  for (const Erase mode : {Erase::Now, Erase::Deferred})
  for (const std::uint64_t span : {16ull, 256ull, 1ull << 16}) {
    Model m;
    std::mt19937_64 rng(span);
    std::vector<std::uint32_t> live;
    const auto insert = [&](const Key& key) {
      if (m.reference.find(key) == nullptr) live.push_back(m.add(key));
    };
    const auto erase_one = [&] {
      if (live.empty()) return;
      const std::uint32_t r = take_random(live, rng);
      const Key gone = m.entries[r].key;
      if (mode == Erase::Now) {
        m.index.erase(gone, r);
      } else {
        m.index.erase_soon(gone, r);
        m.entries[r].key.size_bytes = 0;
      }
      m.reference.erase(gone);
      m.free_records.push_back(r);
    };
    for (int step = 0; step < 100000; ++step) {
      const Key key = random_key(rng, span);
      REQUIRE((m.index.find(key) == nullptr) == (m.reference.find(key) == nullptr));
      switch (rng() % 5) {
        case 0: break;
        case 1: (void)m.index.find(random_key(rng, span)); break;
        case 2: insert(random_key(rng, span)); break;
        case 3: erase_one(); break;
        default: erase_one(); erase_one(); break;
      }
      if (rng() % 3 != 0) insert(key); else erase_one();
      REQUIRE(m.index.size() == m.reference.size());
    }
    for (const std::uint32_t r : live) {
      const std::uint32_t* got = m.index.find(m.entries[r].key);
      REQUIRE(got != nullptr);
      CHECK(*got == r);
    }
  }
}

TEST_CASE("KeyIndex keeps the first record of a key inserted twice, as FlatMap does", "[mapper][key_index]") {
  HostEntries entries(3);
  KeyIndex index(entries);
  const Key key{0x4000, 0x4000};
  entries[0].key = key;
  entries[1].key = key;
  index.insert(key, 0);
  index.insert(key, 1);  // present: the stored record stays
  REQUIRE(index.find(key) != nullptr);
  CHECK(*index.find(key) == 0);
  CHECK(index.size() == 1);
  // Erasing through the second record still removes the key, as FlatMap::erase(key) did.
  index.erase(key, 1);
  CHECK(index.find(key) == nullptr);
  CHECK(index.size() == 0);
  CHECK(index.locate(key, 0) == KeyIndex::kNowhere);
  index.erase_at(KeyIndex::kNowhere);  // nothing to remove: no effect
  CHECK(index.size() == 0);
}

TEST_CASE("KeyIndex with erases deferred answers as the FlatMap over churn that reuses records at once",
          "[mapper][key_index]") {
  for (const std::uint64_t span : {64ull, 4096ull, 1ull << 20}) {
    Model m;
    churn(m, span + 7, span, Erase::Deferred);
  }
}

TEST_CASE("KeyIndex keeps a reused record's new key whose hash bits equal its old key's, erase pending",
          "[mapper][key_index]") {
  // Two keys whose 32 hash bits the index keeps are equal: the stale slot of the first looks
  // like the second's when the record is reused for it.
  std::unordered_map<std::uint32_t, std::uint64_t> seen;
  Key a{}, b{};
  for (std::uint64_t i = 0;; ++i) {
    const Key k{i * 16384, 16384};
    const auto tag = static_cast<std::uint32_t>(KeyHash{}(k));
    const auto [it, fresh] = seen.emplace(tag, i);
    if (!fresh) {
      a = Key{it->second * 16384, 16384};
      b = k;
      break;
    }
  }
  HostEntries entries(1);
  KeyIndex index(entries);
  entries[0].key = a;
  index.insert(a, 0);
  index.erase_soon(a, 0);
  entries[0].key = b;  // reused at once, before the erase happened
  CHECK(index.find(b) != nullptr);  // through the stale slot: the record does hold b now
  index.insert(b, 0);
  CHECK(index.size() == 1);
  for (std::uint32_t k = 0; k < 40; ++k) {  // the pending erase runs; b must stay
    entries.emplace_back();
    entries.back().key = Key{(1ull << 40) + k * 16384, 16384};
    index.insert(entries.back().key, k + 1);
    index.erase_soon(entries.back().key, k + 1);
    entries.back().key.size_bytes = 0;
  }
  REQUIRE(index.find(b) != nullptr);
  CHECK(*index.find(b) == 0);
  CHECK(index.find(a) == nullptr);
  CHECK(index.size() == 1);
}
