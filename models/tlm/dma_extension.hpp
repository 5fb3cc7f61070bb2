// SPDX-License-Identifier: MIT
// What a DMA transaction carries beside the TLM generic payload: the stream the DART knows the
// requester by, the direction, and the timing of a burst. The command says the same direction
// (READ: the device reads host memory, h2d; WRITE: the device writes it, d2h).
//
// Times in this platform are absolute picoseconds of simulated time: each module adds
// sc_time_stamp() to the annotated delay it receives and subtracts it from the one it returns.
#pragma once

#include <cstdint>

#include <tlm>


namespace dartlab::bus {

// An sc_time of `ps` picoseconds, inline: sc_time::from_value is an out-of-line call that asks the
// simulation context about its resolution every time, too slow for every transaction. Exact below
// 2^53 ps (about 2.5 hours). Needs the 1 ps resolution (sim/timed/sc_runtime.hpp checks it).
inline sc_core::sc_time picos_time(std::uint64_t ps) {
  static const sc_core::sc_time one_ps = sc_core::sc_time::from_value(1);
  sc_core::sc_time t = one_ps;
  t *= static_cast<double>(ps);
  return t;
}

// The sc_time of a picosecond count, remembering the last one: where a module answers through its
// socket with the same delta again and again (a table read's latency), `delay += memo(d)` is then
// an integer add. (The platform's DMA path keeps integer picoseconds throughout: DmaTarget below.)
class PicosMemo {
 public:
  const sc_core::sc_time& operator()(std::uint64_t ps) {
    if (ps != ps_) {
      ps_ = ps;
      time_ = picos_time(ps);
    }
    return time_;
  }

 private:
  std::uint64_t ps_ = 0;
  sc_core::sc_time time_;  // zero, as ps_
};

enum class DmaDir : std::uint8_t {
  HostToDevice,  // h2d: the device reads host memory (read requests up, completions down)
  DeviceToHost,  // d2h: the device writes host memory (posted writes up)
};

class DmaExtension : public tlm::tlm_extension<DmaExtension> {
 public:
  std::uint16_t stream = 0;
  DmaDir dir = DmaDir::HostToDevice;
  // SystemC's time when the initiator issued the transaction. No b_transport of this platform
  // waits, so it holds down the whole call chain and spares each module asking the kernel.
  std::uint64_t now_ps = 0;
  // The TLP size the transaction is made of (MPS for writes, MRRS for reads): a burst stands for
  // many of them; per-TLP mode sends one. The DART counts one IOTLB lookup per TLP.
  std::uint32_t tlp_bytes = 0;
  // A burst's bytes reach the next module spread evenly over span_ps after the annotated time
  // (the first TLP); each module rewrites it for what it passes on. 0: a single TLP.
  std::uint64_t span_ps = 0;
  // Set by the link: when the last byte is done at the far end (written to host memory, or back
  // at the device for a read).
  std::uint64_t done_ps = 0;
  // Set by the DART when a page faults (the response status is then TLM_ADDRESS_ERROR_RESPONSE).
  bool faulted = false;
  // The IOMMU's own fault code (the DART's FaultCode) and the bus address that faulted.
  std::uint32_t fault_code = 0;
  std::uint64_t fault_bus_addr = 0;

  tlm::tlm_extension_base* clone() const override { return new DmaExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const DmaExtension&>(other);
  }
};

// The platform's modules behind one another, called directly: the same transaction and the same
// arithmetic as b_transport through the bound sockets, without what the sockets cost on every
// TLP (the port, the socket's forwarding process and its virtual thunk, the extension looked up
// by id in every module, the annotated delay turned to and from sc_time). Times are absolute
// picoseconds: `arrive_ps` is ext.now_ps plus the delay b_transport would have been given, and
// the return value is ext.now_ps plus the delay it would have handed back. Only a transaction
// that carries `ext` comes this way; the platform wires a module's direct target to the module
// its initiator socket is bound to (sim/timed/platform.cpp), so both paths reach the same model.
class DmaTarget {
 public:
  virtual std::uint64_t dma_transport(tlm::tlm_generic_payload& trans, DmaExtension& ext, std::uint64_t arrive_ps) = 0;

 protected:
  DmaTarget() = default;
  DmaTarget(const DmaTarget&) = default;
  DmaTarget& operator=(const DmaTarget&) = default;
  ~DmaTarget() = default;
};

}  // namespace dartlab::bus
