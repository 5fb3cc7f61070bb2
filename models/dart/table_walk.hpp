// SPDX-License-Identifier: MIT
// The DART's table walker: from TTBR down to the leaf, one 8-byte memory read per level, through
// whatever memory the caller hands it (the host-memory TLM target in the timed model, the table
// memory itself in unit tests). The table layout (levels, index bits) comes from the functional
// PageTable; the entries come only through those reads.
#pragma once

#include <cstdint>

#include "models/dart/page_table.hpp"
#include "models/dart/translation.hpp"

namespace dartlab::dart {

// Memory as the walker sees it: 8-byte reads of table entries by physical address.
class TableMemory {
 public:
  virtual ~TableMemory() = default;
  virtual std::uint64_t read_entry(std::uint64_t pa) = 0;
};

// The functional table memory read directly, counting reads (unit tests, no timing).
class DirectTableMemory final : public TableMemory {
 public:
  explicit DirectTableMemory(const PageTable& tables) : tables_(tables) {}
  std::uint64_t read_entry(std::uint64_t pa) override;
  std::uint64_t reads() const { return reads_; }

 private:
  const PageTable& tables_;
  std::uint64_t reads_ = 0;
};

struct WalkResult {
  std::uint64_t pte = 0;  // the leaf entry when ok
  Fault fault{};          // when !ok
  unsigned reads = 0;     // memory reads made
  bool ok = false;
};

class TableWalker {
 public:
  explicit TableWalker(const PageTable& layout);

  WalkResult walk(std::uint64_t bus_addr, TableMemory& memory) const;

  // The translation a leaf entry gives for an access: the PA, or a permission fault.
  Translation translate_leaf(std::uint64_t pte, std::uint64_t bus_addr, Access access) const;

  unsigned levels() const { return layout_.levels(); }
  unsigned va_bits() const { return va_bits_; }

 private:
  const PageTable& layout_;
  unsigned va_bits_;
};

}  // namespace dartlab::dart
