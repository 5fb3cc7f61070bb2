#include "passthrough/mapper/types.hpp"

namespace dartlab::mapper {

std::string_view to_string(MapError e) {
  switch (e) {
    case MapError::Invalid: return "invalid";
    case MapError::Slots: return "slots";
    case MapError::Aperture: return "aperture";
    case MapError::Fragmented: return "fragmented";
    case MapError::Pool: return "pool";
    case MapError::Cap: return "cap";
  }
  return "?";
}

std::string_view to_string(Direction d) {
  switch (d) {
    case Direction::Bidirectional: return "bidi";
    case Direction::ToDevice: return "to_dev";
    case Direction::FromDevice: return "from_dev";
  }
  return "?";
}

}  // namespace dartlab::mapper
