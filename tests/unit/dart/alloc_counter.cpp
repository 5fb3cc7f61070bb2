// SPDX-License-Identifier: MIT
// The counting operator new (tests/support/alloc_counter.hpp) in this runner too: the aperture
// allocators and the direct path are held to allocating nothing once warm. The replacements are
// the mapper runner's, compiled here once more rather than copied.
#include "unit/mapper/alloc_counter.cpp"
