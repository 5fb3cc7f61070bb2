// SPDX-License-Identifier: MIT
#include "models/thunderbolt/tlm/link_tlm.hpp"

#include <algorithm>
#include <bit>

namespace dartlab::thunderbolt {

LinkTlm::LinkTlm(const sc_core::sc_module_name& name)
    : sc_core::sc_module(name), device_side("device_side"), host_side("host_side") {
  device_side.register_b_transport(this, &LinkTlm::b_transport);
}

void LinkTlm::configure(const LinkConfig& config) {
  timing_.emplace(config);
  up_busy_ps_ = 0;
  down_busy_ps_ = 0;
  held_.assign(std::bit_ceil(std::size_t{config.posted_header_credits}), Held{0, 0});
  held_mask_ = held_.size() - 1;
  held_limit_ = config.posted_header_credits;
  held_head_ = 0;
  held_count_ = 0;
  held_data_credits_ = 0;
  stats_ = LinkStats{};
  write_key_bytes_ = ~std::uint64_t{0};
  read_key_bytes_ = ~std::uint64_t{0};
  posted_data_credits_ = config.posted_data_credits;
}

void LinkTlm::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  dartlab::bus::DmaExtension* ext = trans.get_extension<dartlab::bus::DmaExtension>();
  const bool borrowed = ext == nullptr;
  if (borrowed) {  // the burst timing travels in the extension: lend one for the trip
    scratch_ext_ = dartlab::bus::DmaExtension{};
    scratch_ext_.dir = trans.is_write() ? dartlab::bus::DmaDir::DeviceToHost : dartlab::bus::DmaDir::HostToDevice;
    scratch_ext_.now_ps = sc_core::sc_time_stamp().value();
    trans.set_extension(&scratch_ext_);
    ext = &scratch_ext_;
  }
  const std::uint64_t now = ext->now_ps;
  const std::uint64_t done = dma_transport(trans, *ext, now + delay.value());
  if (borrowed) trans.clear_extension(&scratch_ext_);
  delay = dartlab::bus::picos_time(done - now);
}

std::uint64_t LinkTlm::dma_transport(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension& ext,
                                     std::uint64_t arrive_ps) {
  return trans.is_write() ? write(trans, &ext, arrive_ps) : read(trans, &ext, arrive_ps);
}

// Per TLP in per-TLP mode: inlined into write().
[[gnu::always_inline]] inline const LinkTlm::WriteShape& LinkTlm::write_shape(std::uint64_t addr, std::uint64_t bytes) {
  const LinkTiming& t = *timing_;
  const std::uint64_t mps = t.config().mps_bytes;
  // One TLP (the piece fits in its MPS block): its shape is its bytes and its header.
  if (bytes == 0 || (addr & (mps - 1)) + bytes > mps) {
    write_other_.run = t.write_run(addr, bytes);
    write_other_.ser = t.serialize_ps(LinkDir::Up, write_other_.run);
    return write_other_;
  }
  const bool four_dw = t.header_bytes(addr, bytes) != t.config().header_3dw_bytes;
  if (bytes != write_key_bytes_ || four_dw != write_key_4dw_) {
    write_memo_.run = t.write_run(addr, bytes);
    write_memo_.ser = t.serialize_ps(LinkDir::Up, write_memo_.run);
    write_key_bytes_ = bytes;
    write_key_4dw_ = four_dw;
  }
  return write_memo_;
}

[[gnu::always_inline]] inline const LinkTlm::ReadTiming& LinkTlm::read_timing(std::uint64_t addr, std::uint64_t bytes) {
  const LinkTiming& t = *timing_;
  const std::uint64_t mrrs = t.config().mrrs_bytes;
  const auto compute = [&t](std::uint64_t a, std::uint64_t n) {
    ReadTiming r;
    r.shape = t.read_shape(a, n);
    r.up = t.serialize_ps(LinkDir::Up, r.shape.requests);
    r.down = t.serialize_ps(LinkDir::Down, r.shape.completions);
    return r;
  };
  // One request (the piece fits in its MRRS block): its completions split by the offset in a
  // completion chunk; its request is its header.
  if (bytes == 0 || (addr & (mrrs - 1)) + bytes > mrrs) {
    read_other_ = compute(addr, bytes);
    return read_other_;
  }
  const bool four_dw = t.header_bytes(addr, bytes) != t.config().header_3dw_bytes;
  const std::uint64_t offset = addr & (t.completion_chunk_bytes() - 1);
  if (bytes != read_key_bytes_ || offset != read_key_offset_ || four_dw != read_key_4dw_) {
    read_memo_ = compute(addr, bytes);
    read_key_bytes_ = bytes;
    read_key_offset_ = offset;
    read_key_4dw_ = four_dw;
  }
  return read_memo_;
}

// Per TLP in per-TLP mode: inlined into write().
[[gnu::always_inline]] inline std::uint64_t LinkTlm::take_credits(std::uint32_t data_credits, std::uint64_t ready_ps) {
  const std::uint64_t data_limit = posted_data_credits_;
  std::uint64_t start = ready_ps;
  const auto release_oldest = [&] {
    const Held& h = held_[held_head_];
    start = std::max(start, h.return_ps);
    held_data_credits_ -= h.data_credits;
    held_head_ = (held_head_ + 1) & held_mask_;
    --held_count_;
  };
  while (held_count_ == held_limit_ || held_data_credits_ + data_credits > data_limit) release_oldest();
  // Credits already back by the time this TLP starts are not in flight any more.
  while (held_count_ > 0 && held_[held_head_].return_ps <= start) release_oldest();
  return start;
}

[[gnu::always_inline]] inline std::uint64_t LinkTlm::forward(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension* ext,
                               std::uint64_t arrive_ps, std::uint64_t span_ps, std::uint64_t& done_span_ps) {
  ext->span_ps = span_ps;
  std::uint64_t first_done = 0;
  if (direct_host_ != nullptr) {
    first_done = direct_host_->dma_transport(trans, *ext, arrive_ps);
  } else {
    const std::uint64_t now = ext->now_ps;
    sc_core::sc_time onward = dartlab::bus::picos_time(arrive_ps - now);
    host_side->b_transport(trans, onward);
    first_done = now + onward.value();
  }
  done_span_ps = ext->span_ps;
  return first_done;
}

std::uint64_t LinkTlm::write(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension* ext, std::uint64_t issue) {
  const LinkTiming& t = *timing_;
  const std::uint64_t bytes = trans.get_data_length();
  const WriteShape& shape = write_shape(trans.get_address(), bytes);
  const TlpRun& run = shape.run;
  const Picos ser = shape.ser;
  const Picos one_way = t.one_way_ps();
  const std::uint64_t ready = std::max(issue, up_busy_ps_);
  std::uint64_t tx_end = 0;
  std::uint64_t first_arrive = 0;
  std::uint64_t span = 0;
  if (run.tlps <= 1) {
    const auto data_credits = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, (bytes + 15) / 16));
    const std::uint64_t start = take_credits(data_credits, ready);
    stats_.credit_stall_ps += start - ready;
    tx_end = start + ser;
    first_arrive = tx_end + one_way;
    // The receiver frees the buffer on arrival; UpdateFC takes the way back.
    held_[(held_head_ + held_count_) & held_mask_] = Held{first_arrive + one_way, data_credits};
    ++held_count_;
    held_data_credits_ += data_credits;
    stats_.max_posted_in_flight = std::max<std::uint64_t>(stats_.max_posted_in_flight, held_count_);
  } else {
    const Picos per = ser / run.tlps;
    const std::uint64_t credits = t.posted_credit_tlps(std::min<std::uint64_t>(bytes, t.config().mps_bytes));
    const Picos loop = per + 2 * one_way;
    const Picos tx_span = credits * per >= loop ? ser : LinkTiming::window_bound_span(run.tlps, per, credits, loop);
    tx_end = ready + tx_span;
    first_arrive = ready + per + one_way;
    span = tx_end + one_way - first_arrive;
    // A burst's credits are timed in closed form; the ring starts afresh after it.
    held_head_ = 0;
    held_count_ = 0;
    held_data_credits_ = 0;
  }
  up_busy_ps_ = tx_end;
  ++stats_.write_transactions;
  stats_.write_tlps += run.tlps;
  stats_.bytes_up += bytes;
  stats_.wire_bytes_up += run.wire_bytes;

  std::uint64_t done_span = 0;
  const std::uint64_t first_done = forward(trans, ext, first_arrive, span, done_span);
  ext->done_ps = first_done + done_span;
  stats_.last_write_landed_ps = std::max(stats_.last_write_landed_ps, ext->done_ps);
  return tx_end;
}

std::uint64_t LinkTlm::read(tlm::tlm_generic_payload& trans, dartlab::bus::DmaExtension* ext, std::uint64_t issue) {
  const LinkTiming& t = *timing_;
  const std::uint64_t bytes = trans.get_data_length();
  const ReadTiming& timing = read_timing(trans.get_address(), bytes);
  const ReadShape& shape = timing.shape;
  const std::uint64_t requests = std::max<std::uint64_t>(1, shape.requests.tlps);
  const Picos up = timing.up;
  const Picos down = timing.down;
  const Picos one_way = t.one_way_ps();
  const Picos per_request = up / requests;
  const std::uint64_t start = std::max(issue, up_busy_ps_);
  up_busy_ps_ = start + up;
  ++stats_.read_transactions;
  stats_.read_requests += shape.requests.tlps;
  stats_.completions += shape.completions.tlps;
  stats_.bytes_down += bytes;
  stats_.wire_bytes_up += shape.requests.wire_bytes;
  stats_.wire_bytes_down += shape.completions.wire_bytes;

  const std::uint64_t first_arrive = start + per_request + one_way;
  std::uint64_t data_span = 0;
  const std::uint64_t ready = forward(trans, ext, first_arrive, up - per_request, data_span);
  if (ext->faulted) {  // an error completion, no data
    TlpRun error_completion;
    error_completion.tlps = 1;
    error_completion.wire_bytes = t.config().framing_bytes + t.config().header_3dw_bytes;
    error_completion.tunnel_packets = 1;
    const std::uint64_t end = std::max(ready, down_busy_ps_) + t.serialize_ps(LinkDir::Down, error_completion);
    down_busy_ps_ = end;
    ext->done_ps = end + one_way;
    return ext->done_ps;
  }
  const std::uint64_t down_start = std::max(ready, down_busy_ps_);
  std::uint64_t down_end = std::max(down_start + down, ready + data_span);
  std::uint64_t done = down_end + one_way;
  if (requests > 1) {  // tags: no more than read_tags requests outstanding
    const Picos per_completion = down / requests;
    const Picos per = std::max(per_request, per_completion);
    const Picos round_trip = per_request + one_way + (ready - first_arrive) + per_completion + one_way;
    const std::uint64_t tags = t.config().read_tags;
    if (tags * per < round_trip) {
      const std::uint64_t tag_done = start + LinkTiming::window_bound_span(requests, per, tags, round_trip) - per + round_trip;
      done = std::max(done, tag_done);
      down_end = done - one_way;
    }
  }
  down_busy_ps_ = down_end;
  ext->done_ps = done;
  return done;
}

}  // namespace dartlab::thunderbolt
