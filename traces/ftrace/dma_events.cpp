#include "traces/ftrace/dma_events.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

namespace dartlab::trace::ftrace {
namespace {

using fields::Field;
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

bool creates_request(EventType type) {
  return type == EventType::DmaMap || type == EventType::DmaMapSg || type == EventType::DmaAlloc ||
         type == EventType::DmaAllocPages || type == EventType::DmaAllocSgt;
}

FieldId field_id(std::string_view key) {
  for (std::uint8_t i = 0; i < kFieldCount; ++i) {
    if (kFieldNames[i] == key) return static_cast<FieldId>(i);
  }
  return kFieldCount;
}

// __print_symbolic of enum dma_data_direction; it prints "0x%lx" for other values.
enum class Dir : std::uint8_t { Bidirectional, ToDevice, FromDevice, None, Bad };
Dir parse_dir(std::string_view s) {
  if (s == "TO_DEVICE") return Dir::ToDevice;
  if (s == "FROM_DEVICE") return Dir::FromDevice;
  if (s == "BIDIRECTIONAL") return Dir::Bidirectional;
  if (s == "NONE") return Dir::None;
  return Dir::Bad;
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
  std::uint64_t nents_printed = 0;
  std::uint64_t ents_printed = 0;
  const char* nents_at = nullptr;
  const char* ents_at = nullptr;
  const char* dma_addrs_at = nullptr;

  [[gnu::cold]] bool fail(const char* at, std::string message) {
    error.at = at;
    error.message = std::string(name) + ": " + std::move(message);
    return false;
  }
  [[gnu::cold]] bool bad_number(const Field& f, Num r, const char* what) {
    if (r == Num::Overflow) return fail(f.value.data(), std::string(f.key) + ' ' + quoted(f.value) + " does not fit in 64 bits");
    return fail(f.value.data(), std::string(f.key) + " must be " + what + ", got " + quoted(f.value));
  }
  bool hex(const Field& f, std::uint64_t& v) {
    const Num r = fields::parse_hex(f.value, v);
    return r == Num::Ok || bad_number(f, r, "a hex number");
  }
  bool dec(const Field& f, std::uint64_t& v) {
    const Num r = fields::parse_dec(f.value, v);
    return r == Num::Ok || bad_number(f, r, "a decimal number");
  }
  bool list(const Field& f, std::vector<std::uint64_t>& v, std::span<const std::uint64_t>& view) {
    std::string_view bad;
    const Num r = fields::parse_hex_list(f.value, v, bad);
    if (r == Num::Ok) {
      view = v;
      return true;
    }
    if (r == Num::Overflow) return fail(bad.data(), std::string(f.key) + " entry " + quoted(bad) + " does not fit in 64 bits");
    return fail(bad.data(), std::string(f.key) + " must be a list of hex numbers such as {0x1000,0x2000}, got " + quoted(f.value));
  }
  bool count(const Field& f, std::uint64_t& printed, std::uint64_t& full) {
    return parse_count(f.value, printed, full) ||
           fail(f.value.data(), std::string(f.key) + " must be PRINTED/TOTAL such as 3/3, got " + quoted(f.value));
  }

  bool field(FieldId id, const Field& f) {
    switch (id) {
      case kDir: {
        const Dir d = parse_dir(f.value);
        if (d == Dir::Bad) {
          return fail(f.value.data(), "dir must be BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE or NONE, got " + quoted(f.value));
        }
        if (d == Dir::None && creates_request(type)) return fail(f.value.data(), "dir=NONE on a mapping");
        out.dir = d == Dir::ToDevice ? Direction::ToDevice : d == Dir::FromDevice ? Direction::FromDevice : Direction::Bidirectional;
        out.dir_printed = true;
        out.dir_at = f.text.data();
        return true;
      }
      case kNents: nents_at = f.value.data(); return count(f, nents_printed, out.nents);
      case kEnts: ents_at = f.value.data(); return count(f, ents_printed, out.ents);
      case kDmaAddr: return hex(f, out.dma_addr);
      case kDmaAddrs: dma_addrs_at = f.value.data(); return list(f, scratch.dma_addrs, out.dma_addrs);
      case kSize: out.size_at = f.value.data(); return dec(f, out.size_bytes);
      case kSizes: out.sizes_at = f.value.data(); return list(f, scratch.sizes, out.sizes);
      case kPhysAddr: out.phys_at = f.value.data(); out.has_phys = true; return hex(f, out.phys_addr);
      case kPhysAddrs: out.phys_at = f.value.data(); return list(f, scratch.phys_addrs, out.phys_addrs);
      case kVirtAddr: out.virt_is_null = is_null_pointer(f.value); return true;
      case kFlags:
      case kAttrs:
      case kFieldCount: return true;  // gfp and DMA_ATTR_* flags change no mapping
    }
    return true;
  }

  bool parse(std::string_view payload) {
    out = DmaRecord{};
    fields::Fields fs(payload);
    Field f;
    if (!fs.next(f) || f.has_key) return fail(f.has_key ? f.text.data() : fs.end(), "the device name is missing");
    out.device = f.text;
    out.device_at = f.text.data();
    const Format format = format_of(type);
    const Mask known = format.required | format.one_of | format.optional;
    Mask seen = 0;
    while (fs.next(f)) {
      if (!f.has_key) {
        if (type == EventType::DmaMapSg && f.text == "[TRUNCATED]") {
          out.truncated = true;
          continue;
        }
        return fail(f.text.data(), "unexpected " + quoted(f.text) + " (expected KEY=VALUE)");
      }
      const FieldId id = field_id(f.key);
      if (id == kFieldCount || (known & bit(id)) == 0) continue;  // a field this event does not print
      if (seen & bit(id)) return fail(f.text.data(), std::string(f.key) + "= appears twice");
      seen |= bit(id);
      if (!field(id, f)) return false;
    }
    if (const Mask missing = format.required & ~seen; missing != 0) {
      const auto first = static_cast<std::size_t>(__builtin_ctz(missing));
      return fail(fs.end(), std::string(kFieldNames[first]) + "= is missing (the line may be cut short)");
    }
    if (format.one_of != 0 && (seen & format.one_of) == 0) {
      return fail(fs.end(), "phys_addr= or virt_addr= is missing (the line may be cut short)");
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
  Parser parser{type, name, scratch, out, error};
  return parser.parse(payload);
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
