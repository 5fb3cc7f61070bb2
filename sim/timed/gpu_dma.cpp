// SPDX-License-Identifier: MIT
#include "sim/timed/gpu_dma.hpp"

#include <algorithm>
#include <bit>

namespace dartlab::sim::timed {

std::string_view to_string(TransferMode m) {
  switch (m) {
    case TransferMode::Burst: return "burst";
    case TransferMode::Tlp: return "tlp";
  }
  return "?";
}

GpuDma::GpuDma(const sc_core::sc_module_name& name) : sc_core::sc_module(name), socket("socket") {
  trans_.set_data_ptr(dummy_data_);
  trans_.set_byte_enable_ptr(nullptr);
  trans_.set_extension(&ext_);
}

GpuDma::~GpuDma() { trans_.clear_extension(&ext_); }  // ext_ is ours, not the payload's to delete

void GpuDma::configure(const GpuConfig& config, const thunderbolt::LinkConfig& link) {
  config_ = config;
  mps_bytes_ = link.mps_bytes;
  mrrs_bytes_ = link.mrrs_bytes;
  tags_.assign(std::bit_ceil(std::max<std::uint32_t>(1, link.read_tags)), 0);
  tag_limit_ = std::max<std::uint32_t>(1, link.read_tags);
  quantum_ps_ = std::max<std::uint64_t>(1, config.quantum_ns) * 1000;
  // The quantum keeper's syncs and ours fall on the same boundaries.
  tlm_utils::tlm_quantumkeeper::set_global_quantum(dartlab::bus::picos_time(quantum_ps_));
  stats_ = GpuStats{};
}

void GpuDma::begin() {
  keeper_.reset();
  kernel_now_ps_ = sc_core::sc_time_stamp().value();
  local_ps_ = kernel_now_ps_;
  sync_at_ps_ = (local_ps_ / quantum_ps_ + 1) * quantum_ps_;
}

void GpuDma::end() {
  const std::uint64_t now = sc_core::sc_time_stamp().value();
  if (local_ps_ > now) {
    keeper_.set(dartlab::bus::picos_time(local_ps_ - now));
    keeper_.sync();
    kernel_now_ps_ = sc_core::sc_time_stamp().value();
    ++stats_.syncs;
  }
}

void GpuDma::sync_to(std::uint64_t local_ps) {
  // The quantum is used up: let SystemC time catch up with the engine's.
  keeper_.set(dartlab::bus::picos_time(local_ps - kernel_now_ps_));
  keeper_.sync();
  kernel_now_ps_ = sc_core::sc_time_stamp().value();
  ++stats_.syncs;
  sync_at_ps_ = (local_ps / quantum_ps_ + 1) * quantum_ps_;
}

void GpuDma::spend_ps(std::uint64_t ps) {
  local_ps_ += ps;
  keep_quantum(local_ps_);
}

// Per TLP in per-TLP mode: inlined into transfer().
[[gnu::always_inline]] inline std::uint64_t GpuDma::issue(tlm::tlm_command cmd, std::uint64_t addr, std::uint64_t bytes, std::uint64_t issue_ps) {
  trans_.set_command(cmd);
  trans_.set_address(addr);
  trans_.set_data_length(static_cast<unsigned>(bytes));
  trans_.set_streaming_width(static_cast<unsigned>(bytes));
  trans_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  ext_.span_ps = 0;
  ext_.done_ps = 0;
  ext_.faulted = false;
  ext_.now_ps = kernel_now_ps_;
  ++stats_.transactions;
  if (direct_link_ != nullptr) return direct_link_->dma_transport(trans_, ext_, issue_ps);
  sc_core::sc_time delay = dartlab::bus::picos_time(issue_ps - kernel_now_ps_);
  socket->b_transport(trans_, delay);
  return kernel_now_ps_ + delay.value();
}

TransferOutcome GpuDma::transfer(dartlab::bus::DmaDir dir, std::uint16_t stream, std::uint64_t bus_addr, std::uint64_t bytes) {
  TransferOutcome out;
  ++stats_.transfers;
  local_ps_ += std::uint64_t{config_.dma_setup_ns} * 1000;
  out.start_ps = local_ps_;
  out.done_ps = local_ps_;
  if (bytes == 0) return out;
  const bool write = dir == dartlab::bus::DmaDir::DeviceToHost;
  const tlm::tlm_command cmd = write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND;
  const std::uint64_t piece = write ? mps_bytes_ : mrrs_bytes_;
  ext_.stream = stream;
  ext_.dir = dir;
  ext_.tlp_bytes = static_cast<std::uint32_t>(piece);

  // Burst mode: the whole transfer at once, in pieces the payload's 32-bit length can carry.
  const std::uint64_t max_transaction = config_.mode == TransferMode::Burst ? (std::uint64_t{1} << 30) : piece;
  std::uint64_t issue_ps = local_ps_;
  std::uint64_t done_ps = local_ps_;
  // Reads: request i may go once request i - tags is back. The ring of completion times is a power
  // of two at least `tags` long, so request i - tags's slot is found with a mask and not yet reused.
  std::uint64_t requests = 0;
  const std::uint64_t tag_mask = tags_.size() - 1;
  for (std::uint64_t at = bus_addr, left = bytes; left > 0;) {
    const std::uint64_t n = std::min(left, max_transaction - (at & (max_transaction - 1)));
    if (!write && requests >= tag_limit_)
      issue_ps = std::max(issue_ps, tags_[(requests - tag_limit_) & tag_mask]);  // a free tag
    const std::uint64_t returned = issue(cmd, at, n, issue_ps);
    ++out.transactions;
    if (trans_.get_response_status() != tlm::TLM_OK_RESPONSE) {
      out.faulted = true;
      done_ps = std::max(done_ps, returned);
      break;
    }
    if (write) {
      issue_ps = returned;  // the transmitter is free again; the data lands later
      done_ps = std::max(done_ps, ext_.done_ps);
    } else {
      tags_[requests & tag_mask] = returned;
      done_ps = std::max(done_ps, returned);
    }
    ++requests;
    keep_quantum(issue_ps);
    at += n;
    left -= n;
  }
  out.done_ps = done_ps;
  local_ps_ = std::max(local_ps_, done_ps);
  keep_quantum(local_ps_);
  if (out.faulted) ++stats_.faulted_transfers;
  return out;
}

}  // namespace dartlab::sim::timed
