// Tile 64x64x16 (warps 32x32x16, 4 stages) of the 3xTF32 fprop kernel (fprop_3xtf32_kernel.cuh).
#include "cutlass_fprop/fprop_3xtf32_kernel.cuh"

namespace resnetrs::cutlass_fprop::detail {

TileOps tile_64x64x16() { return Fprop3xTf32<64, 64, 16, 32, 32, 16, 4>::ops(); }

}  // namespace resnetrs::cutlass_fprop::detail
