// SPDX-License-Identifier: MIT
// `dartlab report`'s page: one self-contained HTML file (inline SVG and CSS, a few lines of
// optional script, no external URL) from replay or sweep results. Per trace: live mappings, mapped
// bytes and fragmentation over the trace against the host's limits, the Pareto plot, a table per
// result; then the refusals, sorted, and where the results came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sim/report/input.hpp"

namespace dartlab::sim::report {

struct Options {
  std::string title = "dartlab report";
  // Lines per chart: beyond this the frontier is drawn first and the rest stay in the table and the
  // Pareto plot (a guess at how many lines a reader can follow).
  std::size_t max_lines = 12;
};

// What the frontier minimises, all at once.
struct ParetoPoint {
  std::uint64_t mappings = 0;
  std::uint64_t bytes = 0;
  std::uint64_t failed = 0;
  std::uint64_t waits = 0;  // cap: requests that waited for room
};

// True for each point no other point dominates (no worse in all four, better in one). Equal
// points are all on the frontier.
std::vector<bool> pareto_frontier(std::span<const ParetoPoint> points);

std::string render_html(const Data& data, const Options& options);

}  // namespace dartlab::sim::report
