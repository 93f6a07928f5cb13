#include "instance.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include "triton_errors.h"

namespace resnetrs_triton {
namespace {

uint64_t now_ns() {
  // The clock Triton itself uses for its statistics timestamps.
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

TRITONSERVER_Error_Code triton_code(resnetrs_status_t s) {
  switch (s) {
    case RESNETRS_STATUS_INVALID_ARGUMENT:
    case RESNETRS_STATUS_WEIGHTS_INVALID: return TRITONSERVER_ERROR_INVALID_ARG;
    case RESNETRS_STATUS_IO_ERROR: return TRITONSERVER_ERROR_NOT_FOUND;
    case RESNETRS_STATUS_NO_DEVICE:
    case RESNETRS_STATUS_UNSUPPORTED_DEVICE: return TRITONSERVER_ERROR_UNSUPPORTED;
    default: return TRITONSERVER_ERROR_INTERNAL;
  }
}

std::string status_text(resnetrs_status_t s) {
  return std::string(resnetrs_status_string(s)) + ": " + resnetrs_last_error();
}

// Sends the final response: an error response when `error` is set (the backend keeps ownership
// of the error object, so it is deleted here), a success otherwise.
void send(TRITONBACKEND_Response* response, const BackendError* error) {
  TRITONSERVER_Error* err = error != nullptr ? error->to_triton() : nullptr;
  TRITONSERVER_Error* send_err = TRITONBACKEND_ResponseSend(response, TRITONSERVER_RESPONSE_COMPLETE_FINAL, err);
  if (err != nullptr) TRITONSERVER_ErrorDelete(err);
  if (send_err != nullptr) {
    RESNETRS_TRITON_LOG(TRITONSERVER_LOG_ERROR, std::string("cannot send a response: ") + TRITONSERVER_ErrorMessage(send_err));
    TRITONSERVER_ErrorDelete(send_err);
  }
}

void log_if_error(TRITONSERVER_Error* err, const char* what) {
  if (err == nullptr) return;
  RESNETRS_TRITON_LOG(TRITONSERVER_LOG_ERROR, std::string(what) + ": " + TRITONSERVER_ErrorMessage(err));
  TRITONSERVER_ErrorDelete(err);
}

}  // namespace

struct Instance::Pending {
  TRITONBACKEND_Request* request;
  TRITONBACKEND_Response* response;
  int64_t offset;  // first image in the staging buffer
  int64_t batch;
};

Instance::Instance(TRITONBACKEND_ModelInstance* triton_instance, const ModelSettings& settings)
    : triton_instance_(triton_instance), settings_(settings) {
  const char* name = nullptr;
  throw_if_error(TRITONBACKEND_ModelInstanceName(triton_instance, &name), "TRITONBACKEND_ModelInstanceName");
  name_ = name;
  TRITONSERVER_InstanceGroupKind kind;
  throw_if_error(TRITONBACKEND_ModelInstanceKind(triton_instance, &kind), "TRITONBACKEND_ModelInstanceKind");
  if (kind == TRITONSERVER_INSTANCEGROUPKIND_GPU) {
    // The CUDA engine is tested on its own (tests/gpu), but this backend's GPU path (device id,
    // GPU-resident inputs, graphs per batch size) has not run on a GPU yet: docs/serving.md.
    fail(TRITONSERVER_ERROR_UNSUPPORTED, "instance '" + name_ +
                                             "' is KIND_GPU: GPU instances are not yet verified on a GPU; use KIND_CPU");
  }
  if (kind != TRITONSERVER_INSTANCEGROUPKIND_CPU) {
    fail(TRITONSERVER_ERROR_UNSUPPORTED, "instance '" + name_ + "' is KIND_" + TRITONSERVER_InstanceGroupKindString(kind) +
                                             "; this backend runs KIND_CPU instances");
  }

  resnetrs_options_t o;
  resnetrs_status_t s = resnetrs_options_init(&o);
  if (s != RESNETRS_STATUS_OK) fail(TRITONSERVER_ERROR_INTERNAL, "resnetrs_options_init: " + status_text(s));
  o.backend = RESNETRS_BACKEND_CPU;
  o.precision = settings.precision;
  o.max_batch = settings.engine_max_batch;
  o.height = settings.height;
  o.width = settings.width;
  o.input_layout = settings.nhwc ? RESNETRS_LAYOUT_NHWC : RESNETRS_LAYOUT_NCHW;
  o.tuning_cache_path = settings.tuning_cache_path.c_str();
  resnetrs_engine_t* raw = nullptr;
  s = resnetrs_engine_create_from_file(settings.weights_path.c_str(), &o, &raw);
  engine_.reset(raw);
  if (s != RESNETRS_STATUS_OK) {
    fail(triton_code(s), "instance '" + name_ + "': cannot build the engine from '" + settings.weights_path +
                             "': " + status_text(s));
  }
  resnetrs_engine_info_t info;
  info.struct_size = sizeof info;
  s = resnetrs_engine_get_info(engine_.get(), &info);
  if (s != RESNETRS_STATUS_OK) fail(TRITONSERVER_ERROR_INTERNAL, "resnetrs_engine_get_info: " + status_text(s));
  if (info.num_classes != settings.num_classes) {
    invalid("the weights '" + settings.weights_path + "' have " + std::to_string(info.num_classes) +
            " classes but output 'logits' has dims [" + std::to_string(settings.num_classes) + "]");
  }
  if (!settings.cuda_graph_batch_sizes.empty()) {
    RESNETRS_TRITON_LOG(TRITONSERVER_LOG_INFO,
                        "instance '" + name_ + "': cuda_graph_batch_sizes is ignored by KIND_CPU instances");
  }
#if RESNETRS_TRITON_HAS_IMAGES
  if (settings.image_input) {
    s = resnetrs_image_options_init(&image_options_);
    if (s != RESNETRS_STATUS_OK) fail(TRITONSERVER_ERROR_INTERNAL, "resnetrs_image_options_init: " + status_text(s));
    image_options_.preprocess = settings.image_timm ? RESNETRS_PREPROCESS_TIMM : RESNETRS_PREPROCESS_RELEASE;
    image_options_.height = settings.height;
    image_options_.width = settings.width;
    image_options_.layout = o.input_layout;
    if (settings.image_crop_pct > 0.0f) image_options_.crop_pct = settings.image_crop_pct;
    if (settings.image_max_pixels > 0) image_options_.max_pixels = settings.image_max_pixels;
  }
#endif
  pixels_.resize(static_cast<size_t>(settings.engine_max_batch * settings.pixels_per_image()));
  logits_.resize(static_cast<size_t>(settings.engine_max_batch) * static_cast<size_t>(settings.num_classes));
  RESNETRS_TRITON_LOG(TRITONSERVER_LOG_INFO,
                      "instance '" + name_ + "': RS-" + std::to_string(info.depth) + " on the CPU, " +
                          std::to_string(settings.height) + "x" + std::to_string(settings.width) + ", max batch " +
                          std::to_string(settings.engine_max_batch) + ", weights " + settings.weights_path);
}

int64_t Instance::peek_batch(TRITONBACKEND_Request* request) {
  TRITONBACKEND_Input* input = nullptr;
  const int64_t* shape = nullptr;
  uint32_t dims = 0;
  TRITONSERVER_Error* err = TRITONBACKEND_RequestInputByIndex(request, 0, &input);
  if (err == nullptr) err = TRITONBACKEND_InputProperties(input, nullptr, nullptr, &shape, &dims, nullptr, nullptr);
  if (err != nullptr) {
    TRITONSERVER_ErrorDelete(err);
    return 0;  // gather() reports what is wrong with this request
  }
  return dims > 0 ? shape[0] : 0;
}

int64_t Instance::gather(TRITONBACKEND_Request* request, int64_t offset) {
  uint32_t input_count = 0;
  throw_if_error(TRITONBACKEND_RequestInputCount(request, &input_count), "TRITONBACKEND_RequestInputCount");
  if (input_count != 1) {
    invalid("a request must have exactly one input ('pixels' or 'image'); it has " + std::to_string(input_count));
  }
  TRITONBACKEND_Input* input = nullptr;
  throw_if_error(TRITONBACKEND_RequestInputByIndex(request, 0, &input), "TRITONBACKEND_RequestInputByIndex");
  const char* name = nullptr;
  TRITONSERVER_DataType dtype;
  const int64_t* shape = nullptr;
  uint32_t dims = 0, buffers = 0;
  uint64_t bytes = 0;
  throw_if_error(TRITONBACKEND_InputProperties(input, &name, &dtype, &shape, &dims, &bytes, &buffers),
                 "TRITONBACKEND_InputProperties");
  const std::string input_name = name;
  const bool pixels = input_name == kPixelsInput && settings_.pixels_input;
  const bool image = input_name == kImageInput && settings_.image_input;
  if (!pixels && !image) invalid("unexpected input '" + input_name + "'");

  const TRITONSERVER_DataType want_type = pixels ? TRITONSERVER_TYPE_FP32 : TRITONSERVER_TYPE_BYTES;
  if (dtype != want_type) {
    invalid("input '" + input_name + "' must be " + TRITONSERVER_DataTypeString(want_type) + ", the request sends " +
            TRITONSERVER_DataTypeString(dtype));
  }
  const int64_t h = settings_.height, w = settings_.width;
  const std::string item = !pixels ? "1"
                           : settings_.nhwc ? std::to_string(h) + ", " + std::to_string(w) + ", 3"
                                            : "3, " + std::to_string(h) + ", " + std::to_string(w);
  const bool shape_ok =
      dims >= 1 && shape[0] >= 1 && shape[0] <= settings_.max_batch_size &&
      (!pixels ? dims == 2 && shape[1] == 1
               : dims == 4 && (settings_.nhwc ? (shape[1] == h && shape[2] == w && shape[3] == 3)
                                              : (shape[1] == 3 && shape[2] == h && shape[3] == w)));
  if (!shape_ok) {
    std::string got = "[";
    for (uint32_t i = 0; i < dims; ++i) got += (i ? ", " : "") + std::to_string(shape[i]);
    invalid("input '" + input_name + "' must have shape [1.." + std::to_string(settings_.max_batch_size) + ", " + item +
            "], the request sends " + got + "]");
  }
  if (pixels) {
    gather_pixels(input, shape[0], buffers, bytes, offset);
  } else {
    gather_images(input, shape[0], buffers, bytes, offset);
  }
  return shape[0];
}

namespace {

// The host address of buffer `i` of `input`; inputs in GPU memory are refused.
const unsigned char* host_buffer(TRITONBACKEND_Input* input, uint32_t i, const char* name, uint64_t* size) {
  const void* src = nullptr;
  TRITONSERVER_MemoryType mem = TRITONSERVER_MEMORY_CPU;  // in: preferred; out: where it is
  int64_t mem_id = 0;
  throw_if_error(TRITONBACKEND_InputBuffer(input, i, &src, size, &mem, &mem_id), "TRITONBACKEND_InputBuffer");
  if (mem == TRITONSERVER_MEMORY_GPU) {
    invalid(std::string("input '") + name + "' is in GPU memory (CUDA shared memory); KIND_CPU instances read host memory only");
  }
  return static_cast<const unsigned char*>(src);
}

}  // namespace

void Instance::gather_pixels(TRITONBACKEND_Input* input, int64_t batch, uint32_t buffers, uint64_t bytes, int64_t offset) {
  const int64_t per_image = settings_.pixels_per_image();
  const uint64_t want = static_cast<uint64_t>(batch * per_image) * sizeof(float);
  if (bytes != want) {
    invalid("input 'pixels' holds " + std::to_string(bytes) + " bytes; its shape needs " + std::to_string(want));
  }
  // The tensor may arrive in several buffers (e.g. HTTP chunks): copy them in order.
  auto* dst = reinterpret_cast<unsigned char*>(pixels_.data() + offset * per_image);
  uint64_t copied = 0;
  for (uint32_t i = 0; i < buffers; ++i) {
    uint64_t size = 0;
    const unsigned char* src = host_buffer(input, i, kPixelsInput, &size);
    if (size > want - copied) invalid("input 'pixels' buffers hold more bytes than its shape");
    std::memcpy(dst + copied, src, size);
    copied += size;
  }
  if (copied != want) invalid("input 'pixels' buffers hold " + std::to_string(copied) + " bytes, expected " + std::to_string(want));
  const float* p = pixels_.data() + offset * per_image;
  for (int64_t i = 0; i < batch * per_image; ++i) {
    if (!std::isfinite(p[i])) {
      invalid("input 'pixels' has a non-finite value at flat index " + std::to_string(i) +
              " (pixels are RGB on the 0..255 scale)");
    }
  }
}

void Instance::gather_images(TRITONBACKEND_Input* input, int64_t batch, uint32_t buffers, uint64_t bytes, int64_t offset) {
#if RESNETRS_TRITON_HAS_IMAGES
  // A BYTES tensor is its elements one after the other, each a 4-byte little-endian length and
  // that many bytes. Usually one buffer; several are joined first (an element may straddle them).
  const unsigned char* data = nullptr;
  uint64_t size = 0;
  if (buffers == 1) {
    data = host_buffer(input, 0, kImageInput, &size);
  } else {
    joined_.clear();
    for (uint32_t i = 0; i < buffers; ++i) {
      uint64_t n = 0;
      const unsigned char* src = host_buffer(input, i, kImageInput, &n);
      joined_.insert(joined_.end(), src, src + n);
    }
    data = joined_.data();
    size = joined_.size();
  }
  if (size != bytes) invalid("input 'image' buffers hold " + std::to_string(size) + " bytes, expected " + std::to_string(bytes));
  const int64_t per_image = settings_.pixels_per_image();
  uint64_t at = 0;
  for (int64_t k = 0; k < batch; ++k) {
    if (size - at < 4) invalid("input 'image' ends before the length of image " + std::to_string(k));
    const uint64_t len = uint64_t{data[at]} | uint64_t{data[at + 1]} << 8 | uint64_t{data[at + 2]} << 16 |
                         uint64_t{data[at + 3]} << 24;
    at += 4;
    if (len > size - at) {
      invalid("input 'image' element " + std::to_string(k) + " claims " + std::to_string(len) + " bytes; " +
              std::to_string(size - at) + " remain");
    }
    const resnetrs_status_t s =
        resnetrs_image_load_memory(data + at, static_cast<size_t>(len), &image_options_,
                                   pixels_.data() + (offset + k) * per_image);
    if (s != RESNETRS_STATUS_OK) invalid("input 'image' element " + std::to_string(k) + ": " + status_text(s));
    at += len;
  }
  if (at != size) invalid("input 'image' has " + std::to_string(size - at) + " bytes after its " + std::to_string(batch) + " images");
#else
  (void)input, (void)batch, (void)buffers, (void)bytes, (void)offset;
  invalid("input 'image' needs libresnetrs' image decoding, which this build lacks");
#endif
}

void Instance::execute(TRITONBACKEND_Request** requests, uint32_t count) {
  const uint64_t exec_start = now_ns();
  std::vector<Pending> group;
  int64_t staged = 0;
  for (uint32_t r = 0; r < count; ++r) {
    TRITONBACKEND_Request* request = requests[r];
    TRITONBACKEND_Response* response = nullptr;
    TRITONSERVER_Error* err = TRITONBACKEND_ResponseNew(&response, request);
    if (err != nullptr) {
      log_if_error(err, "TRITONBACKEND_ResponseNew");
      const uint64_t t = now_ns();
      log_if_error(TRITONBACKEND_ModelInstanceReportStatistics(triton_instance_, request, false, exec_start, t, t, t),
                   "TRITONBACKEND_ModelInstanceReportStatistics");
      log_if_error(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL), "TRITONBACKEND_RequestRelease");
      continue;
    }
    try {
      // Triton forms batches of at most max_batch_size <= engine_max_batch, so this only splits
      // when max_batch_size is larger than a batch the server formed (kept for robustness).
      if (staged > 0 && staged + peek_batch(request) > settings_.engine_max_batch) {
        run_and_respond(group, staged, exec_start);
        group.clear();
        staged = 0;
      }
      const int64_t batch = gather(request, staged);
      group.push_back(Pending{request, response, staged, batch});
      staged += batch;
    } catch (const BackendError& e) {
      // This request alone fails; the others of the batch go on.
      send(response, &e);
      const uint64_t t = now_ns();
      log_if_error(TRITONBACKEND_ModelInstanceReportStatistics(triton_instance_, request, false, exec_start, t, t, t),
                   "TRITONBACKEND_ModelInstanceReportStatistics");
      log_if_error(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL), "TRITONBACKEND_RequestRelease");
    }
  }
  if (staged > 0) run_and_respond(group, staged, exec_start);
}

void Instance::run_and_respond(std::vector<Pending>& group, int64_t images, uint64_t exec_start_ns) {
  const uint64_t compute_start = now_ns();
  const resnetrs_status_t s =
      resnetrs_engine_run_host(engine_.get(), pixels_.data(), static_cast<int32_t>(images), logits_.data());
  const uint64_t compute_end = now_ns();
  const bool ran = s == RESNETRS_STATUS_OK;
  const BackendError run_error(triton_code(s), "the engine failed on a batch of " + std::to_string(images) + ": " +
                                                   (ran ? std::string() : status_text(s)));
  std::vector<bool> ok(group.size(), ran);
  for (size_t i = 0; i < group.size(); ++i) {
    Pending& p = group[i];
    if (!ran) {
      send(p.response, &run_error);
      continue;
    }
    try {
      const int64_t shape[2] = {p.batch, settings_.num_classes};
      TRITONBACKEND_Output* output = nullptr;
      throw_if_error(TRITONBACKEND_ResponseOutput(p.response, &output, kLogitsOutput, TRITONSERVER_TYPE_FP32, shape, 2),
                     "TRITONBACKEND_ResponseOutput");
      const uint64_t bytes = static_cast<uint64_t>(p.batch * settings_.num_classes) * sizeof(float);
      void* dst = nullptr;
      TRITONSERVER_MemoryType mem = TRITONSERVER_MEMORY_CPU;
      int64_t mem_id = 0;
      throw_if_error(TRITONBACKEND_OutputBuffer(output, &dst, bytes, &mem, &mem_id), "TRITONBACKEND_OutputBuffer");
      if (mem == TRITONSERVER_MEMORY_GPU) {
        invalid("output 'logits' was requested in GPU memory; KIND_CPU instances write host memory only");
      }
      std::memcpy(dst, logits_.data() + p.offset * settings_.num_classes, bytes);
      send(p.response, nullptr);
    } catch (const BackendError& e) {
      ok[i] = false;
      send(p.response, &e);
    }
  }
  const uint64_t exec_end = now_ns();
  for (size_t i = 0; i < group.size(); ++i) {
    log_if_error(TRITONBACKEND_ModelInstanceReportStatistics(triton_instance_, group[i].request, ok[i], exec_start_ns,
                                                              compute_start, compute_end, exec_end),
                 "TRITONBACKEND_ModelInstanceReportStatistics");
  }
  if (ran) {
    log_if_error(TRITONBACKEND_ModelInstanceReportBatchStatistics(triton_instance_, static_cast<uint64_t>(images),
                                                                   exec_start_ns, compute_start, compute_end, exec_end),
                 "TRITONBACKEND_ModelInstanceReportBatchStatistics");
  }
  for (Pending& p : group) {
    log_if_error(TRITONBACKEND_RequestRelease(p.request, TRITONSERVER_REQUEST_RELEASE_ALL), "TRITONBACKEND_RequestRelease");
  }
}

}  // namespace resnetrs_triton
