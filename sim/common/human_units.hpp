// SPDX-License-Identifier: MIT
// Sizes and rates for people, in the unit that fits them: what every table, summary and report
// prints (the engines' JSON keeps plain numbers).
#pragma once

#include <cstdint>
#include <string>

namespace dartlab::sim {

// "1.50 GiB", "256.0 KiB", "812 B".
std::string human_bytes(std::uint64_t bytes);
// A rate in the unit that fits it, three significant digits: "2.84 GiB/s", "95.3 KiB/s",
// "0.431 B/s"; decimal units ("3.05 GB/s", "97.6 kB/s") when `binary` is false.
std::string human_rate(double bytes_per_s, bool binary = true);

}  // namespace dartlab::sim
