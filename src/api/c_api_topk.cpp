// resnetrs_topk: the k best classes of each row of logits with their softmax probabilities.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "c_api_internal.h"

resnetrs_status_t resnetrs_topk(const float* logits, int32_t batch, int32_t classes, int32_t k, int32_t* out_indices,
                                float* out_probs) {
  using namespace resnetrs;
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(logits != nullptr, "logits must not be NULL");
    RESNETRS_CHECK_ARG(out_indices != nullptr, "out_indices must not be NULL (out_probs may be)");
    RESNETRS_CHECK_ARG(batch >= 1, "batch is " + std::to_string(batch) + ", expected at least 1");
    RESNETRS_CHECK_ARG(classes >= 1, "classes is " + std::to_string(classes) + ", expected at least 1");
    RESNETRS_CHECK_ARG(k >= 1 && k <= classes,
                       "k is " + std::to_string(k) + ", expected 1.." + std::to_string(classes) + " (classes)");
    std::vector<int32_t> order(static_cast<size_t>(classes));
    for (int32_t r = 0; r < batch; ++r) {
      const float* row = logits + size_t(r) * size_t(classes);
      float max_logit = row[0];
      for (int32_t c = 0; c < classes; ++c) {
        RESNETRS_CHECK_ARG(std::isfinite(row[c]), "logit [" + std::to_string(r) + ", " + std::to_string(c) +
                                                      "] is not finite (" + std::to_string(row[c]) + ")");
        max_logit = std::max(max_logit, row[c]);
      }
      std::iota(order.begin(), order.end(), 0);
      // Best first; equal logits keep the lower class index first, so the result is deterministic.
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [row](int32_t a, int32_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      double denom = 0;  // softmax with the max subtracted: exp never overflows
      for (int32_t c = 0; c < classes; ++c) denom += std::exp(double(row[c]) - double(max_logit));
      for (int32_t i = 0; i < k; ++i) {
        const int32_t c = order[size_t(i)];
        out_indices[size_t(r) * size_t(k) + size_t(i)] = c;
        if (out_probs) out_probs[size_t(r) * size_t(k) + size_t(i)] = float(std::exp(double(row[c]) - double(max_logit)) / denom);
      }
    }
  });
}
