// The entry points each tile's translation unit provides (fprop_3xtf32_<tile>.cu), so that the
// dispatcher (fprop_3xtf32.cpp) is plain C++ and each tile compiles on its own (in parallel, and
// cached separately by ccache).
#pragma once

#include <cstddef>

#include "cutlass_fprop/fprop_3xtf32.h"

namespace resnetrs::cutlass_fprop::detail {

struct TileOps {
  bool (*can_implement)(const FpropShape&);
  size_t (*workspace)(const FpropShape&);
  void (*run)(const FpropShape&, const FpropArgs&);
};

TileOps tile_128x128x16();
TileOps tile_128x64x16();
TileOps tile_64x64x16();

}  // namespace resnetrs::cutlass_fprop::detail
