// SPDX-License-Identifier: MIT
#include "models/dart/tlm/dart_tlm.hpp"

#include <algorithm>
#include <bit>

#include "models/dart/pte.hpp"

namespace dartlab::dart {

namespace {

// span * part / whole without overflow (a fraction of a span; a double is exact enough).
std::uint64_t scaled(std::uint64_t span, std::uint64_t part, std::uint64_t whole) {
  return static_cast<std::uint64_t>(static_cast<double>(span) * static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace

DartTlm::DartTlm(const sc_core::sc_module_name& name)
    : sc_core::sc_module(name), device_side("device_side"), memory_side("memory_side"), table_memory_(*this) {
  device_side.register_b_transport(this, &DartTlm::b_transport);
  walk_trans_.set_command(tlm::TLM_READ_COMMAND);
  walk_trans_.set_data_ptr(reinterpret_cast<unsigned char*>(&walk_data_));
  walk_trans_.set_data_length(sizeof walk_data_);
  walk_trans_.set_streaming_width(sizeof walk_data_);
}

void DartTlm::configure(const Dart& functional, const DartTiming& timing) {
  timing_ = timing;
  iotlb_.emplace(timing.iotlb);
  walker_.emplace(functional.page_table());
  page_shift_ = functional.page_table().page_shift();
  faults_.reset();
  stats_ = DartTlmStats{};
  busy_ps_ = 0;
  last_entry_ = nullptr;
}

std::uint64_t DartTlm::SocketTableMemory::read_entry(std::uint64_t pa) {
  tlm::tlm_generic_payload& t = owner_.walk_trans_;
  t.set_address(pa);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = picos_time(cursor_ps - now_ps);
  owner_.walk_data_ = 0;
  owner_.memory_side->b_transport(t, delay);
  cursor_ps = now_ps + delay.value();
  return owner_.walk_data_;
}

void DartTlm::record_fault(const Fault& fault, Access access) {
  faults_.record(fault, access);
  ++stats_.faults;
  ++stats_.faults_by_code[static_cast<unsigned>(fault.code)];
}

std::uint64_t DartTlm::translate_page(std::uint16_t stream, std::uint64_t bus_addr, Access access,
                                      std::uint64_t arrival_ps, std::uint64_t now_ps, Translation& out) {
  const std::uint64_t page = bus_addr >> page_shift_;
  ++stats_.page_lookups;
  const std::uint64_t start = std::max(arrival_ps, busy_ps_);
  const std::uint64_t looked_up = start + std::uint64_t{timing_.lookup_ns} * 1000;
  const Iotlb::Entry* e = nullptr;
  if (last_entry_ != nullptr && page == last_page_ && stream == last_stream_) {
    // The entry the IOTLB's last lookup or fill touched, and nothing else has touched the IOTLB
    // since: looking it up again would hit it, count a hit, and (LRU) keep it the most recent,
    // which it already is. Count the hit; the entry is the one the lookup would return.
    iotlb_->note_repeat_hits(1);
    e = last_entry_;
  } else {
    e = iotlb_->lookup(stream, page);
    last_entry_ = e;
    last_page_ = page;
    last_stream_ = stream;
  }
  if (e != nullptr) {
    busy_ps_ = start + timing_.lookup_interval_ps;
    if (access == Access::Read && !e->perms.device_read)
      out = Translation::miss(Fault{FaultCode::ReadProt, bus_addr, walker_->levels()});
    else if (access == Access::Write && !e->perms.device_write)
      out = Translation::miss(Fault{FaultCode::WriteProt, bus_addr, walker_->levels()});
    else
      out = Translation::hit((e->pa_page << page_shift_) + (bus_addr & ((std::uint64_t{1} << page_shift_) - 1)));
    return looked_up;
  }
  ++stats_.walks;
  table_memory_.cursor_ps = looked_up;
  table_memory_.now_ps = now_ps;
  const WalkResult w = walker_->walk(bus_addr, table_memory_);
  const std::uint64_t done = table_memory_.cursor_ps;
  stats_.walk_reads += w.reads;
  stats_.walk_ps += done - looked_up;
  busy_ps_ = done;  // one walker: the pipe waits for it
  if (!w.ok) {
    out = Translation::miss(w.fault);
    return done;
  }
  iotlb_->fill(stream, page, pte::decode_pa(w.pte) >> page_shift_, pte::decode_perms(w.pte));
  last_entry_ = nullptr;  // the fill moved the IOTLB on: the next lookup is a real one
  out = walker_->translate_leaf(w.pte, bus_addr, access);
  return done;
}

void DartTlm::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  DmaExtension* ext = trans.get_extension<DmaExtension>();
  const std::uint64_t now = ext != nullptr ? ext->now_ps : sc_core::sc_time_stamp().value();
  delay = picos_time(transport(trans, ext, now, now + delay.value()) - now);
}

std::uint64_t DartTlm::dma_transport(tlm::tlm_generic_payload& trans, DmaExtension& ext, std::uint64_t arrive_ps) {
  // Per-TLP mode's usual case, in short: one TLP (no span) within one page, whose page the IOTLB's
  // last lookup found with the permission it needs. The same steps and arithmetic as transport()
  // takes for it (one page, arrival at arrive_ps, a hit on the remembered entry).
  const std::uint64_t addr = trans.get_address();
  const std::uint64_t len = std::max<std::uint64_t>(1, trans.get_data_length());
  const std::uint64_t page = addr >> page_shift_;
  const bool write = trans.is_write();
  if (ext.span_ps != 0 || last_entry_ == nullptr || page != last_page_ || ext.stream != last_stream_ ||
      ((addr + len - 1) >> page_shift_) != page ||
      !(write ? last_entry_->perms.device_write : last_entry_->perms.device_read) || direct_memory_ == nullptr)
    return transport(trans, &ext, ext.now_ps, arrive_ps);
  ++stats_.transactions;
  ++stats_.page_lookups;
  std::uint64_t hits = 1;  // the lookup, then the page's further TLPs
  if (ext.tlp_bytes > 1) {
    const auto tlp_shift = static_cast<unsigned>(std::countr_zero(ext.tlp_bytes));
    hits += ((addr + len - 1) >> tlp_shift) - (addr >> tlp_shift);
  }
  iotlb_->note_repeat_hits(hits);
  const std::uint64_t start = std::max(arrive_ps, busy_ps_);
  const std::uint64_t looked_up = start + std::uint64_t{timing_.lookup_ns} * 1000;
  busy_ps_ = start + timing_.lookup_interval_ps;
  trans.set_address((last_entry_->pa_page << page_shift_) + (addr & ((std::uint64_t{1} << page_shift_) - 1)));
  // ext.span_ps stays 0: one page arriving at once moves on at once.
  const std::uint64_t done = direct_memory_->dma_transport(trans, ext, std::max(arrive_ps, looked_up));
  trans.set_address(addr);
  return done;
}

std::uint64_t DartTlm::transport(tlm::tlm_generic_payload& trans, DmaExtension* ext, std::uint64_t now,
                                 std::uint64_t first) {
  const std::uint64_t span = ext != nullptr ? ext->span_ps : 0;
  const std::uint16_t stream = ext != nullptr ? ext->stream : 0;
  // TLP sizes are powers of two (MPS, MRRS): count them by shifting.
  const unsigned tlp_shift = ext != nullptr && ext->tlp_bytes > 1 ? static_cast<unsigned>(std::countr_zero(ext->tlp_bytes)) : 0;
  const Access access = trans.is_write() ? Access::Write : Access::Read;
  const std::uint64_t addr = trans.get_address();
  const std::uint64_t len = std::max<std::uint64_t>(1, trans.get_data_length());
  ++stats_.transactions;

  // Each page's bytes arrive in order, spread over the span; a page's data moves on once its
  // translation is done and the data before it has moved on.
  const std::uint64_t page_bytes = std::uint64_t{1} << page_shift_;
  const std::uint64_t end = addr + len;
  std::uint64_t out_first = 0;
  std::uint64_t cursor = 0;
  std::uint64_t pa_first = 0;
  for (std::uint64_t at = addr; at < end;) {
    const std::uint64_t page_end = std::min(end, (at & ~(page_bytes - 1)) + page_bytes);
    const std::uint64_t arrival = first + (span != 0 ? scaled(span, at - addr, len) : 0);
    const std::uint64_t portion = span != 0 ? scaled(span, page_end - at, len) : 0;
    Translation tr;
    const std::uint64_t done = translate_page(stream, at, access, arrival, now, tr);
    if (!tr.ok) {
      record_fault(tr.fault, access);
      if (ext != nullptr) {
        ext->faulted = true;
        ext->fault_code = static_cast<std::uint32_t>(tr.fault.code);
        ext->fault_bus_addr = tr.fault.bus_addr;
        ext->span_ps = 0;
      }
      trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return done;
    }
    if (tlp_shift != 0) {  // the page's further TLPs hit the entry just used
      const std::uint64_t tlps = ((page_end - 1) >> tlp_shift) - (at >> tlp_shift) + 1;
      if (tlps > 1) iotlb_->note_repeat_hits(tlps - 1);
    }
    if (at == addr) {
      pa_first = tr.pa;
      out_first = std::max(first, done);
      cursor = out_first;
    }
    cursor = std::max({cursor, done, arrival}) + portion;
    at = page_end;
  }

  // Contents are not modelled: the burst goes on at its first page's PA, for timing only.
  trans.set_address(pa_first);
  if (ext != nullptr) ext->span_ps = cursor - out_first;
  std::uint64_t onward_done = 0;
  if (ext != nullptr && direct_memory_ != nullptr) {
    onward_done = direct_memory_->dma_transport(trans, *ext, out_first);
  } else {
    sc_core::sc_time delay = picos_time(out_first - now);
    memory_side->b_transport(trans, delay);
    onward_done = now + delay.value();
  }
  trans.set_address(addr);
  return onward_done;
}

void DartTlm::flush(FlushScope scope, std::uint16_t stream, const DartRange& range) {
  ++stats_.flushes;
  last_entry_ = nullptr;
  switch (scope) {
    case FlushScope::All: iotlb_->invalidate_all(); break;
    case FlushScope::Stream: iotlb_->invalidate_stream(stream); break;
    case FlushScope::Range: {
      const std::uint64_t page_bytes = std::uint64_t{1} << page_shift_;
      iotlb_->invalidate_range(stream, range.bus_addr >> page_shift_, (range.len_bytes + page_bytes - 1) >> page_shift_);
      break;
    }
  }
}

void DartTlm::forget(std::uint16_t stream, const DartRange& range) {
  last_entry_ = nullptr;
  const std::uint64_t page_bytes = std::uint64_t{1} << page_shift_;
  iotlb_->forget_range(stream, range.bus_addr >> page_shift_, (range.len_bytes + page_bytes - 1) >> page_shift_);
}

}  // namespace dartlab::dart
