// The image functions of the C API: resnetrs_image_options_init_versioned, resnetrs_image_load_file
// and resnetrs_image_load_memory, over src/image/.
#include <cstring>
#include <string>
#include <vector>

#include "c_api_internal.h"
#include "c_api_options.h"
#include "image/image.h"

namespace resnetrs::capi {
namespace {

// The image options appeared in API version 2.
constexpr uint32_t kImageApiVersion = 2;

void check_image_options_abi(uint32_t api_version, size_t struct_size) {
  RESNETRS_CHECK_ARG(api_version >= kImageApiVersion && api_version <= RESNETRS_API_VERSION,
                     "header/library mismatch: image options from resnetrs API version " + std::to_string(api_version) +
                         ", this library implements the image functions of API versions " +
                         std::to_string(kImageApiVersion) + ".." + std::to_string(RESNETRS_API_VERSION) +
                         (api_version == 0 ? " (api_version 0: were the options set up with resnetrs_image_options_init()?)"
                                           : ""));
  RESNETRS_CHECK_ARG(struct_size == sizeof(resnetrs_image_options_t),
                     "image options struct_size is " + std::to_string(struct_size) + ", this library expects " +
                         std::to_string(sizeof(resnetrs_image_options_t)) +
                         " (initialise them with resnetrs_image_options_init(); header and library may disagree)");
}

image::ImageOptions to_image_options(const resnetrs_image_options_t* c) {
  RESNETRS_CHECK_ARG(c != nullptr,
                     "options must not be NULL (initialise a resnetrs_image_options_t with resnetrs_image_options_init())");
  check_image_options_abi(c->api_version, c->struct_size);
  RESNETRS_CHECK_ARG(c->preprocess == RESNETRS_PREPROCESS_RELEASE || c->preprocess == RESNETRS_PREPROCESS_TIMM,
                     "options->preprocess is " + std::to_string(c->preprocess) +
                         ", not one of RESNETRS_PREPROCESS_RELEASE (0), RESNETRS_PREPROCESS_TIMM (1)");
  RESNETRS_CHECK_ARG(c->height == c->width, "options height and width are " + std::to_string(c->height) + " and " +
                                                std::to_string(c->width) +
                                                "; both transforms produce a square image: set them equal");
  RESNETRS_CHECK_ARG(c->layout == RESNETRS_LAYOUT_NCHW || c->layout == RESNETRS_LAYOUT_NHWC,
                     "options->layout is " + std::to_string(c->layout) +
                         ", not one of RESNETRS_LAYOUT_NCHW (0), RESNETRS_LAYOUT_NHWC (1)");
  image::ImageOptions o;
  o.preprocess = c->preprocess == RESNETRS_PREPROCESS_TIMM ? image::Preprocess::kTimm : image::Preprocess::kRelease;
  o.size = c->height;
  o.crop_pct = double(c->crop_pct);
  o.layout = c->layout == RESNETRS_LAYOUT_NHWC ? Layout::kNHWC : Layout::kNCHW;
  o.max_pixels = c->max_pixels;
  image::validate_image_options(o);  // names the field; "size" is height == width
  return o;
}

void copy_out(const std::vector<float>& pixels, float* out) { std::memcpy(out, pixels.data(), pixels.size() * sizeof(float)); }

}  // namespace
}  // namespace resnetrs::capi

using namespace resnetrs;

resnetrs_status_t resnetrs_image_options_init_versioned(resnetrs_image_options_t* options, size_t struct_size,
                                                        uint32_t api_version) {
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(options != nullptr, "options must not be NULL");
    capi::check_image_options_abi(api_version, struct_size);
    const image::ImageOptions d;  // the C++ defaults are the single source of the C defaults
    resnetrs_image_options_t o{};
    o.struct_size = sizeof(resnetrs_image_options_t);
    o.api_version = api_version;
    o.preprocess = RESNETRS_PREPROCESS_RELEASE;
    o.height = o.width = d.size;
    o.crop_pct = float(d.crop_pct);
    o.layout = RESNETRS_LAYOUT_NCHW;
    o.max_pixels = d.max_pixels;
    *options = o;
  });
}

resnetrs_status_t resnetrs_image_load_file(const char* path, const resnetrs_image_options_t* options, float* out) {
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(path != nullptr && *path != '\0', "path must be a non-empty file name");
    RESNETRS_CHECK_ARG(out != nullptr, "out must not be NULL");
    const image::ImageOptions o = capi::to_image_options(options);
    capi::copy_out(image::load_image_file(path, o), out);  // out is written only on success
  });
}

resnetrs_status_t resnetrs_image_load_memory(const void* data, size_t size, const resnetrs_image_options_t* options,
                                             float* out) {
  return capi::guarded(__func__, [&] {
    RESNETRS_CHECK_ARG(data != nullptr, "data must not be NULL");
    RESNETRS_CHECK_ARG(out != nullptr, "out must not be NULL");
    const image::ImageOptions o = capi::to_image_options(options);
    const std::string name = "image in memory (" + std::to_string(size) + " bytes)";
    capi::copy_out(image::load_image(static_cast<const uint8_t*>(data), size, name, o), out);
  });
}
