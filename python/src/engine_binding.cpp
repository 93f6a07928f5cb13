// resnetrs._core.Engine: one resnetrs_engine_t, its options parsed from Python values, runs on
// host arrays with the GIL released, and (RESNETRS_UNVERIFIED_GPU builds) on CUDA DLPack tensors
// of the engine's GPU through resnetrs_engine_run_device on the producer's stream.
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/variant.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <variant>

#include "bindings.h"
#include "device_memory.h"
#include "device_policy.h"
#include "input_checks.h"

namespace resnetrs_py {
namespace {

using Resolution = std::variant<int, std::tuple<int, int>>;

// What a Python caller asked for, before it becomes a resnetrs_options_t.
struct EngineArgs {
  std::string backend = "auto";
  std::string precision = "fp32";
  int max_batch = 1;
  Resolution resolution = 224;
  std::string layout = "nchw";
  bool cuda_graph = true;
  std::optional<std::filesystem::path> tuning_cache;
  int device = 0;
  int threads = 0;  // CPU backend: 0 = the cores this process may run on
  std::string winograd = "auto";
};

// Python's view of resnetrs_engine_info_t.
struct EngineInfo {
  int depth = 0, num_classes = 0, channels = 0, height = 0, width = 0, max_batch = 0, device = -1;
  std::string layout, backend, precision;
  bool cuda_graph = false;
  int64_t trainable_params = 0, macs_per_image = 0;
  size_t device_bytes = 0;
  double load_ms = 0, build_ms = 0, tune_ms = 0;
  int train_resolution = 0;
  int cpu_threads = 0;
};

const char* precision_name(int32_t p) {
  switch (p) {
    case RESNETRS_PRECISION_FP32: return "fp32";
    case RESNETRS_PRECISION_TF32: return "tf32";
    case RESNETRS_PRECISION_FP16: return "fp16";
    case RESNETRS_PRECISION_BF16: return "bf16";
    case RESNETRS_PRECISION_FP32X3: return "fp32x3";
    default: return "unknown";
  }
}

EngineInfo to_python_info(const resnetrs_engine_info_t& c) {
  EngineInfo i;
  i.depth = c.depth;
  i.num_classes = c.num_classes;
  i.channels = c.channels;
  i.height = c.height;
  i.width = c.width;
  i.max_batch = c.max_batch;
  i.device = c.device;
  i.layout = c.input_layout == RESNETRS_LAYOUT_NHWC ? "nhwc" : "nchw";
  i.backend = c.backend == RESNETRS_BACKEND_CPU ? "cpu" : "cuda";
  i.precision = precision_name(c.precision);
  i.cuda_graph = c.cuda_graph != 0;
  i.trainable_params = c.trainable_params;
  i.macs_per_image = c.macs_per_image;
  i.device_bytes = c.device_bytes;
  i.load_ms = c.load_ms;
  i.build_ms = c.build_ms;
  i.tune_ms = c.tune_ms;
#ifdef resnetrs_image_options_init
  // Interface B (images in the C API) appends train_resolution to the info struct.
  i.train_resolution = c.train_resolution;
#endif
  i.cpu_threads = c.cpu_threads;
  return i;
}

// Options from Python values; resnetrs_options_t keeps a pointer into `tuning_cache_storage`.
resnetrs_options_t to_c_options(const EngineArgs& a, std::string& tuning_cache_storage) {
  resnetrs_options_t o;
  check(resnetrs_options_init(&o));
  if (a.precision == "fp32") {
    o.precision = RESNETRS_PRECISION_FP32;
  } else if (a.precision == "tf32") {
    o.precision = RESNETRS_PRECISION_TF32;
  } else if (a.precision == "fp16") {  // fp16, bf16, fp32x3: CUDA, and only in a RESNETRS_UNVERIFIED_GPU build
    o.precision = RESNETRS_PRECISION_FP16;
  } else if (a.precision == "bf16") {
    o.precision = RESNETRS_PRECISION_BF16;
  } else if (a.precision == "fp32x3") {
    o.precision = RESNETRS_PRECISION_FP32X3;
  } else {
    raise_invalid("precision='" + a.precision + "': expected 'fp32', 'tf32', 'fp16', 'bf16' or 'fp32x3'");
  }
  if (a.layout == "nchw") {
    o.input_layout = RESNETRS_LAYOUT_NCHW;
  } else if (a.layout == "nhwc") {
    o.input_layout = RESNETRS_LAYOUT_NHWC;
  } else {
    raise_invalid("layout='" + a.layout + "': expected 'nchw' or 'nhwc'");
  }
  if (a.backend != "auto" && a.backend != "cuda" && a.backend != "cpu") {
    raise_invalid("backend='" + a.backend + "': expected 'auto', 'cuda' or 'cpu'");
  }
  o.backend = a.backend == "cpu" ? RESNETRS_BACKEND_CPU : RESNETRS_BACKEND_CUDA;
  o.max_batch = a.max_batch;
  if (const int* s = std::get_if<int>(&a.resolution)) {
    o.height = o.width = *s;
  } else {
    std::tie(o.height, o.width) = std::get<std::tuple<int, int>>(a.resolution);
  }
  o.cuda_graph = a.cuda_graph ? 1 : 0;
  o.device = a.device;
  o.cpu_threads = a.threads;
  if (a.winograd == "auto") {
    o.cpu_winograd = RESNETRS_CPU_WINOGRAD_AUTO;
  } else if (a.winograd == "off") {
    o.cpu_winograd = RESNETRS_CPU_WINOGRAD_OFF;
  } else if (a.winograd == "fast") {
    o.cpu_winograd = RESNETRS_CPU_WINOGRAD_FAST;
  } else {
    raise_invalid("winograd='" + a.winograd + "': expected 'auto', 'off' or 'fast'");
  }
  if (a.tuning_cache) {
    tuning_cache_storage = a.tuning_cache->string();
    o.tuning_cache_path = tuning_cache_storage.c_str();
  }
  return o;
}

class Engine {
 public:
  // weights: a file path, or nullopt for synthetic weights of `depth` and `seed`.
  Engine(const std::optional<std::filesystem::path>& weights, int depth, uint64_t seed, const EngineArgs& args) {
    std::string tuning_cache;
    resnetrs_options_t options = to_c_options(args, tuning_cache);
    const std::string path = weights ? weights->string() : std::string();
    resnetrs_status_t status = RESNETRS_STATUS_OK;
    std::string message;
    {
      nb::gil_scoped_release no_gil;  // reading and folding the weights takes seconds
      auto create = [&] {
        status = weights ? resnetrs_engine_create_from_file(path.c_str(), &options, &engine_)
                         : resnetrs_engine_create_synthetic(depth, seed, &options, &engine_);
      };
      create();
      // "auto": the CUDA backend when a device exists and runs these weights, else the CPU
      // (device_policy.h says when; the C API's status and message tell).
      if (status != RESNETRS_STATUS_OK && args.backend == "auto" &&
          auto_falls_back_to_cpu(status, resnetrs_last_error())) {
        resnetrs_engine_destroy(engine_);
        engine_ = nullptr;
        options.backend = RESNETRS_BACKEND_CPU;
        create();
      }
      if (status == RESNETRS_STATUS_OK) {
        info_.struct_size = sizeof(info_);
        status = resnetrs_engine_get_info(engine_, &info_);
      }
      if (status != RESNETRS_STATUS_OK) message = resnetrs_last_error();
    }
    if (status != RESNETRS_STATUS_OK) {
      resnetrs_engine_destroy(engine_);
      engine_ = nullptr;
      raise_status(status, message);
    }
  }

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine() { resnetrs_engine_destroy(engine_); }

  // engine(x, stream=None): host pixels give a new numpy array of logits; a CUDA tensor of the
  // engine's GPU gives a CUDA array (DLPack) of logits on that GPU, computed on `stream`.
  nb::object run(nb::handle x, nb::handle stream) {
    int32_t device_type = kDLCPU, device_id = 0;
    const bool is_capsule = PyCapsule_CheckExact(x.ptr()) != 0;
    if (!is_capsule && nb::hasattr(x, "__dlpack_device__")) {
      // Asked before the export: a CUDA producer exports for (and syncs with) the consumer's stream.
      nb::object d = x.attr("__dlpack_device__")();
      device_type = nb::cast<int32_t>(d[0]);
      device_id = nb::cast<int32_t>(d[1]);
    }
    AnyArray in;
    if (is_capsule) {
      in = import_array(x, "input");  // a raw capsule carries no stream exchange: `stream` as given
      device_type = in.device_type();
      device_id = in.device_id();
    }
    const bool on_cuda = info_.backend == RESNETRS_BACKEND_CUDA;
    if (decide_input_route(device_type, device_id, on_cuda, info_.device, device_inputs_enabled(), "input") ==
        InputRoute::kHost) {
      if (!stream.is_none()) raise_invalid("stream= applies to CUDA inputs only; the input is in host memory");
      return run_host(is_capsule ? in : import_array(x, "input"));
    }
    const uintptr_t s = consumer_stream(x, stream, device_id);
    if (!is_capsule) {
      nb::object capsule = x.attr("__dlpack__")(nb::arg("stream") = s);
      in = import_array(capsule, "input");
      // The producer's word after the export (a DLPack device it did not announce is refused too).
      decide_input_route(in.device_type(), in.device_id(), on_cuda, info_.device, true, "input");
    }
    return run_device(in, s, x);
  }

 private:
  nb::object run_host(const AnyArray& in) {
    require_host_float32_contiguous(in, "input");
    check_input(in);
    const int32_t batch = int32_t(in.shape(0));
    const size_t classes = size_t(info_.num_classes);
    auto logits = std::make_unique<float[]>(size_t(batch) * classes);
    resnetrs_status_t status = RESNETRS_STATUS_OK;
    std::string message;
    bool closed = false;
    {
      nb::gil_scoped_release no_gil;
      std::shared_lock<std::shared_mutex> lock(mutex_);  // close() waits for the runs in flight
      if (!engine_) {
        closed = true;
      } else {
        status = resnetrs_engine_run_host(engine_, static_cast<const float*>(in.data()), batch, logits.get());
        if (status != RESNETRS_STATUS_OK) message = resnetrs_last_error();
      }
    }
    if (closed) raise_closed();
    if (status != RESNETRS_STATUS_OK) raise_status(status, message);
    float* data = logits.release();
    nb::capsule owner(data, [](void* p) noexcept { delete[] static_cast<float*>(p); });
    return nb::ndarray<nb::numpy, float, nb::ndim<2>>(data, {size_t(batch), classes}, owner).cast();
  }

  // The stream of a CUDA input: `stream` when given (an int, or an object with __cuda_stream__,
  // cuda_stream (torch) or ptr (cupy)); else the producer's current stream (torch, cupy), else
  // the legacy default stream.
  static uintptr_t consumer_stream(nb::handle x, nb::handle stream, int32_t device_id) {
    long long value = 1;
    if (!stream.is_none()) {
      if (PyLong_Check(stream.ptr())) {
        value = nb::cast<long long>(stream);
      } else if (nb::hasattr(stream, "__cuda_stream__")) {
        value = nb::cast<long long>(stream.attr("__cuda_stream__")()[1]);
      } else if (nb::hasattr(stream, "cuda_stream")) {
        value = nb::cast<long long>(stream.attr("cuda_stream"));
      } else if (nb::hasattr(stream, "ptr")) {
        value = nb::cast<long long>(stream.attr("ptr"));
      } else {
        raise_invalid(std::string("stream must be an int (cudaStream_t) or a CUDA stream object, got ") +
                      nb::type_name(stream.type()).c_str());
      }
      return dlpack_stream_handle(value);
    }
    const std::string module = nb::cast<std::string>(nb::handle(x.type()).attr("__module__"));
    if (module.rfind("torch", 0) == 0) {
      value = nb::cast<long long>(
          nb::module_::import_("torch").attr("cuda").attr("current_stream")(device_id).attr("cuda_stream"));
    } else if (module.rfind("cupy", 0) == 0) {
      value = nb::cast<long long>(nb::module_::import_("cupy").attr("cuda").attr("get_current_stream")().attr("ptr"));
    }
    return dlpack_stream_handle(value);
  }

  // Runs a CUDA input on stream `s` (enqueued; the logits are ready when `s` gets there) and
  // returns the logits as an array of the producer's framework (torch, cupy) or a DLPack array.
  nb::object run_device(const AnyArray& in, uintptr_t s, nb::handle producer) {
    require_float32_contiguous(in, "input");
    check_input(in);
    const int32_t batch = int32_t(in.shape(0));
    const size_t classes = size_t(info_.num_classes);
    nb::capsule owner;
    float* logits = allocate_device_floats(info_.device, size_t(batch) * classes, owner);
    resnetrs_status_t status = RESNETRS_STATUS_OK;
    std::string message;
    bool closed = false;
    {
      nb::gil_scoped_release no_gil;
      std::shared_lock<std::shared_mutex> lock(mutex_);
      if (!engine_) {
        closed = true;
      } else {
        status = resnetrs_engine_run_device(engine_, static_cast<const float*>(in.data()), batch, logits,
                                            reinterpret_cast<void*>(s));
        if (status != RESNETRS_STATUS_OK) message = resnetrs_last_error();
      }
    }
    if (closed) raise_closed();
    if (status != RESNETRS_STATUS_OK) raise_status(status, message);
    const std::string module = nb::cast<std::string>(nb::handle(producer.type()).attr("__module__"));
    const int32_t cuda = nb::device::cuda::value;
    if (module.rfind("torch", 0) == 0) {
      return nb::ndarray<nb::pytorch, float, nb::ndim<2>>(logits, {size_t(batch), classes}, owner, {},
                                                          nb::dtype<float>(), cuda, info_.device).cast();
    }
    if (module.rfind("cupy", 0) == 0) {
      return nb::ndarray<nb::cupy, float, nb::ndim<2>>(logits, {size_t(batch), classes}, owner, {},
                                                       nb::dtype<float>(), cuda, info_.device).cast();
    }
    return nb::ndarray<float, nb::ndim<2>>(logits, {size_t(batch), classes}, owner, {}, nb::dtype<float>(), cuda,
                                           info_.device).cast();
  }

 public:
  void close() {
    nb::gil_scoped_release no_gil;
    std::unique_lock<std::shared_mutex> lock(mutex_);
    resnetrs_engine_destroy(engine_);
    engine_ = nullptr;
  }

  bool closed() {
    std::shared_lock<std::shared_mutex> lock(mutex_);
    return engine_ == nullptr;
  }

  EngineInfo info() const { return to_python_info(info_); }

  std::string repr() {
    const std::string state = closed() ? ", closed" : "";
    return "<resnetrs.Engine RS-" + std::to_string(info_.depth) + " " + std::to_string(info_.height) + "x" +
           std::to_string(info_.width) + " " + (info_.input_layout == RESNETRS_LAYOUT_NHWC ? "nhwc" : "nchw") +
           " max_batch=" + std::to_string(info_.max_batch) + " on " +
           (info_.backend == RESNETRS_BACKEND_CPU ? std::string("cpu") : "cuda:" + std::to_string(info_.device)) + " " +
           precision_name(info_.precision) + state + ">";
  }

 private:
  [[noreturn]] static void raise_closed() { raise_invalid("the engine is closed"); }

  void check_input(const AnyArray& in) const {
    const bool nhwc = info_.input_layout == RESNETRS_LAYOUT_NHWC;
    const std::string expected =
        nhwc ? "[batch, " + std::to_string(info_.height) + ", " + std::to_string(info_.width) + ", 3] (layout 'nhwc')"
             : "[batch, 3, " + std::to_string(info_.height) + ", " + std::to_string(info_.width) + "] (layout 'nchw')";
    if (in.ndim() != 4) {
      raise_invalid("input has shape " + shape_string(in) + ", expected a 4-d batch " + expected +
                    (in.ndim() == 3 ? "; for one image add a batch axis: x[None]" : ""));
    }
    const bool shape_ok = nhwc ? (in.shape(1) == size_t(info_.height) && in.shape(2) == size_t(info_.width) && in.shape(3) == 3)
                               : (in.shape(1) == 3 && in.shape(2) == size_t(info_.height) && in.shape(3) == size_t(info_.width));
    if (!shape_ok) {
      raise_invalid("input has shape " + shape_string(in) + ", expected " + expected +
                    ": the engine was built for this resolution and layout");
    }
    if (in.shape(0) < 1 || in.shape(0) > size_t(info_.max_batch)) {
      raise_invalid("input batch is " + std::to_string(in.shape(0)) + ", expected 1.." + std::to_string(info_.max_batch) +
                    " (the engine's max_batch; build the engine with a larger max_batch or split the batch)");
    }
  }

  resnetrs_engine_t* engine_ = nullptr;
  resnetrs_engine_info_t info_{};
  std::shared_mutex mutex_;  // shared by runs, exclusive for close()
};

// threads=: None or an int 0..1024 (0 and None: the cores this process may run on). Checked here,
// before the C API checks it again, so that the message names the Python argument.
int parse_threads(nb::handle threads) {
  if (threads.is_none()) return 0;
  const std::string expected = ": expected None or 0 (the cores this process may run on) or an int 1..1024";
  // Any integer (int, numpy.int64: operator.index), but not a bool, a float or a string.
  if (PyBool_Check(threads.ptr()) || !PyIndex_Check(threads.ptr())) {
    raise_invalid("threads=" + nb::cast<std::string>(nb::repr(threads)) + expected);
  }
  nb::object index = nb::steal(PyNumber_Index(threads.ptr()));
  if (!index.is_valid()) throw nb::python_error();
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0 || value < 0 || value > 1024) {
    raise_invalid("threads=" + nb::cast<std::string>(nb::repr(threads)) + expected);
  }
  return int(value);
}

EngineArgs make_args(std::string backend, std::string precision, int max_batch, Resolution resolution, std::string layout,
                     bool cuda_graph, std::optional<std::filesystem::path> tuning_cache, int device,
                     nb::handle threads, std::string winograd) {
  return EngineArgs{std::move(backend), std::move(precision), max_batch, resolution, std::move(layout),
                    cuda_graph, std::move(tuning_cache), device, parse_threads(threads), std::move(winograd)};
}

const char* const kEngineDoc =
    "An inference engine: one ResNet-RS network built for a backend, a maximum batch, an input resolution\n"
    "and layout (resnetrs_engine_t of the C API).\n\n"
    "Engine(weights, backend='auto', precision='fp32', max_batch=1, resolution=224, layout='nchw',\n"
    "       cuda_graph=True, tuning_cache=None, device=0, threads=None, winograd='auto')\n\n"
    "weights: a resnetrs-weights HDF5 file (see `resnetrs convert`). backend: 'cuda', 'cpu', or 'auto'\n"
    "(cuda when a CUDA device exists, else cpu). precision: 'fp32' (strict) or 'tf32' (cuda only).\n"
    "resolution: S or (H, W). layout: 'nchw' ([N,3,H,W] input) or 'nhwc' ([N,H,W,3]).\n"
    "threads (cpu backend): threads of one run, None or 0 = the cores this process may run on.\n"
    "winograd (cpu backend): 'auto' (where as exact as the direct convolution), 'off', or 'fast' (less exact).\n"
    "engine(x) classifies a batch of float32 pixels on the 0..255 scale in host memory and returns the\n"
    "logits [N, num_classes] as a numpy array. Use it as a context manager, or call close().";

}  // namespace

void bind_engine(nb::module_& m) {
  nb::class_<EngineInfo>(m, "EngineInfo", "What an engine was built for and what it cost (Engine.info).")
      .def_ro("depth", &EngineInfo::depth, "50 ... 420")
      .def_ro("num_classes", &EngineInfo::num_classes, "logits per image")
      .def_ro("channels", &EngineInfo::channels, "input channels (3, RGB)")
      .def_ro("height", &EngineInfo::height)
      .def_ro("width", &EngineInfo::width)
      .def_prop_ro("resolution", [](const EngineInfo& i) { return std::make_tuple(i.height, i.width); },
                   "(height, width) of the input")
      .def_ro("layout", &EngineInfo::layout, "'nchw' or 'nhwc'")
      .def_ro("max_batch", &EngineInfo::max_batch)
      .def_ro("backend", &EngineInfo::backend, "'cpu' or 'cuda'")
      .def_ro("precision", &EngineInfo::precision, "'fp32' or 'tf32'")
      .def_ro("device", &EngineInfo::device, "CUDA device ordinal; -1 on the CPU")
      .def_ro("cuda_graph", &EngineInfo::cuda_graph, "runs replay a CUDA graph")
      .def_ro("trainable_params", &EngineInfo::trainable_params)
      .def_ro("macs_per_image", &EngineInfo::macs_per_image)
      .def_ro("device_bytes", &EngineInfo::device_bytes, "device memory held by the engine; 0 on the CPU")
      .def_ro("load_ms", &EngineInfo::load_ms, "time to read (or generate) and fold the weights")
      .def_ro("build_ms", &EngineInfo::build_ms, "time to build the engine, tuning included")
      .def_ro("tune_ms", &EngineInfo::tune_ms, "of build_ms, time spent choosing algorithms")
      .def_ro("train_resolution", &EngineInfo::train_resolution,
              "resolution the weights were trained at (from the weights file); 0 if unknown")
      .def_ro("cpu_threads", &EngineInfo::cpu_threads, "threads a CPU run uses (threads= resolved); 0 on cuda")
      .def("__repr__", [](const EngineInfo& i) {
        return "EngineInfo(depth=" + std::to_string(i.depth) + ", num_classes=" + std::to_string(i.num_classes) +
               ", resolution=(" + std::to_string(i.height) + ", " + std::to_string(i.width) + "), layout='" + i.layout +
               "', max_batch=" + std::to_string(i.max_batch) + ", backend='" + i.backend + "', precision='" +
               i.precision + "', device=" + std::to_string(i.device) + ", device_bytes=" + std::to_string(i.device_bytes) +
               ", build_ms=" + std::to_string(i.build_ms) + ", tune_ms=" + std::to_string(i.tune_ms) +
               ", train_resolution=" + std::to_string(i.train_resolution) + ", cpu_threads=" +
               std::to_string(i.cpu_threads) + ")";
      });

  // The binding's decisions as plain functions, for the host tests (device_policy.h).
  m.attr("UNVERIFIED_GPU") = device_inputs_enabled();
  m.def(
      "_input_route",
      [](int32_t device_type, int32_t device_id, const std::string& engine_backend, int32_t engine_device, bool gate) {
        return decide_input_route(device_type, device_id, engine_backend == "cuda", engine_device, gate, "input") ==
                       InputRoute::kHost
                   ? "host"
                   : "device";
      },
      nb::arg("device_type"), nb::arg("device_id"), nb::arg("engine_backend"), nb::arg("engine_device"),
      nb::arg("gate"), "Test hook: where engine(x) takes an input on this DLPack device from ('host' or 'device').");
  m.def("_auto_falls_back_to_cpu", &auto_falls_back_to_cpu, nb::arg("status"), nb::arg("message"),
        "Test hook: whether backend='auto' builds a CPU engine after the CUDA engine failed so.");
  m.def("_dlpack_stream_handle", &dlpack_stream_handle, nb::arg("value"),
        "Test hook: the cudaStream_t a DLPack stream value stands for.");

  nb::class_<Engine>(m, "Engine", kEngineDoc)
      .def(
          "__init__",
          [](Engine* self, const std::filesystem::path& weights, std::string backend, std::string precision, int max_batch,
             Resolution resolution, std::string layout, bool cuda_graph, std::optional<std::filesystem::path> tuning_cache,
             int device, nb::object threads, std::string winograd) {
            new (self) Engine(weights, 0, 0,
                              make_args(std::move(backend), std::move(precision), max_batch, resolution, std::move(layout),
                                        cuda_graph, std::move(tuning_cache), device, threads, std::move(winograd)));
          },
          nb::arg("weights"), nb::arg("backend") = "auto", nb::arg("precision") = "fp32", nb::arg("max_batch") = 1,
          nb::arg("resolution") = 224, nb::arg("layout") = "nchw", nb::arg("cuda_graph") = true,
          nb::arg("tuning_cache") = nb::none(), nb::arg("device") = 0, nb::arg("threads") = nb::none(),
          nb::arg("winograd") = "auto")
      .def_static(
          "synthetic",
          [](int depth, uint64_t seed, std::string backend, std::string precision, int max_batch, Resolution resolution,
             std::string layout, bool cuda_graph, std::optional<std::filesystem::path> tuning_cache, int device,
             nb::object threads, std::string winograd) {
            return std::make_unique<Engine>(std::nullopt, depth, seed,
                                            make_args(std::move(backend), std::move(precision), max_batch, resolution,
                                                      std::move(layout), cuda_graph, std::move(tuning_cache), device,
                                                      threads, std::move(winograd)));
          },
          nb::arg("depth"), nb::arg("seed") = 0, nb::kw_only(), nb::arg("backend") = "auto", nb::arg("precision") = "fp32",
          nb::arg("max_batch") = 1, nb::arg("resolution") = 224, nb::arg("layout") = "nchw", nb::arg("cuda_graph") = true,
          nb::arg("tuning_cache") = nb::none(), nb::arg("device") = 0, nb::arg("threads") = nb::none(),
          nb::arg("winograd") = "auto",
          "An engine with deterministic synthetic weights of `depth` (for tests and benchmarks: its predictions "
          "mean nothing).")
      .def("__call__", &Engine::run, nb::arg("x"), nb::arg("stream") = nb::none(),
           nb::sig("def __call__(self, x: numpy.typing.ArrayLike, stream: object = None) -> "
                   "numpy.typing.NDArray[numpy.float32]"),
           "Logits [N, num_classes] of a batch x of float32 pixels (0..255) in host memory, shaped as the engine's\n"
           "layout and resolution, 1 <= N <= max_batch. The GIL is released while it runs.\n"
           "A CUDA tensor on the engine's GPU (builds with RESNETRS_UNVERIFIED_GPU=ON only) runs on `stream`\n"
           "(default: the producer's current stream) and gives logits on that GPU (torch/cupy/DLPack array).")
      .def("run", &Engine::run, nb::arg("x"), nb::arg("stream") = nb::none(),
           nb::sig("def run(self, x: numpy.typing.ArrayLike, stream: object = None) -> "
                   "numpy.typing.NDArray[numpy.float32]"),
           "Same as engine(x).")
      .def_prop_ro("info", &Engine::info, "EngineInfo: what the engine was built for and what it cost.")
      .def_prop_ro("closed", &Engine::closed, "True after close().")
      .def("close", &Engine::close, "Frees the engine (waits for runs in flight). Idempotent.")
      .def("__enter__", [](nb::handle self) { return self; }, nb::sig("def __enter__(self) -> Engine"))
      .def(
          "__exit__", [](Engine& e, nb::handle, nb::handle, nb::handle) { e.close(); }, nb::arg("exc_type").none(),
          nb::arg("exc_value").none(), nb::arg("traceback").none())
      .def("__repr__", &Engine::repr);
}

}  // namespace resnetrs_py
