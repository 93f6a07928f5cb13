// The kernels in every activation storage type (fp32, fp16, bf16) and pointwise activation
// (identity, relu, swish), in NCHW and NHWC, against the float CPU operators (src/cpu/cpu_ops) run
// on the same storage-rounded inputs, their outputs rounded by the CPU storage emulation
// (src/cpu/storage_rounding): the reference a 16-bit GPU engine is held to. Shapes cover the
// vector paths (4-element vectors: 16 bytes in fp32, 8 in fp16/bf16), the scalar paths (channel
// or plane counts not multiple of 4, a pointer one element off alignment), odd sizes and batch 1
// and 3. Outputs are poisoned (0xFF bytes: NaN in every type) before each launch and followed by a
// guard zone that must stay untouched.
//
// Tolerances:
//   exact (same bits, NaN = NaN): convert, normalize, bias + relu / identity, both 2x2 pools, zero
//     padding: the kernel does the CPU operator's float operations in its order, and the one
//     rounding to the storage type is the emulation's (checked bit for bit by "convert");
//   bias + swish: expf on the device vs std::exp: fp32 |d| <= 4e-6 |ref| + 1e-30; fp16 / bf16
//     one unit in the last place of the storage type, |d| <= 2^-10 |ref| (fp16, + 2^-24 for
//     subnormals) or 2^-7 |ref| (bf16): the fp32 values differ by a few fp32 ulps, which may move
//     the rounding to the neighbouring 16-bit value but no further;
//   block tail: the device fuses (x + xb) * g + (s + sb) into an FMA, the CPU does not: fp32 as
//     the fp32 test (1e-5 |ref| + 1e-6), 16-bit one storage ulp + 1e-6 (cancellation, data of
//     order 1);
//   global average pool (fp32 output): float sums vs the CPU's double sum, 1e-5 |ref| + 1e-6.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/cpu_ops.h"
#include "cpu/storage_rounding.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_raii.h"
#include "gpu_test_support.h"
#include "kernels/act_type.cuh"
#include "kernels/avg_pool_2x2.cuh"
#include "kernels/bias_relu.cuh"
#include "kernels/block_tail.cuh"
#include "kernels/convert.cuh"
#include "kernels/global_avg_pool.cuh"
#include "kernels/normalize_input.cuh"
#include "kernels/storage_convert.cuh"
#include "kernels/zero_pad.cuh"
#include "model/network.h"
#include "support/compare.h"
#include "support/rounding_cases.h"

using namespace resnetrs;
using namespace resnetrs::test;
using kernels::ActType;
using kernels::PointwiseAct;
using kernels::TensorLayout;

namespace {

const ActType kTypes[] = {ActType::kF32, ActType::kF16, ActType::kBF16};
const TensorLayout kLayouts[] = {TensorLayout::kNCHW, TensorLayout::kNHWC};
const PointwiseAct kActs[] = {PointwiseAct::kIdentity, PointwiseAct::kRelu, PointwiseAct::kSwish};

cpu::StorageType storage_of(ActType t) {
  return t == ActType::kF32 ? cpu::StorageType::kFp32 : t == ActType::kF16 ? cpu::StorageType::kFp16 : cpu::StorageType::kBf16;
}
Activation activation_of(PointwiseAct a) {
  return a == PointwiseAct::kRelu ? Activation::kRelu : a == PointwiseAct::kSwish ? Activation::kSwish : Activation::kNone;
}
const char* act_name(PointwiseAct a) {
  return a == PointwiseAct::kRelu ? "relu" : a == PointwiseAct::kSwish ? "swish" : "identity";
}

std::vector<float> rounded(ActType t, std::vector<float> v) {
  cpu::round_in_place(storage_of(t), v.data(), v.size());
  return v;
}

// One storage ulp relative: the 16-bit tolerance of the ops that are not exact.
double storage_rtol(ActType t) { return t == ActType::kF16 ? 0x1.0p-10 : 0x1.0p-7; }
double storage_atol(ActType t) { return t == ActType::kF16 ? 0x1.0p-24 : 1e-38; }

// A device tensor of `count` elements of `type`, `offset` elements after a cudaMalloc'd (256-byte
// aligned) start (offset 1 breaks every vector alignment), followed by a guard zone. Everything is
// poisoned with 0xFF bytes (NaN in fp32, fp16 and bf16) on construction.
class StorageArray {
 public:
  static constexpr size_t kGuardBytes = 64;

  StorageArray(ActType type, size_t count, size_t offset = 0)
      : m_type(type),
        m_count(count),
        m_offset(offset),
        m_elem(size_t(kernels::act_type_bytes(type))),
        m_buffer((offset + count) * m_elem + kGuardBytes, "test storage array") {
    RESNETRS_CUDA_CHECK(cudaMemset(m_buffer.get(), 0xFF, m_buffer.bytes()));
    RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
  }
  StorageArray(ActType type, const std::vector<float>& values, size_t offset = 0) : StorageArray(type, values.size(), offset) {
    upload(values);
  }

  void* get() { return static_cast<char*>(m_buffer.get()) + m_offset * m_elem; }
  size_t size() const { return m_count; }

  // values must be representable in the type (rounded by storage_rounding): encoding is exact.
  void upload(const std::vector<float>& values) {
    REQUIRE(values.size() == m_count);
    std::vector<unsigned char> bytes(m_count * m_elem);
    for (size_t i = 0; i < m_count; ++i) {
      if (m_type == ActType::kF32) {
        std::memcpy(&bytes[i * 4], &values[i], 4);
      } else {
        const uint16_t h =
            m_type == ActType::kF16 ? kernels::f32_to_f16_bits(values[i]) : kernels::f32_to_bf16_bits(values[i]);
        std::memcpy(&bytes[i * 2], &h, 2);
      }
    }
    RESNETRS_CUDA_CHECK(cudaMemcpy(get(), bytes.data(), bytes.size(), cudaMemcpyHostToDevice));
    RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
  }

  std::vector<float> download() const {
    RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<unsigned char> bytes(m_count * m_elem);
    RESNETRS_CUDA_CHECK(cudaMemcpy(bytes.data(), static_cast<const char*>(m_buffer.get()) + m_offset * m_elem,
                                   bytes.size(), cudaMemcpyDeviceToHost));
    std::vector<float> out(m_count);
    for (size_t i = 0; i < m_count; ++i) {
      if (m_type == ActType::kF32) {
        std::memcpy(&out[i], &bytes[i * 4], 4);
      } else {
        uint16_t h;
        std::memcpy(&h, &bytes[i * 2], 2);
        out[i] = m_type == ActType::kF16 ? kernels::f16_bits_to_f32(h) : kernels::bf16_bits_to_f32(h);
      }
    }
    return out;
  }

  // Raw 16-bit codes (fp16/bf16 only).
  std::vector<uint16_t> download_codes() const {
    RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<uint16_t> out(m_count);
    RESNETRS_CUDA_CHECK(cudaMemcpy(out.data(), static_cast<const char*>(m_buffer.get()) + m_offset * m_elem,
                                   m_count * 2, cudaMemcpyDeviceToHost));
    return out;
  }

  bool guard_intact() const {
    RESNETRS_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<unsigned char> guard(kGuardBytes);
    RESNETRS_CUDA_CHECK(cudaMemcpy(guard.data(), static_cast<const char*>(m_buffer.get()) + (m_offset + m_count) * m_elem,
                                   kGuardBytes, cudaMemcpyDeviceToHost));
    return std::all_of(guard.begin(), guard.end(), [](unsigned char b) { return b == 0xFF; });
  }

 private:
  ActType m_type;
  size_t m_count, m_offset, m_elem;
  cuda::DeviceBuffer m_buffer;
};

struct Shape4 {
  int n, c, h, w;
};

std::string describe(const Shape4& s, TensorLayout l, ActType t) {
  return std::string(kernels::act_type_name(t)) + " n" + std::to_string(s.n) + " c" + std::to_string(s.c) + " " +
         std::to_string(s.h) + "x" + std::to_string(s.w) + " " + kernels::tensor_layout_name(l);
}

std::vector<float> to_layout(const std::vector<float>& nchw, const Shape4& s, TensorLayout l) {
  return l == TensorLayout::kNHWC ? nchw_to_nhwc(nchw, s.n, s.c, s.h, s.w) : nchw;
}
std::vector<float> from_layout(const std::vector<float>& v, const Shape4& s, TensorLayout l) {
  return l == TensorLayout::kNHWC ? nhwc_to_nchw(v, s.n, s.c, s.h, s.w) : v;
}

bool same_value(float a, float b) { return (std::isnan(a) && std::isnan(b)) || bits_from_float(a) == bits_from_float(b); }

// Bit-for-bit equality (NaN = NaN), reporting the first differences.
void check_exact(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0;
  std::string first;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!same_value(got[i], want[i])) {
      if (bad++ < 5) first += "  [" + std::to_string(i) + "] got " + std::to_string(got[i]) + " want " + std::to_string(want[i]) + "\n";
    }
  }
  INFO(what << ": " << bad << " of " << got.size() << " differ from the CPU operator\n" << first);
  CHECK(bad == 0);
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double rtol, double atol,
                 const std::string& what) {
  const CompareResult r = compare(got, want, rtol, atol);
  INFO(what << "\n" << r.report);
  CHECK(r.ok);
}

}  // namespace

TEST_CASE("storage conversions round like the CPU storage emulation, bit for bit", "[kernels16][convert]") {
  const std::vector<float> cases = rounding_cases();
  for (ActType t : {ActType::kF16, ActType::kBF16}) {
    for (size_t offset : {size_t(0), size_t(1)}) {  // 1: scalar path; 0: vectors plus a tail of count % 4
      INFO(kernels::act_type_name(t) << (offset ? " misaligned (scalar path)" : " aligned (vector path)"));
      DeviceArray in(cases);
      StorageArray out(t, cases.size() - offset, offset);
      kernels::launch_convert_from_f32(in.get() + offset, out.get(), t, int64_t(cases.size() - offset), nullptr);
      const std::vector<float> got = out.download();
      CHECK(out.guard_intact());
      std::vector<float> want(cases.begin() + long(offset), cases.end());
      cpu::round_in_place(storage_of(t), want.data(), want.size());
      check_exact(got, want, "convert_from_f32");
    }
    // Every 16-bit code back to fp32, against the formats' definitions.
    StorageArray codes(t, 65536);
    {
      std::vector<uint16_t> all(65536);
      for (uint32_t c = 0; c < 65536u; ++c) all[c] = uint16_t(c);
      RESNETRS_CUDA_CHECK(cudaMemcpy(codes.get(), all.data(), all.size() * 2, cudaMemcpyHostToDevice));
    }
    for (size_t offset : {size_t(0), size_t(3)}) {
      INFO(kernels::act_type_name(t) << " -> f32, output offset " << offset);
      DeviceArray out(65536 + offset);
      kernels::launch_convert_to_f32(codes.get(), t, out.get() + offset, 65536, nullptr);
      const std::vector<float> all = out.download();
      CHECK(out.guard_intact());
      size_t bad = 0;
      for (uint32_t c = 0; c < 65536u; ++c) {
        const double want = t == ActType::kF16 ? decode_fp16(uint16_t(c)) : decode_bf16(uint16_t(c));
        const float g = all[c + offset];
        const bool ok = std::isnan(want) ? std::isnan(g) : double(g) == want && std::signbit(g) == bool(c & 0x8000u);
        bad += !ok;
      }
      CHECK(bad == 0);
    }
  }
  // fp32 -> fp32 is a copy.
  const std::vector<float> v = random_floats(1001, 7);
  DeviceArray in(v), mid(v.size()), back(v.size());
  kernels::launch_convert_from_f32(in.get(), mid.get(), ActType::kF32, int64_t(v.size()), nullptr);
  kernels::launch_convert_to_f32(mid.get(), ActType::kF32, back.get(), int64_t(v.size()), nullptr);
  check_exact(back.download(), v, "f32 round trip");
}

TEST_CASE("normalize_input writes every storage type like the CPU operator, rounded", "[kernels16][normalize]") {
  const std::array<float, 3> mean = {123.675f, 116.28f, 103.53f}, stdv = {58.395f, 57.12f, 57.375f};
  kernels::NormalizeParams p{};
  for (int c = 0; c < 3; ++c) {
    p.mean[c] = mean[c];
    p.inv_std[c] = 1.0f / stdv[c];
  }
  struct Case {
    int n, h, w;
    size_t out_offset;
  };
  const Case cases[] = {{3, 64, 64, 0}, {1, 33, 31, 0}, {3, 7, 5, 0}, {2, 16, 16, 1}};
  for (ActType t : kTypes) {
    for (const Case& cs : cases) {
      for (TensorLayout in_l : kLayouts) {
        for (TensorLayout out_l : kLayouts) {
          const Shape4 s{cs.n, 3, cs.h, cs.w};
          const std::string what = describe(s, in_l, t) + " -> " + kernels::tensor_layout_name(out_l) +
                                   (cs.out_offset ? " (misaligned output: scalar path)" : "");
          INFO(what);
          const size_t count = size_t(s.n) * 3 * s.h * s.w;
          const std::vector<float> pixels_nchw = random_floats(count, 101 + cs.h, 0.0f, 255.0f);
          const std::vector<float> pixels = to_layout(pixels_nchw, s, in_l);
          DeviceArray in(pixels);
          StorageArray out(t, count, cs.out_offset);
          kernels::launch_normalize_input(in.get(), in_l, out.get(), t, out_l, s.n, s.h, s.w, p, nullptr);
          const std::vector<float> got = from_layout(out.download(), s, out_l);
          CHECK(out.guard_intact());
          std::vector<float> want(count);
          cpu::normalize_input(pixels.data(), in_l == TensorLayout::kNHWC, s.n, s.h, s.w, mean, stdv, want.data());
          check_exact(got, rounded(t, want), what);
        }
      }
    }
  }
}

TEST_CASE("bias + activation epilogue in every storage type and activation", "[kernels16][bias_act]") {
  // 64x40x40 and 256x10x10: vector paths; 37x9x7 and 6x5x5: scalar (c and hw not multiples of 4);
  // 8x3x3: NHWC vector, NCHW scalar.
  const Shape4 shapes[] = {{3, 64, 40, 40}, {1, 256, 10, 10}, {1, 37, 9, 7}, {3, 6, 5, 5}, {3, 8, 3, 3}};
  for (ActType t : kTypes) {
    for (PointwiseAct a : kActs) {
      for (const Shape4& s : shapes) {
        for (TensorLayout l : kLayouts) {
          for (size_t offset : {size_t(0), size_t(1)}) {
            const std::string what = describe(s, l, t) + " " + act_name(a) + (offset ? " misaligned (scalar path)" : "");
            INFO(what);
            const size_t count = size_t(s.n) * s.c * s.h * s.w;
            const size_t hw = size_t(s.h) * s.w;
            const std::vector<float> x = rounded(t, random_floats(count, 201 + s.c, -4.0f, 4.0f));
            const std::vector<float> bias = random_floats(size_t(s.c), 202 + s.c, -0.5f, 0.5f);
            StorageArray data(t, to_layout(x, s, l), offset);
            DeviceArray b(bias);
            kernels::launch_bias_act(data.get(), t, b.get(), s.n, s.c, int(hw), l, a, nullptr);
            const std::vector<float> got = from_layout(data.download(), s, l);
            CHECK(data.guard_intact());
            std::vector<float> want(count);
            for (size_t i = 0; i < count; ++i) {
              const float v = x[i] + bias[(i / hw) % size_t(s.c)];
              want[i] = a == PointwiseAct::kRelu ? std::max(v, 0.0f) : a == PointwiseAct::kSwish ? cpu::swish(v) : v;
            }
            want = rounded(t, want);
            if (a == PointwiseAct::kSwish) {
              if (t == ActType::kF32) {
                check_close(got, want, 4e-6, 1e-30, what);
              } else {
                check_close(got, want, storage_rtol(t), storage_atol(t), what);
              }
            } else {
              check_exact(got, want, what);
            }
          }
        }
      }
    }
  }
  // No bias (the fused conv already added it): act(x) alone, vector and scalar paths.
  for (ActType t : kTypes) {
    for (PointwiseAct a : kActs) {
      for (TensorLayout l : kLayouts) {
        for (const Shape4& s : {Shape4{2, 16, 6, 6}, Shape4{1, 7, 3, 5}}) {
          const std::string what = describe(s, l, t) + " " + act_name(a) + " without bias";
          INFO(what);
          const size_t count = size_t(s.n) * s.c * s.h * s.w;
          const std::vector<float> x = rounded(t, random_floats(count, 221 + s.c, -4.0f, 4.0f));
          StorageArray data(t, to_layout(x, s, l));
          kernels::launch_bias_act(data.get(), t, nullptr, s.n, s.c, s.h * s.w, l, a, nullptr);
          const std::vector<float> got = from_layout(data.download(), s, l);
          CHECK(data.guard_intact());
          std::vector<float> want(count);
          for (size_t i = 0; i < count; ++i) {
            want[i] = a == PointwiseAct::kRelu ? std::max(x[i], 0.0f) : a == PointwiseAct::kSwish ? cpu::swish(x[i]) : x[i];
          }
          want = rounded(t, want);
          if (a != PointwiseAct::kSwish) {
            check_exact(got, want, what);
          } else if (t == ActType::kF32) {
            check_close(got, want, 4e-6, 1e-30, what);
          } else {
            check_close(got, want, storage_rtol(t), storage_atol(t), what);
          }
        }
      }
    }
  }
  // The fp32 ReLU launcher is the fp32 instantiation: bit for bit the same as launch_bias_act.
  const Shape4 s{3, 64, 8, 8};
  const size_t count = size_t(s.n) * s.c * s.h * s.w;
  const std::vector<float> x = random_floats(count, 211), bias = random_floats(size_t(s.c), 212);
  DeviceArray d1(x), d2(x), b(bias);
  kernels::launch_bias_relu(d1.get(), b.get(), s.n, s.c, s.h * s.w, TensorLayout::kNHWC, nullptr);
  kernels::launch_bias_act(d2.get(), ActType::kF32, b.get(), s.n, s.c, s.h * s.w, TensorLayout::kNHWC, PointwiseAct::kRelu,
                           nullptr);
  check_exact(d1.download(), d2.download(), "launch_bias_relu vs launch_bias_act(f32, relu)");
}

TEST_CASE("2x2 'same' pools, stride 2 and the Model Garden's stride 1, equal the CPU operator bit for bit",
          "[kernels16][pool]") {
  // 40x40x64: the Model Garden's stage-1 shortcut input at 160 (stride 1); 9x7, 7x8, 1x1, 2x3:
  // odd sizes, a missing last row/column, c not a multiple of 4.
  const Shape4 shapes[] = {{2, 64, 40, 40}, {3, 7, 9, 7}, {2, 8, 7, 8}, {3, 6, 1, 1}, {1, 12, 2, 3}, {1, 16, 5, 5}};
  for (ActType t : kTypes) {
    for (int stride : {2, 1}) {
      for (const Shape4& s : shapes) {
        for (TensorLayout l : kLayouts) {
          for (size_t offset : {size_t(0), size_t(1)}) {
            const std::string what = describe(s, l, t) + " stride " + std::to_string(stride) +
                                     (offset ? " misaligned (scalar path)" : "");
            INFO(what);
            const int ho = (s.h + stride - 1) / stride, wo = (s.w + stride - 1) / stride;
            const Shape4 so{s.n, s.c, ho, wo};
            const std::vector<float> x = rounded(t, random_floats(size_t(s.n) * s.c * s.h * s.w, 301 + s.h + stride));
            StorageArray in(t, to_layout(x, s, l), offset);
            StorageArray out(t, size_t(s.n) * s.c * ho * wo, offset);
            if (stride == 2) {
              kernels::launch_avg_pool_2x2_same(in.get(), out.get(), t, s.n, s.c, s.h, s.w, l, nullptr);
            } else {
              kernels::launch_avg_pool_2x2_s1_same(in.get(), out.get(), t, s.n, s.c, s.h, s.w, l, nullptr);
            }
            const std::vector<float> got = from_layout(out.download(), so, l);
            CHECK(out.guard_intact());
            std::vector<float> want(got.size());
            cpu::avg_pool_2x2_same(x.data(), s.n, s.c, s.h, s.w, stride, want.data());
            check_exact(got, rounded(t, want), what);
          }
        }
      }
    }
  }
}

TEST_CASE("global average pool reads every storage type", "[kernels16][squeeze]") {
  const Shape4 shapes[] = {{3, 256, 20, 20}, {1, 2048, 5, 5}, {3, 37, 9, 7}, {1, 6, 1, 1}, {2, 36, 3, 3}};
  for (ActType t : kTypes) {
    for (const Shape4& s : shapes) {
      for (TensorLayout l : kLayouts) {
        for (bool with_bias : {false, true}) {
          for (size_t offset : {size_t(0), size_t(1)}) {
            const std::string what = describe(s, l, t) + (with_bias ? " with bias" : " no bias") +
                                     (offset ? " misaligned (scalar path)" : "");
            INFO(what);
            const std::vector<float> x = rounded(t, random_floats(size_t(s.n) * s.c * s.h * s.w, 401 + s.c));
            const std::vector<float> bias = random_floats(size_t(s.c), 402 + s.c, -0.5f, 0.5f);
            StorageArray in(t, to_layout(x, s, l), offset);
            DeviceArray b(bias), out(size_t(s.n) * s.c);
            kernels::launch_global_avg_pool(in.get(), t, with_bias ? b.get() : nullptr, out.get(), s.n, s.c, s.h * s.w, l,
                                            nullptr);
            const std::vector<float> got = out.download();
            CHECK(out.guard_intact());
            std::vector<float> want(got.size());
            cpu::global_avg_pool(x.data(), s.n, s.c, s.h, s.w, want.data());
            if (with_bias) {
              for (size_t i = 0; i < want.size(); ++i) want[i] += bias[i % size_t(s.c)];
            }
            check_close(got, want, 1e-5, 1e-6, what);
          }
        }
      }
    }
  }
}

TEST_CASE("block tail in every storage type and activation, with optional biases and in place", "[kernels16][tail]") {
  const Shape4 shapes[] = {{3, 256, 10, 10}, {1, 64, 8, 8}, {1, 37, 9, 7}, {3, 6, 5, 5}, {3, 12, 3, 3}};
  for (ActType t : kTypes) {
    for (PointwiseAct a : kActs) {
      for (const Shape4& s : shapes) {
        for (TensorLayout l : kLayouts) {
          for (int variant = 0; variant < 3; ++variant) {
            // 0: both biases, separate output; 1: no biases, out = x; 2: shortcut bias only, a
            // misaligned output (scalar path).
            const bool xb_on = variant == 0, sb_on = variant != 1, in_place = variant == 1;
            const size_t offset = variant == 2 ? 1 : 0;
            const std::string what = describe(s, l, t) + " " + act_name(a) + (xb_on ? " +x_bias" : "") +
                                     (sb_on ? " +shortcut_bias" : "") + (in_place ? " out=x" : "") +
                                     (offset ? " misaligned out (scalar path)" : "");
            INFO(what);
            const size_t count = size_t(s.n) * s.c * s.h * s.w, hw = size_t(s.h) * s.w;
            const std::vector<float> x = rounded(t, random_floats(count, 501 + s.c));
            const std::vector<float> sc = rounded(t, random_floats(count, 502 + s.c));
            const std::vector<float> gate = random_floats(size_t(s.n) * s.c, 503 + s.c, 0.0f, 1.0f);
            const std::vector<float> xb = random_floats(size_t(s.c), 504 + s.c, -0.5f, 0.5f);
            const std::vector<float> sb = random_floats(size_t(s.c), 505 + s.c, -0.5f, 0.5f);
            StorageArray dx(t, to_layout(x, s, l)), dsc(t, to_layout(sc, s, l)), dout(t, count, offset);
            DeviceArray dg(gate), dxb(xb), dsb(sb);
            StorageArray& result = in_place ? dx : dout;
            kernels::launch_block_tail(dx.get(), xb_on ? dxb.get() : nullptr, dg.get(), dsc.get(), sb_on ? dsb.get() : nullptr,
                                       result.get(), t, s.n, s.c, int(hw), l, a, nullptr);
            const std::vector<float> got = from_layout(result.download(), s, l);
            CHECK(result.guard_intact());
            std::vector<float> xr(count), sr(count), want(count);
            for (size_t i = 0; i < count; ++i) {
              const size_t ch = (i / hw) % size_t(s.c);
              xr[i] = xb_on ? x[i] + xb[ch] : x[i];
              sr[i] = sb_on ? sc[i] + sb[ch] : sc[i];
            }
            cpu::excite_residual(xr.data(), gate.data(), sr.data(), s.n, s.c, int(hw), activation_of(a), want.data());
            want = rounded(t, want);
            if (t == ActType::kF32) {
              check_close(got, want, 1e-5, 1e-6, what);
            } else {
              check_close(got, want, storage_rtol(t), 1e-6, what);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("zero padding copies every storage type into zero borders", "[kernels16][zero_pad]") {
  struct Case {
    Shape4 s;
    int top, bottom, left, right;
  };
  // (0,1,0,1): Keras 'same' 3x3/2 on even sizes; (1,1,1,1): on odd sizes; uneven others.
  const Case cases[] = {{{2, 32, 16, 16}, 0, 1, 0, 1}, {{1, 3, 33, 33}, 1, 1, 1, 1}, {{3, 5, 6, 9}, 0, 2, 1, 0},
                        {{1, 8, 4, 6}, 2, 0, 0, 3}};
  for (ActType t : kTypes) {
    for (const Case& cs : cases) {
      for (TensorLayout l : kLayouts) {
        for (size_t offset : {size_t(0), size_t(1)}) {
          const Shape4& s = cs.s;
          const Shape4 so{s.n, s.c, s.h + cs.top + cs.bottom, s.w + cs.left + cs.right};
          const std::string what = describe(s, l, t) + " pad t" + std::to_string(cs.top) + " b" + std::to_string(cs.bottom) +
                                   " l" + std::to_string(cs.left) + " r" + std::to_string(cs.right) +
                                   (offset ? " misaligned (scalar path)" : "");
          INFO(what);
          const std::vector<float> x = rounded(t, random_floats(size_t(s.n) * s.c * s.h * s.w, 601 + s.h));
          StorageArray in(t, to_layout(x, s, l), offset);
          StorageArray out(t, size_t(so.n) * so.c * so.h * so.w, offset);
          kernels::launch_zero_pad(in.get(), out.get(), t, s.n, s.c, s.h, s.w, cs.top, cs.bottom, cs.left, cs.right, l,
                                   nullptr);
          const std::vector<float> got = from_layout(out.download(), so, l);
          CHECK(out.guard_intact());
          std::vector<float> want(got.size(), 0.0f);
          for (int b = 0; b < s.n; ++b)
            for (int c = 0; c < s.c; ++c)
              for (int y = 0; y < s.h; ++y)
                for (int x0 = 0; x0 < s.w; ++x0)
                  want[((size_t(b) * so.c + c) * so.h + y + cs.top) * so.w + x0 + cs.left] =
                      x[((size_t(b) * s.c + c) * s.h + y) * s.w + x0];
          check_exact(got, want, what);
        }
      }
    }
  }
}

TEST_CASE("Model Garden stride-2 convs: zero padding + an unpadded conv equals the CPU's Keras 'same' conv",
          "[kernels16][zero_pad][garden]") {
  // The padding amounts the CUDA engine derives from the network description (pad_top/pad_left
  // before, the rest of the Keras total after) reproduce the CPU engine's asymmetric convolution
  // exactly: the same im2col columns, hence the same GEMM. Few channels: the geometry is what counts.
  ModelConfig config = config_for_depth(50);
  config.variant = model_garden_variant();
  for (int size : {64, 65}) {
    const NetworkDesc net = describe_network(config, size, size + 1);
    std::vector<ConvShape> convs = {net.stem[0], net.stem[3]};
    for (const BlockShape& b : net.blocks) {
      if (b.stride == 2 && b.index == 0) convs.push_back(b.conv2);
    }
    REQUIRE(convs.size() == 5);
    for (const ConvShape& cs : convs) {
      REQUIRE(cs.stride == 2);
      const int pad_bottom = (cs.h_out - 1) * cs.stride + cs.kernel - cs.h_in - cs.pad_top;
      const int pad_right = (cs.w_out - 1) * cs.stride + cs.kernel - cs.w_in - cs.pad_left;
      for (ActType t : kTypes) {
        for (TensorLayout l : kLayouts) {
          const std::string what = cs.name + " at " + std::to_string(cs.h_in) + "x" + std::to_string(cs.w_in) + " pads t" +
                                   std::to_string(cs.pad_top) + " b" + std::to_string(pad_bottom) + " l" +
                                   std::to_string(cs.pad_left) + " r" + std::to_string(pad_right) + " " +
                                   kernels::act_type_name(t) + " " + kernels::tensor_layout_name(l);
          INFO(what);
          REQUIRE(pad_bottom >= 0);
          REQUIRE(pad_right >= 0);
          cpu::ConvParams asym;
          asym.n = 2;
          asym.cin = 4;
          asym.cout = 3;
          asym.h = cs.h_in;
          asym.w = cs.w_in;
          asym.kernel = cs.kernel;
          asym.stride = cs.stride;
          asym.pad = cs.pad;
          asym.pad_top = cs.pad_top;
          asym.pad_left = cs.pad_left;
          REQUIRE(asym.h_out() == cs.h_out);
          REQUIRE(asym.w_out() == cs.w_out);
          const Shape4 s{asym.n, asym.cin, asym.h, asym.w};
          const Shape4 sp{asym.n, asym.cin, asym.h + cs.pad_top + pad_bottom, asym.w + cs.pad_left + pad_right};
          const std::vector<float> x = rounded(t, random_floats(size_t(s.n) * s.c * s.h * s.w, 701 + cs.h_in));
          const std::vector<float> wts = random_floats(size_t(asym.cout) * asym.cin * cs.kernel * cs.kernel, 702);
          StorageArray in(t, to_layout(x, s, l));
          StorageArray out(t, size_t(sp.n) * sp.c * sp.h * sp.w);
          kernels::launch_zero_pad(in.get(), out.get(), t, s.n, s.c, s.h, s.w, cs.pad_top, pad_bottom, cs.pad_left,
                                   pad_right, l, nullptr);
          const std::vector<float> padded = from_layout(out.download(), sp, l);
          cpu::ConvParams plain = asym;
          plain.h = sp.h;
          plain.w = sp.w;
          plain.pad = 0;
          plain.pad_top = plain.pad_left = 0;
          REQUIRE(plain.h_out() == cs.h_out);
          REQUIRE(plain.w_out() == cs.w_out);
          const size_t out_count = size_t(asym.n) * asym.cout * cs.h_out * cs.w_out;
          std::vector<float> want(out_count), got(out_count);
          std::vector<float> ws(std::max(asym.workspace_floats(), plain.workspace_floats()));
          cpu::conv2d(asym, x.data(), wts.data(), nullptr, Activation::kNone, want.data(), ws.data());
          cpu::conv2d(plain, padded.data(), wts.data(), nullptr, Activation::kNone, got.data(), ws.data());
          check_exact(got, want, what);
        }
      }
    }
  }
}

TEST_CASE("16-bit launchers reject bad arguments", "[kernels16][errors]") {
  StorageArray a(ActType::kF16, 64), b(ActType::kF16, 64);
  DeviceArray bias(16);
  CHECK_THROWS_AS(kernels::launch_bias_act(nullptr, ActType::kF16, bias.get(), 1, 4, 4, TensorLayout::kNHWC,
                                           PointwiseAct::kSwish, nullptr),
                  Error);
  CHECK_THROWS_AS(kernels::launch_bias_relu(bias.get(), nullptr, 1, 4, 4, TensorLayout::kNHWC, nullptr), Error);
  CHECK_THROWS_AS(kernels::launch_bias_act(a.get(), ActType(7), bias.get(), 1, 4, 4, TensorLayout::kNHWC,
                                           PointwiseAct::kSwish, nullptr),
                  Error);
  CHECK_THROWS_AS(kernels::launch_bias_act(a.get(), ActType::kF16, bias.get(), 1, 4, 4, TensorLayout::kNHWC,
                                           PointwiseAct(9), nullptr),
                  Error);
  CHECK_THROWS_AS(kernels::launch_zero_pad(a.get(), b.get(), ActType::kF16, 1, 4, 2, 2, -1, 0, 0, 0, TensorLayout::kNCHW,
                                           nullptr),
                  Error);
  CHECK_THROWS_AS(kernels::launch_avg_pool_2x2_s1_same(a.get(), b.get(), ActType::kBF16, 1, 0, 4, 4, TensorLayout::kNHWC,
                                                       nullptr),
                  Error);
  CHECK_THROWS_AS(kernels::launch_convert_from_f32(nullptr, a.get(), ActType::kF16, 4, nullptr), Error);
}
