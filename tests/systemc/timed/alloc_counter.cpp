// SPDX-License-Identifier: MIT
// The counting operator new (tests/support/alloc_counter.hpp) in this runner too: the timed
// platform's per-TLP path is held to allocating nothing. The replacements are the mapper
// runner's, compiled here once more rather than copied.
#include "unit/mapper/alloc_counter.cpp"
