// SPDX-License-Identifier: MIT
// Global operator new/delete replacements that count allocations per thread (see alloc_counter.hpp).
#include <cstdlib>
#include <new>

#include "support/alloc_counter.hpp"

namespace dartlab::test {
std::size_t& allocations_on_this_thread() {
  thread_local std::size_t n = 0;
  return n;
}
}  // namespace dartlab::test

void* operator new(std::size_t size) {
  ++dartlab::test::allocations_on_this_thread();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++dartlab::test::allocations_on_this_thread();
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
