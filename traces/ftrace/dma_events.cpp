#include "traces/ftrace/dma_events.hpp"

#include <algorithm>
#include <bit>
#include <array>
#include <cstring>
#include <string>

namespace dartlab::trace::ftrace {
namespace {

using fields::Num;
using fields::quoted;

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

// The order the newest format of each event prints its fields in: the parser expects them so,
// which costs one compare per field, and looks a key up only when the guess fails.
struct Order {
  std::array<FieldId, 8> fields;
  std::uint8_t count;
};
Order order_of(EventType type) {
  switch (type) {
    case EventType::DmaMap: return {{kDir, kDmaAddr, kSize, kPhysAddr, kAttrs}, 5};
    case EventType::DmaUnmap: return {{kDir, kDmaAddr, kSize, kAttrs}, 4};
    case EventType::DmaMapSg: return {{kDir, kNents, kEnts, kDmaAddrs, kSizes, kPhysAddrs, kAttrs}, 7};
    case EventType::DmaUnmapSg: return {{kDir, kPhysAddrs, kAttrs}, 3};
    case EventType::DmaAlloc:
    case EventType::DmaAllocPages: return {{kDir, kDmaAddr, kSize, kVirtAddr, kFlags, kAttrs}, 6};
    case EventType::DmaFree: return {{kDir, kDmaAddr, kSize, kVirtAddr, kAttrs}, 5};
    case EventType::DmaAllocSgt: return {{kDir, kDmaAddr, kSize, kPhysAddrs, kFlags, kAttrs}, 6};
    case EventType::DmaFreeSgt: return {{kDir, kDmaAddr, kSize, kPhysAddrs}, 4};
    default: return {{}, 0};
  }
}

bool creates_request(EventType type) {
  return type == EventType::DmaMap || type == EventType::DmaMapSg || type == EventType::DmaAlloc ||
         type == EventType::DmaAllocPages || type == EventType::DmaAllocSgt;
}

// One compare of a constant length per key: this runs for every field of every event.
template <std::size_t N>
bool is(std::string_view key, const char (&word)[N]) {
  return std::memcmp(key.data(), word, N - 1) == 0;
}
// True when [p, e) starts with "NAME=" of field `id`.
bool at_key(const char* p, const char* e, FieldId id) {
  auto starts = [&]<std::size_t N>(const char (&word)[N]) {
    return static_cast<std::size_t>(e - p) >= N && std::memcmp(p, word, N - 1) == 0 && p[N - 1] == '=';
  };
  switch (id) {
    case kDir: return starts("dir");
    case kNents: return starts("nents");
    case kEnts: return starts("ents");
    case kDmaAddr: return starts("dma_addr");
    case kDmaAddrs: return starts("dma_addrs");
    case kSize: return starts("size");
    case kSizes: return starts("sizes");
    case kPhysAddr: return starts("phys_addr");
    case kPhysAddrs: return starts("phys_addrs");
    case kVirtAddr: return starts("virt_addr");
    case kFlags: return starts("flags");
    case kAttrs: return starts("attrs");
    case kFieldCount: break;
  }
  return false;
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
Dir parse_dir(std::string_view s) {
  switch (s.size()) {
    case 9: return is(s, "TO_DEVICE") ? Dir::ToDevice : Dir::Bad;
    case 11: return is(s, "FROM_DEVICE") ? Dir::FromDevice : Dir::Bad;
    case 13: return is(s, "BIDIRECTIONAL") ? Dir::Bidirectional : Dir::Bad;
    case 4: return is(s, "NONE") ? Dir::None : Dir::Bad;
    default: return Dir::Bad;
  }
}

// "%d/%d" of the newest dma_map_sg: how many are printed, of how many.
bool parse_count(std::string_view s, std::uint64_t& printed, std::uint64_t& full) {
  const std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  return fields::parse_dec(s.substr(0, slash), printed) == Num::Ok &&
         fields::parse_dec(s.substr(slash + 1), full) == Num::Ok && printed <= full;
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
  fields::Cursor c;
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

  // The value of field `id` at the cursor; `at` is where "KEY=" starts.
  bool field(FieldId id, std::string_view key, const char* at) {
    switch (id) {
      case kDir: {
        const std::string_view value = c.word();
        const Dir d = parse_dir(value);
        if (d == Dir::Bad) {
          return fail(value.data(), "dir must be BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE or NONE, got " + quoted(value));
        }
        if (d == Dir::None && creates_request(type)) return fail(value.data(), "dir=NONE on a mapping");
        out.dir = d == Dir::ToDevice ? Direction::ToDevice : d == Dir::FromDevice ? Direction::FromDevice : Direction::Bidirectional;
        out.dir_printed = true;
        out.dir_at = at;
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
    out = DmaRecord{};
    if (!c.more()) return fail(c.end(), "the device name is missing");
    std::string_view key;
    const char* at = c.pos();
    if (c.key(key)) return fail(at, "the device name is missing");
    out.device = c.word();
    out.device_at = at;
    const Format format = format_of(type);
    const Mask known = format.required | format.one_of | format.optional;
    const Order order = order_of(type);
    std::size_t expected = 0;  // index into order of the field expected next
    Mask seen = 0;
    while (c.more()) {
      at = c.pos();
      if (expected < order.count && at_key(at, c.end(), order.fields[expected])) [[likely]] {
        const FieldId id = order.fields[expected++];
        key = kFieldNames[id];
        c.skip(key.size() + 1);
        if (seen & bit(id)) return fail(at, std::string(key) + "= appears twice");
        seen |= bit(id);
        if (!field(id, key, at)) return false;
        continue;
      }
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
      if (!field(id, key, at)) return false;
      for (std::size_t i = 0; i < order.count; ++i) {  // an older format: expect what follows it
        if (order.fields[i] == id) expected = i + 1;
      }
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
      return fail(start_at, "range " + fields::hex(start) + " + " + std::to_string(len) + " bytes ends past 2^64");
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
    if ((seen & bit(kNents)) != (seen & bit(kEnts))) {
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

}  // namespace

bool parse_dma_payload(EventType type, std::string_view name, std::string_view payload, ArrayScratch& scratch,
                       DmaRecord& out, PayloadError& error) {
  Parser parser{type, name, scratch, out, error, fields::Cursor(payload)};
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
        return fail(record.phys_at, "segment " + fields::hex(phys[i]) + " + " + std::to_string(record.sizes[i]) +
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
      return fail(record.phys_at, "segment " + fields::hex(phys[i]) + " + " + std::to_string(len) + " bytes ends past 2^64");
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
