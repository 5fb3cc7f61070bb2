// SPDX-License-Identifier: MIT
#include "traces/ftrace/dma_events.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

namespace dartlab::trace::ftrace {
namespace {

using line_import::Num;

// The fields of the dma:* formats, in the order the formats print them.
enum FieldId : std::uint8_t {
  kDir, kNents, kEnts, kDmaAddr, kDmaAddrs, kSize, kSizes, kPhysAddr, kPhysAddrs, kVirtAddr, kFlags, kAttrs,
  kFieldCount,
};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "dir", "nents", "ents", "dma_addr", "dma_addrs", "size", "sizes", "phys_addr", "phys_addrs", "virt_addr", "flags", "attrs"};

using Mask = std::uint32_t;
constexpr Mask bit(FieldId f) { return Mask{1} << f; }

// What each event prints in every format it has had (IMPORT.md lists the formats).
struct Format {
  Mask required;
  Mask one_of;    // at least one of these: dma_alloc/dma_free print phys_addr (6.12-rc1) or virt_addr
  Mask optional;  // printed by some formats only: dir on dma_alloc/free, nents/ents on dma_map_sg
};
Format format_of(EventType type) {
  switch (type) {
    case EventType::DmaMap: return {bit(kDir) | bit(kDmaAddr) | bit(kSize) | bit(kPhysAddr) | bit(kAttrs), 0, 0};
    case EventType::DmaUnmap: return {bit(kDir) | bit(kDmaAddr) | bit(kSize) | bit(kAttrs), 0, 0};
    case EventType::DmaMapSg:
      return {bit(kDir) | bit(kDmaAddrs) | bit(kSizes) | bit(kPhysAddrs) | bit(kAttrs), 0, bit(kNents) | bit(kEnts)};
    case EventType::DmaUnmapSg: return {bit(kDir) | bit(kPhysAddrs) | bit(kAttrs), 0, 0};
    case EventType::DmaAlloc:
      return {bit(kDmaAddr) | bit(kSize) | bit(kFlags) | bit(kAttrs), bit(kPhysAddr) | bit(kVirtAddr), bit(kDir)};
    case EventType::DmaAllocPages:
      return {bit(kDir) | bit(kDmaAddr) | bit(kSize) | bit(kVirtAddr) | bit(kFlags) | bit(kAttrs), 0, 0};
    case EventType::DmaFree: return {bit(kDmaAddr) | bit(kSize) | bit(kAttrs), bit(kPhysAddr) | bit(kVirtAddr), bit(kDir)};
    case EventType::DmaAllocSgt:
      return {bit(kDir) | bit(kDmaAddr) | bit(kSize) | bit(kPhysAddrs) | bit(kFlags) | bit(kAttrs), 0, 0};
    case EventType::DmaFreeSgt: return {bit(kDir) | bit(kDmaAddr) | bit(kSize) | bit(kPhysAddrs), 0, 0};
    default: return {0, 0, 0};
  }
}

bool creates_request(EventType type) {
  return type == EventType::DmaMap || type == EventType::DmaMapSg || type == EventType::DmaAlloc ||
         type == EventType::DmaAllocPages || type == EventType::DmaAllocSgt;
}

// One compare of a constant length per key.
template <std::size_t N>
bool is(std::string_view key, const char (&word)[N]) {
  return std::memcmp(key.data(), word, N - 1) == 0;
}
FieldId field_id(std::string_view key) {
  switch (key.size()) {
    case 3: return is(key, "dir") ? kDir : kFieldCount;
    case 4: return is(key, "size") ? kSize : is(key, "ents") ? kEnts : kFieldCount;
    case 5:
      switch (key[0]) {
        case 'a': return is(key, "attrs") ? kAttrs : kFieldCount;
        case 'f': return is(key, "flags") ? kFlags : kFieldCount;
        case 's': return is(key, "sizes") ? kSizes : kFieldCount;
        case 'n': return is(key, "nents") ? kNents : kFieldCount;
        default: return kFieldCount;
      }
    case 8: return is(key, "dma_addr") ? kDmaAddr : kFieldCount;
    case 9:
      switch (key[0]) {
        case 'p': return is(key, "phys_addr") ? kPhysAddr : kFieldCount;
        case 'd': return is(key, "dma_addrs") ? kDmaAddrs : kFieldCount;
        case 'v': return is(key, "virt_addr") ? kVirtAddr : kFieldCount;
        default: return kFieldCount;
      }
    case 10: return is(key, "phys_addrs") ? kPhysAddrs : kFieldCount;
    default: return kFieldCount;
  }
}

// __print_symbolic of enum dma_data_direction; it prints "0x%lx" for other values.
enum class Dir : std::uint8_t { Bidirectional, ToDevice, FromDevice, None, Bad };
Dir read_dir(line_import::Cursor& c) {
  if (c.literal("TO_DEVICE")) return Dir::ToDevice;
  if (c.literal("FROM_DEVICE")) return Dir::FromDevice;
  if (c.literal("BIDIRECTIONAL")) return Dir::Bidirectional;
  if (c.literal("NONE")) return Dir::None;
  return Dir::Bad;
}
Direction direction(Dir d) {
  return d == Dir::ToDevice ? Direction::ToDevice : d == Dir::FromDevice ? Direction::FromDevice : Direction::Bidirectional;
}

// "%d/%d" of the newest dma_map_sg: how many are printed, of how many.
bool parse_count(std::string_view s, std::uint64_t& printed, std::uint64_t& full) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  return line_import::parse_dec(s.substr(0, slash), printed) == Num::Ok &&
         line_import::parse_dec(s.substr(slash + 1), full) == Num::Ok && printed <= full;
}

// A %p that is all zeros: NULL, which vsprintf prints unhashed.
bool is_null_pointer(std::string_view s) {
  return s == "(null)" || (!s.empty() && s.find_first_not_of('0') == std::string_view::npos);
}

struct Parser {
  EventType type;
  std::string_view name;
  ArrayScratch& scratch;
  DmaRecord& out;
  PayloadError& error;
  line_import::Cursor c;
  std::uint64_t nents_printed = 0;
  std::uint64_t ents_printed = 0;
  const char* nents_at = nullptr;
  const char* ents_at = nullptr;

  [[gnu::cold]] bool fail(const char* at, std::string message) {
    error.at = at;
    error.message = std::string(name) + ": " + std::move(message);
    return false;
  }
  [[gnu::cold]] bool bad_number(std::string_view key, Num r, const char* what) {
    const std::string_view value = c.token();
    if (r == Num::Overflow) return fail(value.data(), std::string(key) + ' ' + quoted(value) + " does not fit in 64 bits");
    return fail(value.data(), std::string(key) + " must be " + what + ", got " + quoted(value));
  }
  bool hex(std::string_view key, std::uint64_t& v) {
    const Num r = c.hex(v);
    return r == Num::Ok || bad_number(key, r, "a hex number");
  }
  bool dec(std::string_view key, std::uint64_t& v) {
    const Num r = c.dec(v);
    return r == Num::Ok || bad_number(key, r, "a decimal number");
  }
  bool list(std::string_view key, std::vector<std::uint64_t>& v, std::span<const std::uint64_t>& view) {
    std::string_view bad;
    const Num r = c.hex_list(v, bad);
    if (r == Num::Ok) {
      view = v;
      return true;
    }
    if (r == Num::Overflow) return fail(bad.data(), std::string(key) + " entry " + quoted(bad) + " does not fit in 64 bits");
    return fail(bad.data(), std::string(key) + " must be a list of hex numbers such as {0x1000,0x2000}, got " + quoted(c.token()));
  }
  bool count(std::string_view key, std::uint64_t& printed, std::uint64_t& full) {
    const std::string_view value = c.word();
    return parse_count(value, printed, full) ||
           fail(value.data(), std::string(key) + " must be PRINTED/TOTAL such as 3/3, got " + quoted(value));
  }

  // The value of field `id` at the cursor.
  bool field(FieldId id, std::string_view key) {
    switch (id) {
      case kDir: {
        const char* value_at = c.pos();
        const Dir d = read_dir(c);
        if (d == Dir::Bad) {
          return fail(value_at, "dir must be BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE or NONE, got " + quoted(c.token()));
        }
        if (d == Dir::None && creates_request(type)) return fail(value_at, "dir=NONE on a mapping");
        out.dir = direction(d);
        out.dir_printed = true;
        return true;
      }
      case kNents: nents_at = c.pos(); return count(key, nents_printed, out.nents);
      case kEnts: ents_at = c.pos(); return count(key, ents_printed, out.ents);
      case kDmaAddr: return hex(key, out.dma_addr);
      case kDmaAddrs: return list(key, scratch.dma_addrs, out.dma_addrs);
      case kSize: out.size_at = c.pos(); return dec(key, out.size_bytes);
      case kSizes: out.sizes_at = c.pos(); return list(key, scratch.sizes, out.sizes);
      case kPhysAddr: out.phys_at = c.pos(); out.has_phys = true; return hex(key, out.phys_addr);
      case kPhysAddrs: out.phys_at = c.pos(); return list(key, scratch.phys_addrs, out.phys_addrs);
      case kVirtAddr: out.virt_is_null = is_null_pointer(c.word()); return true;
      case kFlags:
      case kAttrs:
      case kFieldCount: c.word(); return true;  // gfp and DMA_ATTR_* flags change no mapping
    }
    return true;
  }

  bool parse() {
    if (!c.more()) return fail(c.end(), "the device name is missing");
    std::string_view key;
    const char* at = c.pos();
    if (c.key(key)) return fail(at, "the device name is missing");
    out.device = c.word();
    const Format format = format_of(type);
    const Mask known = format.required | format.one_of | format.optional;
    Mask seen = 0;
    while (c.more()) {
      at = c.pos();
      if (!c.key(key)) {
        const std::string_view word = c.word();
        if (type == EventType::DmaMapSg && word == "[TRUNCATED]") {
          out.truncated = true;
          continue;
        }
        return fail(at, "unexpected " + quoted(word) + " (expected KEY=VALUE)");
      }
      const FieldId id = field_id(key);
      if (id == kFieldCount || (known & bit(id)) == 0) {  // a field this event does not print
        c.word();
        continue;
      }
      if (seen & bit(id)) return fail(at, std::string(key) + "= appears twice");
      seen |= bit(id);
      if (!field(id, key)) return false;
    }
    if (const Mask missing = format.required & ~seen; missing != 0) {
      const auto first = static_cast<std::size_t>(std::countr_zero(missing));
      return fail(c.end(), std::string(kFieldNames[first]) + "= is missing (the line may be cut short)");
    }
    if (format.one_of != 0 && (seen & format.one_of) == 0) {
      return fail(c.end(), "phys_addr= or virt_addr= is missing (the line may be cut short)");
    }
    return check(seen);
  }

  // Values that parse but make no sense.
  bool check(Mask seen) {
    switch (type) {
      case EventType::DmaMap:
      case EventType::DmaAlloc:
      case EventType::DmaAllocPages: {
        if (out.virt_is_null) return true;  // a failed allocation, skipped by the reader
        const std::uint64_t start = out.has_phys ? out.phys_addr : out.dma_addr;
        return range(start, out.size_bytes, out.has_phys ? out.phys_at : out.size_at);
      }
      case EventType::DmaMapSg: return check_map_sg(seen);
      case EventType::DmaUnmapSg:
        return !out.phys_addrs.empty() || fail(out.phys_at, "phys_addrs is empty");
      case EventType::DmaAllocSgt:
        if (out.phys_addrs.empty()) return fail(out.phys_at, "phys_addrs is empty");
        return out.size_bytes != 0 || fail(out.size_at, "size must be > 0");
      default: return true;
    }
  }

  bool range(std::uint64_t start, std::uint64_t len, const char* start_at) {
    if (len == 0) return fail(out.size_at, "size must be > 0");
    if (start != 0 && len > 0 - start) {
      return fail(start_at, "range " + line_import::hex(start) + " + " + std::to_string(len) + " bytes ends past 2^64");
    }
    return true;
  }

  bool check_map_sg(Mask seen) {
    if (out.phys_addrs.empty()) return fail(out.phys_at, "phys_addrs is empty");
    if (out.sizes.empty()) return fail(out.sizes_at, "sizes is empty");
    if (out.dma_addrs.size() != out.sizes.size()) {
      return fail(out.sizes_at, "sizes has " + std::to_string(out.sizes.size()) + " entries but dma_addrs has " +
                                    std::to_string(out.dma_addrs.size()));
    }
    if (((seen & bit(kNents)) != 0) != ((seen & bit(kEnts)) != 0)) {
      return fail(seen & bit(kNents) ? nents_at : ents_at, "nents= and ents= come together");
    }
    if (seen & bit(kNents)) {
      if (nents_printed != out.phys_addrs.size()) {
        return fail(nents_at, "nents says " + std::to_string(nents_printed) + " entries are printed but phys_addrs has " +
                                  std::to_string(out.phys_addrs.size()));
      }
      if (ents_printed != out.sizes.size()) {
        return fail(ents_at, "ents says " + std::to_string(ents_printed) + " segments are printed but sizes has " +
                                 std::to_string(out.sizes.size()));
      }
    } else {
      out.nents = out.phys_addrs.size();
      out.ents = out.sizes.size();
    }
    if (out.ents > out.nents) {
      return fail(ents_at != nullptr ? ents_at : out.sizes_at,
                  "more DMA segments (" + std::to_string(out.ents) + ") than entries (" + std::to_string(out.nents) + ")");
    }
    return true;
  }
};

// The newest format of the most frequent events, read straight through: the payload exactly as
// TP_printk prints it and every value sound, or false (other formats, other field orders, bad
// values), and the general parser above reads it again and says what is wrong.
bool fast_dir(line_import::Cursor& c, DmaRecord& out) {
  const Dir d = read_dir(c);
  if (d == Dir::Bad || d == Dir::None) return false;
  out.dir = direction(d);
  out.dir_printed = true;
  return true;
}
bool fast_attrs_to_end(line_import::Cursor& c) {
  if (!c.expect("attrs=")) return false;
  c.word();
  return c.pos() == c.end();
}
bool fast_list(line_import::Cursor& c, std::vector<std::uint64_t>& storage, std::span<const std::uint64_t>& view) {
  std::string_view bad;
  if (c.hex_list(storage, bad) != Num::Ok) return false;
  view = storage;
  return true;
}
bool fast_count(line_import::Cursor& c, std::uint64_t& printed, std::uint64_t& full) {
  return parse_count(c.word(), printed, full);
}
bool fast_map_sg(line_import::Cursor& c, ArrayScratch& scratch, DmaRecord& out) {
  std::uint64_t nents_printed = 0;
  std::uint64_t ents_printed = 0;
  const bool counted = c.expect(" nents=");
  if (counted) {
    if (!fast_count(c, nents_printed, out.nents) || !c.expect(" ents=") || !fast_count(c, ents_printed, out.ents)) return false;
    out.truncated = c.expect(" [TRUNCATED]");
  }
  if (!c.expect(" dma_addrs=") || !fast_list(c, scratch.dma_addrs, out.dma_addrs) || !c.expect(" sizes=")) return false;
  out.sizes_at = c.pos();
  if (!fast_list(c, scratch.sizes, out.sizes) || !c.expect(" phys_addrs=")) return false;
  out.phys_at = c.pos();
  if (!fast_list(c, scratch.phys_addrs, out.phys_addrs) || !c.expect(" ") || !fast_attrs_to_end(c)) return false;
  if (!counted) {
    out.nents = out.phys_addrs.size();
    out.ents = out.sizes.size();
  } else if (nents_printed != out.phys_addrs.size() || ents_printed != out.sizes.size()) {
    return false;
  }
  return !out.phys_addrs.empty() && !out.sizes.empty() && out.dma_addrs.size() == out.sizes.size() && out.ents <= out.nents;
}
bool parse_fast(EventType type, std::string_view payload, ArrayScratch& scratch, DmaRecord& out) {
  line_import::Cursor c(payload);
  out.device = c.word();
  if (out.device.empty() || !c.expect(" dir=") || !fast_dir(c, out)) return false;
  switch (type) {
    case EventType::DmaMap:  // "%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s"
      if (!c.expect(" dma_addr=") || c.hex(out.dma_addr) != Num::Ok || !c.expect(" size=") ||
          c.dec(out.size_bytes) != Num::Ok || !c.expect(" phys_addr=") || c.hex(out.phys_addr) != Num::Ok ||
          !c.expect(" ") || !fast_attrs_to_end(c)) {
        return false;
      }
      out.has_phys = true;
      return out.size_bytes != 0 && (out.phys_addr == 0 || out.size_bytes <= 0 - out.phys_addr);
    case EventType::DmaUnmap:  // "%s dir=%s dma_addr=%llx size=%zu attrs=%s"
      return c.expect(" dma_addr=") && c.hex(out.dma_addr) == Num::Ok && c.expect(" size=") &&
             c.dec(out.size_bytes) == Num::Ok && c.expect(" ") && fast_attrs_to_end(c);
    case EventType::DmaMapSg:  // "%s dir=%s [nents=%d/%d ents=%d/%d[ [TRUNCATED]]] dma_addrs=%s sizes=%s phys_addrs=%s attrs=%s"
      return fast_map_sg(c, scratch, out);
    case EventType::DmaUnmapSg:  // "%s dir=%s phys_addrs=%s attrs=%s"
      if (!c.expect(" phys_addrs=") || !fast_list(c, scratch.phys_addrs, out.phys_addrs) || out.phys_addrs.empty()) {
        return false;
      }
      return c.expect(" ") && fast_attrs_to_end(c);
    default: return false;
  }
}

}  // namespace

bool parse_dma_payload(EventType type, std::string_view name, std::string_view payload, ArrayScratch& scratch,
                       DmaRecord& out, PayloadError& error) {
  if (parse_fast(type, payload, scratch, out)) [[likely]] return true;
  out = DmaRecord{};
  Parser parser{type, name, scratch, out, error, line_import::Cursor(payload)};
  return parser.parse();
}

bool sg_segments(EventType type, std::string_view name, const DmaRecord& record, std::size_t max_segments,
                 std::vector<Segment>& out, SegmentGuess& guess, PayloadError& error) {
  auto fail = [&](const char* at, std::string message) {
    error.at = at;
    error.message = std::string(name) + ": " + std::move(message);
    return false;
  };
  out.clear();
  const auto& phys = record.phys_addrs;
  // No segments merged (dma-direct, or an IOMMU that kept them apart): entry i is DMA segment i.
  if (type == EventType::DmaMapSg && record.ents == record.nents) {
    guess = SegmentGuess::Exact;
    const std::size_t n = std::min({phys.size(), record.sizes.size(), max_segments});
    for (std::size_t i = 0; i < n; ++i) {
      if (record.sizes[i] == 0) return fail(record.sizes_at, "sizes entry " + std::to_string(i) + " is 0");
      if (phys[i] != 0 && record.sizes[i] > 0 - phys[i]) {
        return fail(record.phys_at, "segment " + line_import::hex(phys[i]) + " + " + std::to_string(record.sizes[i]) +
                                        " bytes ends past 2^64");
      }
      out.push_back({phys[i], record.sizes[i]});
    }
    return true;
  }
  // The lengths of the entries are not printed: only the mapped bytes (the sum of the DMA
  // segments, or dma_alloc_sgt's size). Each entry gets an equal share, in whole 4 KiB pages
  // when a share is that large, and the last entry the rest.
  std::uint64_t total = 0;
  if (type == EventType::DmaMapSg) {
    for (std::uint64_t s : record.sizes) total += s;
  } else {
    total = record.size_bytes;
  }
  const std::uint64_t n = phys.size();
  guess = n == 1 ? SegmentGuess::Exact : SegmentGuess::EqualShares;
  constexpr std::uint64_t kPageBytes = 4096;
  std::uint64_t share = total / n;
  if (share >= kPageBytes) share -= share % kPageBytes;
  if (share == 0) {
    return fail(record.phys_at, std::to_string(n) + " entries share only " + std::to_string(total) + " bytes");
  }
  const std::size_t kept = std::min<std::size_t>(phys.size(), max_segments);
  for (std::size_t i = 0; i < kept; ++i) {
    const std::uint64_t len = i + 1 == n ? total - share * (n - 1) : share;
    if (phys[i] != 0 && len > 0 - phys[i]) {
      return fail(record.phys_at, "segment " + line_import::hex(phys[i]) + " + " + std::to_string(len) + " bytes ends past 2^64");
    }
    out.push_back({phys[i], len});
  }
  return true;
}

std::uint64_t sg_key(std::span<const std::uint64_t> phys_addrs, std::uint64_t entries) {
  // What the newest dma_map_sg prints at most (DMA_TRACE_MAX_ENTRIES); dma_unmap_sg prints all.
  constexpr std::size_t kPrintedEntries = 128;
  auto mix = [](std::uint64_t x) {  // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  std::uint64_t h = mix(entries);
  const std::size_t n = std::min(phys_addrs.size(), kPrintedEntries);
  for (std::size_t i = 0; i < n; ++i) h = mix(h ^ phys_addrs[i]);
  return h;
}

}  // namespace dartlab::trace::ftrace
