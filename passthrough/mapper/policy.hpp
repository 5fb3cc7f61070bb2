// SPDX-License-Identifier: MIT
// Clustering policies: which host mapping (a "key") serves a DMA request.
// Semantics are exactly DESIGN.md's "seed-compatible window policy".
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "base/size_text.hpp"
#include "base/types.hpp"

namespace dartlab::mapper {

// A host mapping's identity: the guest-physical range it covers.
struct Key {
  std::uint64_t base = 0;
  std::uint64_t size_bytes = 0;
  friend bool operator==(const Key&, const Key&) = default;
};

enum class PolicyKind : std::uint8_t {
  Direct,    // every request gets its own range, rounded out to 16 KiB
  Window,    // a request inside one aligned window maps the whole window
  Multi,     // several window sizes: the smallest that holds the request, promoted when a region fills
  Adaptive,  // one window size at a time, moved up or down as the host's slots or bytes run short
  Bounce,    // one pool mapped once; every request is carved from it and its bytes copied (swiotlb)
};

// Sizes of windows as a set: bit k stands for a window of 2^k bytes.
using WindowSizes = std::uint64_t;

struct Policy {
  PolicyKind kind = PolicyKind::Direct;
  std::uint64_t window_bytes = 0;  // Window: the size; Adaptive: the size it starts with

  // Multi: the window sizes, and the share of a larger window that smaller live windows must
  // cover before a new request there maps the larger window instead.
  WindowSizes multi_sizes = 0;
  double promote_fraction = 0.5;  // a guess: half a region live predicts the rest will be

  // Adaptive: the range the window size moves in, the watermarks on the host's slots and bytes,
  // and how many new host mappings pass between two decisions.
  std::uint64_t adaptive_min_bytes = 0;
  std::uint64_t adaptive_max_bytes = 0;
  double high_water = 0.9;  // a guess: act while a tenth of the resource is left
  double low_water = 0.5;   // a guess: below half of both, drift back to the start size
  std::uint32_t decide_every = 64;  // a guess: often enough to react within a burst of maps

  // Lazy (any kind): released host mappings stay mapped in an LRU for reuse, at most lazy_keep of
  // them and lazy_bytes bytes, evicted early under host pressure.
  static constexpr std::uint64_t kUnbounded = ~std::uint64_t{0};
  bool lazy = false;
  std::uint64_t lazy_keep = kUnbounded;
  std::uint64_t lazy_bytes = kUnbounded;

  // Bounce: the pool, [bounce_pool_gpa, + bounce_pool_bytes) of guest-physical memory, mapped
  // through the host once and cut into kBounceSlotBytes slots that requests take first-fit.
  std::uint64_t bounce_pool_bytes = 0;
  std::uint64_t bounce_pool_gpa = 0;

  // Cap (any kind but bounce): at most cap_windows live host mappings (0: no cap). A request
  // that needs one more is refused with MapError::Cap and changes nothing: the caller waits.
  std::uint64_t cap_windows = 0;

  static constexpr std::uint64_t kMinWindowBytes = kHostPageBytes;  // DESIGN.md
  static constexpr std::uint64_t kMaxWindowBytes = 1ULL << 30;      // DESIGN.md
  // Lazy evicts before the host's slots or bytes pass this share (a guess: leave room for a burst).
  static constexpr double kLazyPressure = 0.95;
  // Linux's swiotlb cuts its pools into 2 KiB slots (include/linux/swiotlb.h, IO_TLB_SHIFT 11); a
  // restricted-dma-pool is one of its pools.
  static constexpr std::uint64_t kBounceSlotBytes = 2048;
  // The real host's bounce buffer: dma-bounce-size, 64 MiB by default (docs/REAL-SYSTEM.md).
  static constexpr std::uint64_t kDefaultBouncePoolBytes = 64ULL << 20;
  static constexpr std::uint64_t kMaxBouncePoolBytes = 64ULL << 30;  // a guess: well past any host's buffer
  static constexpr std::uint64_t kMaxCapWindows = 1ULL << 32;  // a guess: far past any host's 65,536 slots

  std::string spec() const;  // canonical spec string, parses back to the same policy
  friend bool operator==(const Policy&, const Policy&) = default;
};

// Parses a policy spec: "direct", "window:S", "multi:S1,S2,...[,promote=F]",
// "adaptive[:start=S,min=S,max=S,high=F,low=F,every=N]", "lazy:POLICY[,keep=N][,bytes=B]",
// "bounce[:SIZE][,at=GPA]", "cap:POLICY,windows=N".
// Sizes take an optional K/M/G binary suffix; fractions are 0.5 or 50%. The error says what is wrong.
std::variant<Policy, std::string> parse_policy(std::string_view spec);

// Help text for `--policy`.
std::string_view policy_help();

// The direct key: the request rounded out to 16 KiB pages. Caller guarantees len > 0 and
// gpa + len rounded up does not overflow.
constexpr Key direct_key(std::uint64_t gpa, std::uint64_t len_bytes) {
  constexpr std::uint64_t page_mask = kHostPageBytes - 1;
  const std::uint64_t base = gpa & ~page_mask;
  const std::uint64_t end = (gpa + len_bytes + page_mask) & ~page_mask;
  return Key{base, end - base};
}

// Whether [gpa, gpa + len_bytes) lies inside one aligned window of window_bytes (a power of two).
constexpr bool fits_window(std::uint64_t gpa, std::uint64_t len_bytes, std::uint64_t window_bytes) {
  if (len_bytes > window_bytes) return false;
  const std::uint64_t window_mask = window_bytes - 1;
  return (gpa & ~window_mask) == ((gpa + len_bytes - 1) & ~window_mask);
}

// The window of window_bytes around gpa.
constexpr Key window_key(std::uint64_t gpa, std::uint64_t window_bytes) {
  return Key{gpa & ~(window_bytes - 1), window_bytes};
}

// The seed's rule at one window size: the window if the request lies inside one, else direct.
constexpr Key window_or_direct(std::uint64_t window_bytes, std::uint64_t gpa, std::uint64_t len_bytes) {
  if (window_bytes != 0 && fits_window(gpa, len_bytes, window_bytes)) return window_key(gpa, window_bytes);
  return direct_key(gpa, len_bytes);
}

// Multi's first choice: the smallest of the window sizes that holds the request, else direct.
constexpr Key smallest_window_or_direct(WindowSizes sizes, std::uint64_t gpa, std::uint64_t len_bytes) {
  for (; sizes != 0; sizes &= sizes - 1) {
    const std::uint64_t bytes = std::uint64_t{1} << std::countr_zero(sizes);
    if (fits_window(gpa, len_bytes, bytes)) return window_key(gpa, bytes);
  }
  return direct_key(gpa, len_bytes);
}

// The key that serves [gpa, gpa + len_bytes) under a stateless reading of the policy: exact for
// direct and window; for multi the smallest window that holds the request and for adaptive its
// start size (the Mapper refines both with what is live).
constexpr Key key_for(const Policy& p, std::uint64_t gpa, std::uint64_t len_bytes) {
  switch (p.kind) {
    case PolicyKind::Direct: return direct_key(gpa, len_bytes);
    case PolicyKind::Window:
    case PolicyKind::Adaptive: return window_or_direct(p.window_bytes, gpa, len_bytes);
    case PolicyKind::Bounce: return Key{p.bounce_pool_gpa, p.bounce_pool_bytes};
    case PolicyKind::Multi: return smallest_window_or_direct(p.multi_sizes, gpa, len_bytes);
  }
  return direct_key(gpa, len_bytes);
}

}  // namespace dartlab::mapper
