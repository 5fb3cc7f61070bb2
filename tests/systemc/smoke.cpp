// SPDX-License-Identifier: MIT
// SystemC as the timed models will use it (from the next issues on): a module advancing local
// time under a TLM-2.0 quantum keeper, synchronising at quantum boundaries. Checks that Debian's
// SystemC 2.3.4 builds, links and runs here, and that time adds up.
#include <cstdio>

#include <systemc>
#include <tlm>
#include <tlm_utils/tlm_quantumkeeper.h>

namespace {

struct Initiator : sc_core::sc_module {
  SC_HAS_PROCESS(Initiator);
  explicit Initiator(sc_core::sc_module_name name) : sc_core::sc_module(name) { SC_THREAD(run); }

  void run() {
    qk.reset();
    for (int i = 0; i < 1000; ++i) {
      qk.inc(sc_core::sc_time(10, sc_core::SC_NS));  // one 10 ns transaction
      if (qk.need_sync()) {
        qk.sync();
        ++syncs;
      }
    }
    qk.sync();
    finished_at = sc_core::sc_time_stamp();
  }

  tlm_utils::tlm_quantumkeeper qk;
  int syncs = 0;
  sc_core::sc_time finished_at;
};

}  // namespace

int sc_main(int, char*[]) {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_core::sc_time(1, sc_core::SC_US));
  Initiator initiator("initiator");
  sc_core::sc_start();
  const bool time_ok = initiator.finished_at == sc_core::sc_time(10, sc_core::SC_US);
  const bool syncs_ok = initiator.syncs == 10;  // 10 us of local time in 1 us quanta
  std::printf("%d passed, %d failed\n", time_ok + syncs_ok, !time_ok + !syncs_ok);
  return time_ok && syncs_ok ? 0 : 1;
}
