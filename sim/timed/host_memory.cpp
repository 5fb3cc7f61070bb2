// SPDX-License-Identifier: MIT
#include "sim/timed/host_memory.hpp"

#include <algorithm>
#include <cstring>

#include "models/tlm/dma_extension.hpp"

namespace dartlab::sim::timed {

HostMemory::HostMemory(const sc_core::sc_module_name& name) : sc_core::sc_module(name), socket("socket") {
  socket.register_b_transport(this, &HostMemory::b_transport);
}

void HostMemory::configure(const HostMemoryConfig& config, const dart::PageTable* tables) {
  config_ = config;
  tables_ = tables;
  attos_per_byte_ = config.gbytes_per_s == 0 ? 0 : 1'000'000'000ULL / config.gbytes_per_s;
  busy_ps_ = 0;
  serve_bytes_ = 0;
  serve_ps_ = 0;
  stats_ = HostMemoryStats{};
}

void HostMemory::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  dartlab::bus::DmaExtension* ext = trans.get_extension<dartlab::bus::DmaExtension>();
  if (ext != nullptr) {
    const std::uint64_t now = ext->now_ps;
    delay = dartlab::bus::picos_time(dma_transport(trans, *ext, now + delay.value()) - now);
    return;
  }
  // A table walk's read: the entry comes from the page tables. Eight bytes take latency, not
  // bandwidth, so walks do not queue in the bandwidth server (a burst walks its later pages
  // before its data gets here, out of time order).
  const std::uint64_t bytes = trans.get_data_length();
  const std::uint64_t latency_ps = std::uint64_t{trans.is_write() ? config_.write_ns : config_.read_ns} * 1000;
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  ++stats_.table_reads;
  if (trans.is_read() && tables_ != nullptr && bytes == 8) {
    const std::uint64_t addr = trans.get_address();
    const std::uint64_t table_bytes = std::uint64_t{1} << tables_->page_shift();
    const std::uint64_t entry =
        tables_->read_entry(addr & ~(table_bytes - 1), static_cast<unsigned>((addr & (table_bytes - 1)) / 8));
    std::memcpy(trans.get_data_ptr(), &entry, sizeof entry);
  }
  delay += table_memo_(latency_ps);
}

std::uint64_t HostMemory::dma_transport(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension& ext,
                                        std::uint64_t arrive_ps) {
  const std::uint64_t bytes = trans.get_data_length();
  const bool write = trans.is_write();
  const std::uint64_t latency_ps = std::uint64_t{write ? config_.write_ns : config_.read_ns} * 1000;
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
  const std::uint64_t start = std::max(arrive_ps, busy_ps_);
  if (bytes != serve_bytes_) {  // per-TLP mode sends the same size again and again
    serve_bytes_ = bytes;
    serve_ps_ = (bytes * attos_per_byte_ + 999'999) / 1'000'000;
  }
  busy_ps_ = std::max(start + serve_ps_, arrive_ps + ext.span_ps);
  if (write) {
    ++stats_.data_writes;
    stats_.bytes_written += bytes;
  } else {
    ++stats_.data_reads;
    stats_.bytes_read += bytes;
  }
  // The first bytes are done a latency after they could start; the last when the bandwidth (or
  // their own arrival) let them through, and a latency.
  const std::uint64_t first_done = start + latency_ps;
  ext.span_ps = busy_ps_ + latency_ps - first_done;
  return first_done;
}

}  // namespace dartlab::sim::timed
