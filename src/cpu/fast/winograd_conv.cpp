#include "cpu/fast/winograd_conv.h"

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "common/error.h"

namespace resnetrs::cpu::fast {

const char* winograd_tile_name(WinogradTile t) { return t == WinogradTile::kF2x2 ? "F(2x2,3x3)" : "F(4x4,3x3)"; }

const WinogradKernels& winograd_kernels(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kGeneric: return generic::winograd_kernels();
    case CpuIsa::kAvx2:
    case CpuIsa::kAvx512: return avx2::winograd_kernels();
    case CpuIsa::kAuto: break;
  }
  throw_error(Status::kInvalidArgument, "winograd_kernels needs a resolved instruction set, not auto");
}

namespace {

// The weight transforms G (alpha x 3): F(2x2,3x3) at the points 0, 1, -1 (and infinity);
// F(4x4,3x3) at 0, 1, -1, 2, -2 (and infinity). Applied in double, rounded once to float.
constexpr double kG2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
constexpr double kG4[6][3] = {{1.0 / 4, 0, 0},
                              {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                              {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                              {1.0 / 24, 1.0 / 12, 1.0 / 6},
                              {1.0 / 24, -1.0 / 12, 1.0 / 6},
                              {0, 0, 1}};

// Tiles per block: up to 128, fewer where the block's scratch (alpha^2 x tiles x (cin + cout)
// floats) would pass 8 MiB. Big blocks win although they spill the L2: every block streams all of
// the transformed weights (alpha^2 x cin x cout floats, 9.4 MiB for F(4x4) 256 -> 256) through the
// GEMMs, and oneDNN's sgemm packs them per call, which only pays off over many rows. Measured on
// RS-50@160's layers at batch 8 (one thread, CPU time): 64-128 tiles were 1.2-2x faster than 16.
constexpr int kBlockBudgetFloats = 1 << 21;
constexpr int kMinBlockTiles = 16, kMaxBlockTiles = 128;

}  // namespace

WinogradConv3x3::WinogradConv3x3(WinogradTile tile, CpuIsa isa, int cin, int cout, int h, int w, int max_batch,
                                 const float* weight, const float* bias, IsaAct act)
    : tile_(tile), kernels_(&winograd_kernels(isa)), cin_(cin), cout_(cout), h_(h), w_(w), max_batch_(max_batch),
      act_(act) {
  RESNETRS_CHECK_ARG(tile == WinogradTile::kF2x2 || tile == WinogradTile::kF4x4, "WinogradConv3x3: unknown tile");
  RESNETRS_CHECK_ARG(cin >= 1 && cout >= 1 && h >= 1 && w >= 1 && max_batch >= 1,
                     "WinogradConv3x3: cin, cout, h, w and max_batch must be >= 1, got cin " + std::to_string(cin) +
                         ", cout " + std::to_string(cout) + ", " + std::to_string(h) + "x" + std::to_string(w) +
                         ", max_batch " + std::to_string(max_batch));
  RESNETRS_CHECK_ARG(weight != nullptr, "WinogradConv3x3: weight is null");
  RESNETRS_CHECK_ARG(act == IsaAct::kNone || act == IsaAct::kRelu || act == IsaAct::kSwish,
                     "WinogradConv3x3: unknown activation");
  m_ = int(tile);
  alpha_ = m_ + 2;
  tiles_y_ = (h + m_ - 1) / m_;
  tiles_x_ = (w + m_ - 1) / m_;
  const int a2 = alpha_ * alpha_;
  max_tiles_ = std::clamp(kBlockBudgetFloats / (a2 * (cin + cout)), kMinBlockTiles, kMaxBlockTiles);

  // U[e][ci][co] = (G g G^T)[e] of the 3x3 kernel g = weight[co][ci], in double.
  u_ = HostBuffer(size_t(a2) * cin * cout * sizeof(float));  // zero-filled
  const double* g_rows = tile == WinogradTile::kF2x2 ? &kG2[0][0] : &kG4[0][0];
  // ci outer, co inner: the writes run along contiguous co in each of the alpha^2 planes.
  for (int ci = 0; ci < cin; ++ci) {
    for (int co = 0; co < cout; ++co) {
      const float* g = weight + (size_t(co) * cin + ci) * 9;
      double gg[6][3];  // G g
      for (int i = 0; i < alpha_; ++i) {
        for (int b = 0; b < 3; ++b) {
          double s = 0;
          for (int a = 0; a < 3; ++a) s += g_rows[i * 3 + a] * double(g[a * 3 + b]);
          gg[i][b] = s;
        }
      }
      for (int i = 0; i < alpha_; ++i) {
        for (int j = 0; j < alpha_; ++j) {
          double s = 0;
          for (int b = 0; b < 3; ++b) s += gg[i][b] * g_rows[j * 3 + b];
          u_.floats()[(size_t(i * alpha_ + j) * cin + ci) * cout + co] = float(s);
        }
      }
    }
  }
  if (bias) bias_.assign(bias, bias + cout);
}

WinogradConv3x3::Blocks WinogradConv3x3::blocks(int batch) const {
  Blocks b;
  b.tiles = batch * tiles_y_ * tiles_x_;
  b.count = (b.tiles + max_tiles_ - 1) / max_tiles_;
  return b;
}

int WinogradConv3x3::block_tiles(int batch) const {
  const Blocks b = blocks(batch);
  return (b.tiles + b.count - 1) / b.count;
}

namespace {
// The distance between two points' matrices in a block's scratch: rows x cols floats rounded up to
// a cache line, plus one line, so that the alpha^2 rows a transform reads or writes at once do not
// all fall into the same L1 set (a stride that is a multiple of 4 KiB would).
size_t point_stride(int rows, int cols) { return (size_t(rows) * cols + 15) / 16 * 16 + 16; }
}  // namespace

size_t WinogradConv3x3::block_floats() const {
  return size_t(alpha_) * alpha_ * (point_stride(max_tiles_, cin_) + point_stride(max_tiles_, cout_));
}

size_t WinogradConv3x3::workspace_floats(int max_threads) const {
  RESNETRS_CHECK_ARG(max_threads >= 1, "WinogradConv3x3::workspace_floats: max_threads must be >= 1");
  return size_t(max_threads) * block_floats();
}

// One block's work, tiles [first, last) of the batch, in three phases over a block scratch ws
// (V then M): phase 0 the input transform of tiles [e_begin, e_end) of the block (indices within
// the block), phase 1 the GEMMs of points [e_begin, e_end), phase 2 the output transform of the
// block's tiles [e_begin, e_end). A thread that owns a block runs all three over the full ranges;
// threads sharing a block split each phase's range.
void WinogradConv3x3::run_block(const float* in, int first, int last, float* out, float* ws, int e_begin, int e_end,
                                int phase) const {
  const int nb = last - first;
  const int per_image = tiles_y_ * tiles_x_;
  float* v = ws;
  const size_t v_stride = point_stride(nb, cin_), m_stride = point_stride(nb, cout_);
  float* mm = ws + size_t(alpha_) * alpha_ * v_stride;
  if (phase == 0 || phase == 2) {
    for (int i = e_begin; i < e_end; ++i) {
      const int t = first + i;
      const int img = t / per_image, r = t % per_image;
      const int y0 = (r / tiles_x_) * m_, x0 = (r % tiles_x_) * m_;
      if (phase == 0) {
        const float* src = in + size_t(img) * h_ * w_ * cin_;
        if (m_ == 2) kernels_->input_f2(src, h_, w_, cin_, y0 - 1, x0 - 1, v + size_t(i) * cin_, v_stride);
        else kernels_->input_f4(src, h_, w_, cin_, y0 - 1, x0 - 1, v + size_t(i) * cin_, v_stride);
      } else {
        float* dst = out + size_t(img) * h_ * w_ * cout_;
        const float* b = bias_.empty() ? nullptr : bias_.data();
        if (m_ == 2) kernels_->output_f2(mm + size_t(i) * cout_, m_stride, cout_, b, act_, dst, h_, w_, y0, x0);
        else kernels_->output_f4(mm + size_t(i) * cout_, m_stride, cout_, b, act_, dst, h_, w_, y0, x0);
      }
    }
    return;
  }
  // The GEMMs: oneDNN's dnnl_sgemm, single-threaded here (the caller set this thread's OpenMP
  // thread limit to 1, so it neither nests a team nor splits the sum). Measured on the 2-core
  // AVX-512 development machine against OpenBLAS's cblas_sgemm on the block shapes
  // ([8..128 x 64..512] x [64..512 x 64..512], one thread): oneDNN was as fast or up to 1.7x faster
  // (the difference grows with the channels), and Debian's OpenBLAS is the pthreads build, which
  // does not know it runs inside an OpenMP team.
  for (int e = e_begin; e < e_end; ++e) {
    const dnnl_status_t st =
        dnnl_sgemm('N', 'N', nb, cout_, cin_, 1.0f, v + size_t(e) * v_stride, cin_, u_.floats() + size_t(e) * cin_ * cout_,
                   cout_, 0.0f, mm + size_t(e) * m_stride, cout_);
    if (st != dnnl_success) throw_error(Status::kInternal, "WinogradConv3x3: dnnl_sgemm failed (status " +
                                                              std::to_string(int(st)) + ")");
  }
}

void WinogradConv3x3::run(const float* in, int batch, float* out, float* workspace, int threads) const {
  RESNETRS_CHECK_ARG(batch >= 1 && batch <= max_batch_, "WinogradConv3x3::run: batch " + std::to_string(batch) +
                                                            " outside 1.." + std::to_string(max_batch_));
  RESNETRS_CHECK_ARG(threads >= 1, "WinogradConv3x3::run: threads must be >= 1");
  RESNETRS_CHECK_ARG(in && out && workspace, "WinogradConv3x3::run: null input, output or workspace");
  const Blocks bl = blocks(batch);
  const int a2 = alpha_ * alpha_;
  const size_t per_block = block_floats();
  auto block_begin = [&](int b) { return int(int64_t(b) * bl.tiles / bl.count); };
  // Exceptions must not leave an OpenMP region: the first message is kept and thrown after it.
  std::atomic<bool> failed{false};
  std::string failure;
  auto guarded = [&](auto&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      if (!failed.exchange(true)) failure = e.what();
    }
  };
  // Enough blocks for every thread: each thread owns whole blocks (its scratch stays in its L2).
  // Otherwise all threads share each block in turn, phase by phase. Both run the same operations
  // on each output, so the choice does not change the result.
  const bool own_blocks = threads == 1 || bl.count >= 2 * threads || bl.count % threads == 0;
  if (own_blocks) {
    const int team = std::min(threads, bl.count);
#pragma omp parallel num_threads(team)
    {
      omp_set_num_threads(1);  // this thread's GEMMs run single-threaded
      float* ws = workspace + size_t(omp_get_thread_num()) * per_block;
#pragma omp for schedule(static)
      for (int b = 0; b < bl.count; ++b) {
        const int first = block_begin(b), last = block_begin(b + 1);
        guarded([&] {
          run_block(in, first, last, out, ws, 0, last - first, 0);
          run_block(in, first, last, out, ws, 0, a2, 1);
          run_block(in, first, last, out, ws, 0, last - first, 2);
        });
      }
    }
  } else {
#pragma omp parallel num_threads(threads)
    {
      omp_set_num_threads(1);
      const int tid = omp_get_thread_num(), team = omp_get_num_threads();
      for (int b = 0; b < bl.count; ++b) {
        const int first = block_begin(b), last = block_begin(b + 1), nb = last - first;
        auto part = [&](int n, int k) { return int(int64_t(k) * n / team); };
        guarded([&] { run_block(in, first, last, out, workspace, part(nb, tid), part(nb, tid + 1), 0); });
#pragma omp barrier
        guarded([&] { run_block(in, first, last, out, workspace, part(a2, tid), part(a2, tid + 1), 1); });
#pragma omp barrier
        guarded([&] { run_block(in, first, last, out, workspace, part(nb, tid), part(nb, tid + 1), 2); });
#pragma omp barrier
      }
    }
  }
  if (failed) throw_error(Status::kInternal, failure);
}

}  // namespace resnetrs::cpu::fast
