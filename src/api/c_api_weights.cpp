// resnetrs_weights_read_info: what a weights file says about itself, without building an engine.
#include <cstring>
#include <string>

#include "c_api_internal.h"
#include "common/utf8_text.h"
#include "io/weights_file.h"

namespace resnetrs::capi {
namespace {

// The borrowed strings of the last successful call on this thread (resnetrs.h promises them
// until the next call of resnetrs_weights_read_info on the same thread).
struct InfoStrings {
  std::string source, converter_version, checksum;
};
thread_local InfoStrings t_info_strings;

}  // namespace
}  // namespace resnetrs::capi

using namespace resnetrs;

resnetrs_status_t resnetrs_weights_read_info(const char* path, resnetrs_weights_info_t* info) {
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(info != nullptr, "info must not be NULL");
    RESNETRS_CHECK_ARG(info->struct_size == sizeof(resnetrs_weights_info_t),
                       "info->struct_size is " + std::to_string(info->struct_size) + ", this library expects " +
                           std::to_string(sizeof(resnetrs_weights_info_t)) + " (set it to sizeof(resnetrs_weights_info_t))");
    RESNETRS_CHECK_ARG(path != nullptr && *path != '\0', "path must be a non-empty file name");
    const WeightsInfo w = read_weights_info(path);
    // The reader accepts UTF-8 strings only; valid_utf8 keeps the promise whatever a parse returned.
    capi::InfoStrings strings{valid_utf8(w.attrs.source), valid_utf8(w.attrs.converter_version), valid_utf8(w.attrs.checksum)};
    resnetrs_weights_info_t out{};
    out.struct_size = sizeof(out);
    out.format_version = w.attrs.format_version;
    out.format_minor = w.attrs.format_minor;
    out.depth = w.config.depth;
    for (int i = 0; i < 4; ++i) out.blocks_per_stage[i] = w.config.blocks[size_t(i)];
    out.num_classes = w.config.num_classes;
    out.train_resolution = w.attrs.train_resolution;
    out.bn_epsilon = w.attrs.bn_epsilon;
    for (int i = 0; i < 3; ++i) {
      out.input_mean[i] = w.attrs.input_mean[size_t(i)];
      out.input_std[i] = w.attrs.input_std[size_t(i)];
    }
    out.activation = activation_name(w.config.variant.activation);
    out.stride2_padding = stride2_padding_name(w.config.variant.stride2_padding);
    out.stage1_shortcut_pool = stage1_shortcut_pool_name(w.config.variant.stage1_shortcut_pool);
    capi::t_info_strings = std::move(strings);  // nothing below can fail: the old strings stay valid until here
    out.source = capi::t_info_strings.source.c_str();
    out.converter_version = capi::t_info_strings.converter_version.c_str();
    out.checksum = capi::t_info_strings.checksum.c_str();
    *info = out;
  });
}
