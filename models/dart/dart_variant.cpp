// SPDX-License-Identifier: MIT
#include "models/dart/dart_variant.hpp"

namespace dartlab::dart {

const DartVariant* find_dart_variant(std::string_view name) {
  for (const DartVariant& v : kDartVariants) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

}  // namespace dartlab::dart
