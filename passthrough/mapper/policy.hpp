// Clustering policies: which host mapping (a "key") serves a DMA request.
// Semantics are exactly DESIGN.md's "seed-compatible window policy".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "passthrough/mapper/size_text.hpp"
#include "passthrough/mapper/types.hpp"

namespace dartlab::mapper {

// A host mapping's identity: the guest-physical range it covers.
struct Key {
  std::uint64_t base = 0;
  std::uint64_t size_bytes = 0;
  friend bool operator==(const Key&, const Key&) = default;
};

enum class PolicyKind : std::uint8_t {
  Direct,  // every request gets its own range, rounded out to 16 KiB
  Window,  // a request inside one aligned window maps the whole window
};

struct Policy {
  PolicyKind kind = PolicyKind::Direct;
  std::uint64_t window_bytes = 0;  // Window only: a power of two in [16 KiB, 1 GiB]

  static constexpr std::uint64_t kMinWindowBytes = kHostPageBytes;  // DESIGN.md
  static constexpr std::uint64_t kMaxWindowBytes = 1ULL << 30;      // DESIGN.md

  std::string spec() const;  // canonical spec string, parses back to the same policy
};

// Parses "direct" or "window:S" (S with optional K/M/G binary suffix). The error says what is wrong.
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

// The key that serves [gpa, gpa + len_bytes) under the policy.
constexpr Key key_for(const Policy& p, std::uint64_t gpa, std::uint64_t len_bytes) {
  if (p.kind == PolicyKind::Window && len_bytes <= p.window_bytes) {
    const std::uint64_t window_mask = p.window_bytes - 1;
    const std::uint64_t first = gpa & ~window_mask;
    const std::uint64_t last = (gpa + len_bytes - 1) & ~window_mask;
    if (first == last) return Key{first, p.window_bytes};
  }
  return direct_key(gpa, len_bytes);
}

}  // namespace dartlab::mapper
