// SPDX-License-Identifier: MIT
#include "models/dart/table_walk.hpp"

#include <bit>

#include "models/dart/pte.hpp"

namespace dartlab::dart {

std::uint64_t DirectTableMemory::read_entry(std::uint64_t pa) {
  ++reads_;
  const std::uint64_t table_bytes = std::uint64_t{1} << tables_.page_shift();
  return tables_.read_entry(pa & ~(table_bytes - 1), static_cast<unsigned>((pa & (table_bytes - 1)) / 8));
}

TableWalker::TableWalker(const PageTable& layout) : layout_(layout) {
  // The input space: the offset, the full levels below the top, and the top level's used bits.
  const unsigned top_bits = static_cast<unsigned>(std::countr_zero(layout.entries_used(1)));
  va_bits_ = layout.page_shift() + (layout.levels() - 1) * layout.index_bits() + top_bits;
}

WalkResult TableWalker::walk(std::uint64_t bus_addr, TableMemory& memory) const {
  WalkResult out;
  if (va_bits_ < 64 && (bus_addr >> va_bits_) != 0) {
    out.fault = Fault{FaultCode::NoTtbr, bus_addr, 0};
    return out;
  }
  std::uint64_t table_pa = layout_.table_root_pa();
  const unsigned levels = layout_.levels();
  for (unsigned level = 1; level <= levels; ++level) {
    const std::uint64_t entry = memory.read_entry(table_pa + layout_.index_at(bus_addr, level) * 8);
    ++out.reads;
    if (!pte::is_valid(entry)) {
      out.fault = Fault{level == levels ? FaultCode::NoPte : FaultCode::NoL1, bus_addr, level};
      return out;
    }
    if (level == levels) {
      out.pte = entry;
      out.ok = true;
      return out;
    }
    table_pa = pte::decode_pa(entry);
  }
  return out;  // unreachable: a table has at least one level
}

Translation TableWalker::translate_leaf(std::uint64_t pte, std::uint64_t bus_addr, Access access) const {
  const Perms perms = pte::decode_perms(pte);
  const unsigned leaf = layout_.levels();
  if (access == Access::Read && !perms.device_read) return Translation::miss(Fault{FaultCode::ReadProt, bus_addr, leaf});
  if (access == Access::Write && !perms.device_write)
    return Translation::miss(Fault{FaultCode::WriteProt, bus_addr, leaf});
  const std::uint64_t page_mask = (std::uint64_t{1} << layout_.page_shift()) - 1;
  return Translation::hit(pte::decode_pa(pte) + (bus_addr & page_mask));
}

}  // namespace dartlab::dart
