// The CUTLASS 3xTF32 fprop kernels without a GPU (issue 13, dependency wiring): our host-side
// applicability rule against the instantiated kernels' own ImplicitGemmConvolution::can_implement
// (host only) on every convolution of the network and on shapes at each rule's edge; the
// workspace query; refusals of run_fprop that happen before any device call. What needs the GPU
// (results against the CPU reference) is listed in docs/cutlass.md.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "cutlass_fprop/fprop_3xtf32.h"
#include "model/network.h"

using namespace resnetrs;
using namespace resnetrs::cutlass_fprop;

namespace {

std::vector<ConvShape> all_convs(const NetworkDesc& net) {
  std::vector<ConvShape> v(net.stem, net.stem + 4);
  for (const BlockShape& b : net.blocks) {
    v.push_back(b.conv1);
    v.push_back(b.conv2);
    v.push_back(b.conv3);
    if (b.has_projection) v.push_back(b.shortcut);
  }
  return v;
}

FpropShape shape(int n, int h, int w, int c, int k, int r, int stride, int pad) {
  FpropShape s;
  s.n = n;
  s.h = h;
  s.w = w;
  s.c = c;
  s.k = k;
  s.r = r;
  s.s = r;
  s.stride = stride;
  s.pad = pad;
  return s;
}

}  // namespace

TEST_CASE("every ResNet-RS convolution but the 3-channel stem conv: our rule and CUTLASS's agree", "[cutlass]") {
  int checked = 0;
  for (int depth : {50, 152}) {
    for (int res : {32, 33, 97, 160, 224, 320}) {
      const NetworkDesc net = describe_network(config_for_depth(depth), res, res);
      for (int batch : {1, 3, 128}) {
        for (const ConvShape& conv : all_convs(net)) {
          const FpropShape s = fprop_shape(conv, batch);
          CHECK(s.p() == conv.h_out);
          CHECK(s.q() == conv.w_out);
          for (Tile t : kTiles) {
            INFO(conv.name << " " << s.describe() << " tile " << tile_name(t));
            std::string why;
            const bool ours = applicable(t, s, &why);
            CHECK(ours == cutlass_can_implement(t, s));
            CHECK(ours == (conv.cin % 4 == 0));  // only stem/conv1 (3 channels) is out
            if (!ours) CHECK(why.find("input channels 3 not a multiple of 4") != std::string::npos);
            CHECK(workspace_bytes(t, s) == 0);  // serial split-K with one slice
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked > 1000);
}

TEST_CASE("shapes at the edge of each rule: our rule and CUTLASS's agree", "[cutlass]") {
  struct Case {
    FpropShape s;
    bool ok;
    const char* why;
  };
  const Case cases[] = {
      {shape(2, 17, 9, 4, 4, 3, 2, 1), true, ""},
      {shape(2, 17, 9, 6, 64, 3, 1, 1), false, "input channels 6"},
      {shape(2, 17, 9, 64, 6, 1, 1, 0), false, "output channels 6"},
      {shape(1, 40, 40, 4, 8, 32, 1, 0), true, ""},
      {shape(1, 40, 40, 4, 8, 33, 1, 0), false, "larger than 32x32"},
      // The input: 3.4 GB, then 1.7 GB (32-bit offsets).
      {shape(512, 160, 160, 64, 64, 1, 1, 0), false, "2 GiB or more"},
      {shape(256, 160, 160, 64, 4, 1, 1, 0), true, ""},
      // 65536 tiles of 128 output channels (more for the 64-wide tiles).
      {shape(1, 1, 1, 4, 65535 * 128 + 4, 1, 1, 0), false, "65535 tiles"},
  };
  for (const Case& c : cases) {
    for (Tile t : kTiles) {
      INFO(c.s.describe() << " tile " << tile_name(t));
      std::string why;
      const bool ours = applicable(t, c.s, &why);
      CHECK(ours == cutlass_can_implement(t, c.s));
      CHECK(ours == c.ok);
      CHECK(why.find(c.why) != std::string::npos);
    }
  }
}

TEST_CASE("run_fprop refuses before any device call", "[cutlass]") {
  const FpropShape stem = shape(1, 64, 64, 3, 32, 3, 2, 1);
  const FpropShape ok = shape(1, 8, 8, 32, 32, 3, 1, 1);
  FpropArgs a;
  // Never dereferenced: every case below is refused on the host.
  a.x = reinterpret_cast<const float*>(uintptr_t(0x10000));
  a.w = reinterpret_cast<const float*>(uintptr_t(0x20000));
  a.bias = reinterpret_cast<const float*>(uintptr_t(0x30000));
  a.y = reinterpret_cast<float*>(uintptr_t(0x40000));
  CHECK_THROWS_WITH(run_fprop(Tile::k64x64x16, stem, a), Catch::Contains("cannot run") && Catch::Contains("input channels 3"));
  FpropArgs misaligned = a;
  misaligned.x = reinterpret_cast<const float*>(uintptr_t(0x10004));
  CHECK_THROWS_WITH(run_fprop(Tile::k64x64x16, ok, misaligned), Catch::Contains("16-byte aligned"));
  FpropArgs null_bias = a;
  null_bias.bias = nullptr;
  CHECK_THROWS_WITH(run_fprop(Tile::k64x64x16, ok, null_bias), Catch::Contains("must not be null"));
  try {
    run_fprop(Tile::k128x128x16, stem, a);
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(e.status() == Status::kInvalidArgument);
  }
}

TEST_CASE("tile names", "[cutlass]") {
  CHECK(std::string(tile_name(Tile::k128x128x16)) == "128x128x16");
  CHECK(std::string(tile_name(Tile::k128x64x16)) == "128x64x16");
  CHECK(std::string(tile_name(Tile::k64x64x16)) == "64x64x16");
  CHECK_THROWS_AS(tile_name(static_cast<Tile>(7)), Error);
}
