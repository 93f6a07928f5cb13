// resnetrs._core.load_image: decoding and the evaluation preprocessing of the C API (images in the
// C API, "interface B": resnetrs_image_load_file / _load_memory). Bound only when the header has
// them; without them the package says so when an image is loaded (resnetrs/images.py).
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/variant.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <variant>

#include "bindings.h"
#include "input_checks.h"

namespace resnetrs_py {

#ifdef resnetrs_image_options_init
namespace {

using Size = std::variant<int, std::tuple<int, int>>;
// bytes first: a bytes object would also convert to a path (os.fspath accepts bytes).
using Source = std::variant<nb::bytes, std::filesystem::path>;

// The C options of a load: `preprocess`, `crop_pct`, `layout` and `max_pixels` from Python; the
// caller sets the size.
resnetrs_image_options_t image_options(const std::string& preprocess, std::optional<float> crop_pct,
                                       const std::string& layout, std::optional<int64_t> max_pixels) {
  resnetrs_image_options_t o;
  check(resnetrs_image_options_init(&o));
  if (preprocess == "release") {
    o.preprocess = RESNETRS_PREPROCESS_RELEASE;
  } else if (preprocess == "timm") {
    o.preprocess = RESNETRS_PREPROCESS_TIMM;
  } else {
    raise_invalid("preprocess='" + preprocess + "': expected 'release' or 'timm'");
  }
  if (crop_pct) {
    if (preprocess != "timm") raise_invalid("crop_pct applies to preprocess='timm' only");
    o.crop_pct = *crop_pct;
  }
  if (layout == "nchw") {
    o.layout = RESNETRS_LAYOUT_NCHW;
  } else if (layout == "nhwc") {
    o.layout = RESNETRS_LAYOUT_NHWC;
  } else {
    raise_invalid("layout='" + layout + "': expected 'nchw' or 'nhwc'");
  }
  if (max_pixels) o.max_pixels = *max_pixels;
  return o;
}

// Decodes `source` into `out` (3 * height * width floats) without the GIL; raises on failure
// (the C API writes `out` only when it succeeds).
void decode_into(const Source& source, const resnetrs_image_options_t& o, float* out) {
  resnetrs_status_t status;
  std::string message;
  if (const auto* path = std::get_if<std::filesystem::path>(&source)) {
    const std::string p = path->string();
    nb::gil_scoped_release no_gil;
    status = resnetrs_image_load_file(p.c_str(), &o, out);
    if (status != RESNETRS_STATUS_OK) message = resnetrs_last_error();
  } else {
    const nb::bytes& b = std::get<nb::bytes>(source);  // immutable: safe to read without the GIL
    nb::gil_scoped_release no_gil;
    status = resnetrs_image_load_memory(b.c_str(), b.size(), &o, out);
    if (status != RESNETRS_STATUS_OK) message = resnetrs_last_error();
  }
  if (status != RESNETRS_STATUS_OK) raise_status(status, message);
}

nb::ndarray<nb::numpy, float, nb::ndim<3>> load_image(const Source& source, const Size& size, const std::string& preprocess,
                                                       std::optional<float> crop_pct, const std::string& layout,
                                                       std::optional<int64_t> max_pixels) {
  resnetrs_image_options_t o = image_options(preprocess, crop_pct, layout, max_pixels);
  if (const int* s = std::get_if<int>(&size)) {
    o.height = o.width = *s;
  } else {
    std::tie(o.height, o.width) = std::get<std::tuple<int, int>>(size);
  }
  if (o.height < 1 || o.width < 1) {
    raise_invalid("size is " + std::to_string(o.height) + "x" + std::to_string(o.width) + ", expected positive sizes");
  }
  const size_t h = size_t(o.height), w = size_t(o.width);
  auto out = std::make_unique<float[]>(3 * h * w);
  decode_into(source, o, out.get());
  float* data = out.release();
  nb::capsule owner(data, [](void* p) noexcept { delete[] static_cast<float*>(p); });
  if (o.layout == RESNETRS_LAYOUT_NHWC) return nb::ndarray<nb::numpy, float, nb::ndim<3>>(data, {h, w, 3}, owner);
  return nb::ndarray<nb::numpy, float, nb::ndim<3>>(data, {3, h, w}, owner);
}

// The same, written into the caller's array (e.g. one row of a batch that decoding threads fill):
// float32, C-contiguous, writable host memory of shape [3, H, W] ('nchw') or [H, W, 3] ('nhwc').
void load_image_into(const Source& source, nb::handle out, const std::string& preprocess, std::optional<float> crop_pct,
                     const std::string& layout, std::optional<int64_t> max_pixels) {
  resnetrs_image_options_t o = image_options(preprocess, crop_pct, layout, max_pixels);
  nb::ndarray<> a;
  if (!nb::try_cast(out, a, /*convert=*/false)) {
    AnyArray read_only;
    if (nb::try_cast(out, read_only, /*convert=*/false)) raise_invalid("out is read-only; expected a writable array");
    raise_invalid(std::string("out must be a writable array (numpy, or any object with __dlpack__ or the buffer "
                              "protocol); got ") + nb::type_name(out.type()).c_str());
  }
  require_host_float32_contiguous(AnyArray(a), "out");
  const bool nhwc = o.layout == RESNETRS_LAYOUT_NHWC;
  const bool shape_ok = a.ndim() == 3 && (nhwc ? a.shape(2) == 3 : a.shape(0) == 3);
  if (!shape_ok) {
    raise_invalid("out has shape " + shape_string(AnyArray(a)) + ", expected " +
                  (nhwc ? "[H, W, 3] (layout 'nhwc')" : "[3, H, W] (layout 'nchw')"));
  }
  const size_t h = nhwc ? a.shape(0) : a.shape(1), w = nhwc ? a.shape(1) : a.shape(2);
  if (h > size_t(INT32_MAX) || w > size_t(INT32_MAX)) {
    raise_invalid("out has shape " + shape_string(AnyArray(a)) + ": too large");
  }
  o.height = int32_t(h);
  o.width = int32_t(w);
  decode_into(source, o, static_cast<float*>(a.data()));  // `a` keeps the array alive meanwhile
}

}  // namespace

void bind_images(nb::module_& m) {
  m.def("load_image", &load_image, nb::arg("source"), nb::arg("size") = 224, nb::arg("preprocess") = "release",
        nb::arg("crop_pct") = nb::none(), nb::arg("layout") = "nchw", nb::arg("max_pixels") = nb::none(),
        nb::sig("def load_image(source: str | os.PathLike | bytes, size: int | tuple[int, int] = 224, "
                "preprocess: str = 'release', crop_pct: float | None = None, layout: str = 'nchw', "
                "max_pixels: int | None = None) -> numpy.typing.NDArray[numpy.float32]"),
        "Decodes a JPEG or PNG (a file path, or the file's bytes) and applies the evaluation preprocessing:\n"
        "'release' (the TF1 release: center crop, legacy bicubic) or 'timm'. Returns float32 pixels on the\n"
        "0..255 scale, [3, H, W] ('nchw') or [H, W, 3] ('nhwc'). The GIL is released while it decodes.");
  m.def("load_image_into", &load_image_into, nb::arg("source"), nb::arg("out"), nb::arg("preprocess") = "release",
        nb::arg("crop_pct") = nb::none(), nb::arg("layout") = "nchw", nb::arg("max_pixels") = nb::none(),
        nb::sig("def load_image_into(source: str | os.PathLike | bytes, out: numpy.typing.NDArray[numpy.float32], "
                "preprocess: str = 'release', crop_pct: float | None = None, layout: str = 'nchw', "
                "max_pixels: int | None = None) -> None"),
        "load_image written into `out`, a writable float32 C-contiguous host array [3, H, W] ('nchw') or\n"
        "[H, W, 3] ('nhwc') whose H and W are the size (e.g. one row of a batch). `out` is written only when\n"
        "the image loads. The GIL is released while it decodes, so threads decode in parallel.");
  m.attr("HAS_IMAGES") = true;
}

#else

void bind_images(nb::module_& m) { m.attr("HAS_IMAGES") = false; }

#endif

}  // namespace resnetrs_py
