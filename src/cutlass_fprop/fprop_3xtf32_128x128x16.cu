// Tile 128x128x16 (warps 64x32x16, 3 stages) of the 3xTF32 fprop kernel (fprop_3xtf32_kernel.cuh).
#include "cutlass_fprop/fprop_3xtf32_kernel.cuh"

namespace resnetrs::cutlass_fprop::detail {

TileOps tile_128x128x16() { return Fprop3xTf32<128, 128, 16, 64, 32, 16, 3>::ops(); }

}  // namespace resnetrs::cutlass_fprop::detail
