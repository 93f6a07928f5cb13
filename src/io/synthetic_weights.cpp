// Deterministic synthetic weights with the scales of a trained ResNet-RS, so activations neither
// vanish nor explode through 420 layers (checked by a test at RS-420):
//   conv kernels  He-normal, std = sqrt(2 / fan_in)
//   BN gamma      U(0.6, 1.0); the block's last BN (bn3) U(0.1, 0.3), as trained residual nets
//                 keep the residual branch small relative to the shortcut
//   BN beta       N(0, 0.02); moving_mean N(0, 0.02); moving_variance U(0.5, 1.5) (always > 0)
//   SE kernels    He-normal; SE biases N(0, 0.1)
//   dense         N(0, 0.01) kernel (the TF initializer), N(0, 0.01) bias
// Larger BN shifts (means and betas that do not match the activations' real statistics) add an
// input-independent component that grows with depth until every image gets the same logits;
// with these scales RS-420's logits still vary with the image (checked by a unit test).
// Each tensor is drawn from its own stream seeded by (seed, path), so values do not depend on
// the order tensors are generated in.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "io/weights_file.h"
#include "io/weights_schema.h"

namespace resnetrs {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Portable generator (std::normal_distribution is implementation-defined).
class Rng {
 public:
  explicit Rng(uint64_t seed) : m_state(seed) {}
  double uniform() { return (splitmix64(m_state) >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Box-Muller; each draw yields two normals, the second is kept for the next call.
  double normal() {
    if (m_has_spare) {
      m_has_spare = false;
      return m_spare;
    }
    const double u1 = 1.0 - uniform(), u2 = uniform();  // u1 in (0, 1]
    const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 6.283185307179586 * u2;
    m_spare = radius * std::sin(angle);
    m_has_spare = true;
    return radius * std::cos(angle);
  }

 private:
  uint64_t m_state;
  double m_spare = 0.0;
  bool m_has_spare = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void fill_tensor(const TensorSlot& s, uint64_t seed) {
  Rng rng(seed ^ fnv1a(s.path));
  std::vector<float>& v = *s.data;
  v.resize(static_cast<size_t>(s.count()));
  const bool last_bn = ends_with(s.path, "/conv3/bn/gamma");
  for (float& x : v) {
    double value = 0.0;
    switch (s.role) {
      case TensorRole::kConvKernel:
      case TensorRole::kSeKernel: value = rng.normal() * std::sqrt(2.0 / double(s.fan_in)); break;
      case TensorRole::kBnGamma: value = last_bn ? rng.uniform(0.1, 0.3) : rng.uniform(0.6, 1.0); break;
      case TensorRole::kBnBeta: value = 0.02 * rng.normal(); break;
      case TensorRole::kBnMean: value = 0.02 * rng.normal(); break;
      case TensorRole::kBnVariance: value = rng.uniform(0.5, 1.5); break;
      case TensorRole::kSeBias: value = 0.1 * rng.normal(); break;
      case TensorRole::kDenseKernel: value = 0.01 * rng.normal(); break;
      case TensorRole::kDenseBias: value = 0.01 * rng.normal(); break;
    }
    x = static_cast<float>(value);
  }
}

}  // namespace

RawWeights synthetic_weights(int depth, uint64_t seed, int num_classes) {
  RawWeights w;
  w.config = config_for_depth(depth, num_classes);
  w.attrs.depth = depth;
  w.attrs.num_classes = num_classes;
  w.attrs.bn_epsilon = 1.001e-5;
  w.attrs.train_resolution = 0;
  w.attrs.source = "synthetic:seed=" + std::to_string(seed);
  w.attrs.converter_version = "resnetrs-synthetic 1";

  // Tensors are independent streams, so they can be filled in parallel (RS-420 holds 192M values).
  const std::vector<TensorSlot> slots = weight_slots(w);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < slots.size(); i = next++) fill_tensor(slots[i], seed);
  };
  const unsigned threads = std::max(1u, std::min(16u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return w;
}

}  // namespace resnetrs
