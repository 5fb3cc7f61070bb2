// SPDX-License-Identifier: MIT
// The report's section on runs of `dartlab replay --timed`: where the simulated time went, the
// host's time by step, the map latency's spread, and a row of figures per run.
#pragma once

#include <span>
#include <string>

#include "sim/report/input.hpp"

namespace dartlab::sim::report {

std::string timed_section(std::span<const TimedRun> runs);

}  // namespace dartlab::sim::report
