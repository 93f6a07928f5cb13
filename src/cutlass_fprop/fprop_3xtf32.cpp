#include "cutlass_fprop/fprop_3xtf32.h"

#include <cstdint>

#include "common/error.h"
#include "cutlass_fprop/fprop_tile_ops.h"

namespace resnetrs::cutlass_fprop {
namespace {

struct TileInfo {
  Tile tile;
  const char* name;
  int tb_n;  // threadblock tile along k (the GEMM's N)
  detail::TileOps (*ops)();
};

const TileInfo& info(Tile t) {
  static const TileInfo table[] = {
      {Tile::k128x128x16, "128x128x16", 128, &detail::tile_128x128x16},
      {Tile::k128x64x16, "128x64x16", 64, &detail::tile_128x64x16},
      {Tile::k64x64x16, "64x64x16", 64, &detail::tile_64x64x16},
  };
  for (const TileInfo& i : table) {
    if (i.tile == t) return i;
  }
  throw_error(Status::kInvalidArgument, "unknown CUTLASS tile " + std::to_string(int(t)));
}

bool refuse(std::string* why, const std::string& reason) {
  if (why) *why = reason;
  return false;
}

constexpr int64_t kTwoGiB = int64_t(1) << 31;

}  // namespace

const char* tile_name(Tile t) { return info(t).name; }

std::string FpropShape::describe() const {
  return "n" + std::to_string(n) + " " + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c) + " -> " +
         std::to_string(k) + " k" + std::to_string(r) + "x" + std::to_string(s) + " s" + std::to_string(stride) + " p" +
         std::to_string(pad);
}

FpropShape fprop_shape(const ConvShape& conv, int batch) {
  FpropShape s;
  s.n = batch;
  s.h = conv.h_in;
  s.w = conv.w_in;
  s.c = conv.cin;
  s.k = conv.cout;
  s.r = conv.kernel;
  s.s = conv.kernel;
  s.stride = conv.stride;
  s.pad = conv.pad;
  return s;
}

bool applicable(Tile t, const FpropShape& s, std::string* why) {
  const TileInfo& ti = info(t);
  if (s.n < 1 || s.h < 1 || s.w < 1 || s.c < 1 || s.k < 1 || s.r < 1 || s.s < 1 || s.stride < 1 || s.pad < 0 || s.p() < 1 ||
      s.q() < 1) {
    return refuse(why, "not a valid convolution: " + s.describe());
  }
  if (s.c % 4 != 0) return refuse(why, "input channels " + std::to_string(s.c) + " not a multiple of 4 (128-bit loads)");
  if (s.k % 4 != 0) return refuse(why, "output channels " + std::to_string(s.k) + " not a multiple of 4 (128-bit stores)");
  if (s.r > 32 || s.s > 32) return refuse(why, "filter larger than 32x32");
  const int64_t bytes_in = int64_t(s.n) * s.h * s.w * s.c * 4;
  const int64_t bytes_filter = int64_t(s.k) * s.r * s.s * s.c * 4;
  const int64_t bytes_out = int64_t(s.n) * s.p() * s.q() * s.k * 4;
  if (bytes_in >= kTwoGiB || bytes_filter >= kTwoGiB || bytes_out >= kTwoGiB) {
    return refuse(why, "a tensor of 2 GiB or more (32-bit offsets): " + s.describe());
  }
  if ((s.k + ti.tb_n - 1) / ti.tb_n > 65535) return refuse(why, "more than 65535 tiles along the output channels");
  if (why) why->clear();
  return true;
}

bool cutlass_can_implement(Tile t, const FpropShape& s) { return info(t).ops().can_implement(s); }

size_t workspace_bytes(Tile t, const FpropShape& s) { return info(t).ops().workspace(s); }

void run_fprop(Tile t, const FpropShape& s, const FpropArgs& a) {
  std::string why;
  if (!applicable(t, s, &why)) {
    throw_error(Status::kInvalidArgument, std::string("CUTLASS tile ") + tile_name(t) + " cannot run " + s.describe() + ": " + why);
  }
  RESNETRS_CHECK_ARG(a.x && a.w && a.bias && a.y, "CUTLASS fprop: x, w, bias and y must not be null");
  for (const void* p : {static_cast<const void*>(a.x), static_cast<const void*>(a.w), static_cast<const void*>(a.y)}) {
    RESNETRS_CHECK_ARG(reinterpret_cast<uintptr_t>(p) % 16 == 0, "CUTLASS fprop: x, w and y must be 16-byte aligned");
  }
  const size_t need = workspace_bytes(t, s);
  RESNETRS_CHECK_ARG(a.workspace_bytes >= need, "CUTLASS fprop: workspace of " + std::to_string(a.workspace_bytes) +
                                                    " bytes, the kernel needs " + std::to_string(need));
  info(t).ops().run(s, a);
}

}  // namespace resnetrs::cutlass_fprop
