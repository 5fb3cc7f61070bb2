// SPDX-License-Identifier: MIT
// The counting operator new (tests/support/alloc_counter.hpp) in this runner too: the replay
// engine is held to allocating nothing once its pools have grown. The replacements are the mapper
// runner's, compiled here once more rather than copied.
#include "unit/mapper/alloc_counter.cpp"
