// SPDX-License-Identifier: MIT
// SystemC as dartlab's timed mode runs it: inside the `dartlab` process (no sc_main of ours
// drives it), quietly (no banner on stdout, which may carry JSON), with a 1 ps resolution so that
// integer picoseconds and sc_time values are the same numbers.
#pragma once

namespace dartlab::sim::timed {

// Call before any SystemC object exists. Idempotent.
void prepare_systemc();

}  // namespace dartlab::sim::timed
