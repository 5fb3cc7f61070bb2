// SPDX-License-Identifier: MIT
// Delta debugging: Zeller and Hildebrandt's ddmin ("Simplifying and Isolating Failure-Inducing
// Input", IEEE TSE 2002), complement first. Generic over what the elements stand for; the
// stress shrinker (shrink.hpp) runs it over a trace's requests.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace dartlab::sim {

// Kept across calls: tests add up, complete says whether the last call ran to its end.
struct DdminStats {
  std::uint64_t tests = 0;  // predicate calls
  bool complete = false;    // ran to its end: the result is 1-minimal
};

// True when the subset (elements of the input, in the input's order) still fails.
using DdminTest = std::function<bool(std::span<const std::uint32_t> subset)>;

// The input must fail as a whole, and the empty set must not (neither is tested). Splits the
// current failing set into n chunks (n from 2): keeps the first complement that still fails
// (n - 1 chunks next, starting the scan where the removed chunk was), else the first chunk that
// fails alone (n back to 2), else doubles n, until n reaches the set's size with nothing to
// remove: no single element can then go (1-minimal). `stop` is asked before every test; when it
// says so, the search ends with the smallest failing set found so far and complete = false.
std::vector<std::uint32_t> ddmin(std::vector<std::uint32_t> input, const DdminTest& fails,
                                 const std::function<bool()>& stop, DdminStats& stats);

// ddmin's last phase alone: tries removing each element in turn, keeping every removal that
// still fails, and passes again until a pass removes nothing (1-minimal, complete = true). About
// one test per element per pass: for a set that is already nearly minimal this is what ddmin
// would end with, without the four times as many tests its coarser phases spend first.
std::vector<std::uint32_t> remove_singles(std::vector<std::uint32_t> input, const DdminTest& fails,
                                          const std::function<bool()>& stop, DdminStats& stats);

// The shortest prefix of `ranked` that still fails, by bisection (ranked as a whole must fail);
// each prefix is tested sorted into ascending order. Exact when failing is monotone in the
// prefix length (more elements never cure it), a failing set in any case.
std::vector<std::uint32_t> shortest_failing_prefix(std::span<const std::uint32_t> ranked, const DdminTest& fails,
                                                   const std::function<bool()>& stop, DdminStats& stats);

}  // namespace dartlab::sim
