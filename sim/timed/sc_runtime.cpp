// SPDX-License-Identifier: MIT
#include "sim/timed/sc_runtime.hpp"

#include <cstdlib>
#include <stdexcept>

#include <systemc>

namespace dartlab::sim::timed {

void prepare_systemc() {
  static const bool prepared = [] {
    // The banner goes to stdout, where `--json -` writes: keep it off unless asked for.
    ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS))
      throw std::logic_error("timed models count in picoseconds: SystemC's time resolution must be 1 ps");
    return true;
  }();
  (void)prepared;
}

}  // namespace dartlab::sim::timed

// libsystemc defines main() and calls sc_main(); the programs that link it here have their own
// main() and start the kernel themselves, but the library's reference must still resolve.
int sc_main(int, char*[]) { return 0; }
