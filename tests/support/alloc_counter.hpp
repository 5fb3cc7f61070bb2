// SPDX-License-Identifier: MIT
// Counts heap allocations made through operator new on this thread while a scope is active.
// The replacement operators live in alloc_counter.cpp of the test runner that uses them.
#pragma once

#include <cstddef>

namespace dartlab::test {

std::size_t& allocations_on_this_thread();

class AllocationCount {
 public:
  AllocationCount() : start_(allocations_on_this_thread()) {}
  std::size_t count() const { return allocations_on_this_thread() - start_; }

 private:
  std::size_t start_;
};

}  // namespace dartlab::test
