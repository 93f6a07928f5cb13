// Tile 128x64x16 (warps 64x32x16, 3 stages) of the 3xTF32 fprop kernel (fprop_3xtf32_kernel.cuh).
#include "cutlass_fprop/fprop_3xtf32_kernel.cuh"

namespace resnetrs::cutlass_fprop::detail {

TileOps tile_128x64x16() { return Fprop3xTf32<128, 64, 16, 64, 32, 16, 3>::ops(); }

}  // namespace resnetrs::cutlass_fprop::detail
