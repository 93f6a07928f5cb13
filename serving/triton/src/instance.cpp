#include "instance.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include "memory_policy.h"
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
  gpu_ = require_instance_kind(kind, gpu_instances_enabled(), name_);
  if (gpu_) {
    throw_if_error(TRITONBACKEND_ModelInstanceDeviceId(triton_instance, &device_), "TRITONBACKEND_ModelInstanceDeviceId");
    graph_sizes_ = graph_sizes_to_capture(settings.cuda_graph_batch_sizes);
  }

  resnetrs_options_t o;
  resnetrs_status_t s = resnetrs_options_init(&o);
  if (s != RESNETRS_STATUS_OK) fail(TRITONSERVER_ERROR_INTERNAL, "resnetrs_options_init: " + status_text(s));
  o.backend = gpu_ ? RESNETRS_BACKEND_CUDA : RESNETRS_BACKEND_CPU;
  if (gpu_) o.device = device_;
  o.precision = settings.precision;
  o.max_batch = settings.engine_max_batch;
  o.height = settings.height;
  o.width = settings.width;
  o.input_layout = settings.nhwc ? RESNETRS_LAYOUT_NHWC : RESNETRS_LAYOUT_NCHW;
  o.tuning_cache_path = settings.tuning_cache_path.c_str();
  o.cpu_threads = settings.cpu_threads;  // the CUDA backend ignores both
  o.cpu_winograd = settings.cpu_winograd;
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
  if (!gpu_ && !settings.cuda_graph_batch_sizes.empty()) {
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
  const size_t pixel_floats = static_cast<size_t>(settings.engine_max_batch * settings.pixels_per_image());
  const size_t logit_floats = static_cast<size_t>(settings.engine_max_batch) * static_cast<size_t>(settings.num_classes);
  pixels_.resize(pixel_floats);  // GPU instances: host inputs and decoded images, on their way to the GPU
  host_spans_.reserve(16);
  if (gpu_) {
    staging_ = std::make_unique<DeviceStaging>(device_, pixel_floats, logit_floats);
    // The CUDA graphs of the configured batch sizes are captured now (the engine captures a
    // batch size on its first run), so that no request waits for a capture.
    for (int32_t b : graph_sizes_) {
      s = run_engine(b);
      if (s != RESNETRS_STATUS_OK) {
        fail(triton_code(s), "instance '" + name_ + "': capturing the CUDA graph of batch " + std::to_string(b) + ": " +
                                 status_text(s));
      }
      staging_->synchronize("capturing the CUDA graphs");
    }
  } else {
    logits_.resize(logit_floats);
  }
  const std::string where = gpu_ ? "on GPU " + std::to_string(device_)
                                 : "on the CPU (" + std::to_string(info.cpu_threads) + " threads)";
  RESNETRS_TRITON_LOG(TRITONSERVER_LOG_INFO,
                      "instance '" + name_ + "': RS-" + std::to_string(info.depth) + " " + where + ", " +
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

// Buffer `i` of `input` where Triton has it (asked for `preferred` memory first).
const unsigned char* input_buffer(TRITONBACKEND_Input* input, uint32_t i, TRITONSERVER_MemoryType preferred,
                                  int64_t preferred_id, uint64_t* size, TRITONSERVER_MemoryType* mem, int64_t* mem_id) {
  const void* src = nullptr;
  *mem = preferred;  // in: preferred; out: where it is
  *mem_id = preferred_id;
  throw_if_error(TRITONBACKEND_InputBuffer(input, i, &src, size, mem, mem_id), "TRITONBACKEND_InputBuffer");
  return static_cast<const unsigned char*>(src);
}

// The host address of buffer `i` of `input` (encoded images are decoded on the host); an input
// in GPU memory is refused naming it.
const unsigned char* host_buffer(TRITONBACKEND_Input* input, uint32_t i, const char* name, uint64_t* size) {
  TRITONSERVER_MemoryType mem;
  int64_t mem_id = 0;
  const unsigned char* src = input_buffer(input, i, TRITONSERVER_MEMORY_CPU, 0, size, &mem, &mem_id);
  if (mem == TRITONSERVER_MEMORY_GPU) {
    invalid(std::string("input '") + name + "' is in GPU memory; encoded images are read from host memory only");
  }
  return src;
}

void check_finite(const float* p, int64_t n, int64_t first_index) {
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i])) {
      invalid("input 'pixels' has a non-finite value at flat index " + std::to_string(first_index + i) +
              " (pixels are RGB on the 0..255 scale)");
    }
  }
}

}  // namespace

void Instance::gather_pixels(TRITONBACKEND_Input* input, int64_t batch, uint32_t buffers, uint64_t bytes, int64_t offset) {
  const int64_t per_image = settings_.pixels_per_image();
  const uint64_t want = static_cast<uint64_t>(batch * per_image) * sizeof(float);
  if (bytes != want) {
    invalid("input 'pixels' holds " + std::to_string(bytes) + " bytes; its shape needs " + std::to_string(want));
  }
  // The tensor may arrive in several buffers (e.g. HTTP chunks, which may split a float): copy
  // them in order. Host buffers go through the host staging rows (checked there, as one range
  // per run of consecutive host buffers) and, for GPU instances, on to the GPU; buffers already on
  // a GPU are copied device to device (or peer) and not read back.
  const uint64_t base = static_cast<uint64_t>(offset * per_image) * sizeof(float);
  auto* host = reinterpret_cast<unsigned char*>(pixels_.data()) + base;
  host_spans_.clear();
  uint64_t copied = 0;
  for (uint32_t i = 0; i < buffers; ++i) {
    uint64_t size = 0;
    TRITONSERVER_MemoryType mem;
    int64_t mem_id = 0;
    const unsigned char* src =
        input_buffer(input, i, preferred_memory(gpu_), gpu_ ? device_ : 0, &size, &mem, &mem_id);
    if (size > want - copied) invalid("input 'pixels' buffers hold more bytes than its shape");
    const Copy copy = input_copy(mem, mem_id, gpu_, device_, kPixelsInput);
    if (copy == Copy::kHostToHost || copy == Copy::kHostToDevice) {
      std::memcpy(host + copied, src, size);
      if (!host_spans_.empty() && host_spans_.back().second == copied) {
        host_spans_.back().second += size;
      } else {
        host_spans_.emplace_back(copied, copied + size);
      }
    } else {
      staging_->copy_in(src, size, base + copied, copy, mem_id);
    }
    copied += size;
  }
  if (copied != want) invalid("input 'pixels' buffers hold " + std::to_string(copied) + " bytes, expected " + std::to_string(want));
  for (const auto& [begin, end] : host_spans_) {
    // The floats wholly inside the span (all of them when the tensor came from host memory).
    const uint64_t first = (begin + sizeof(float) - 1) / sizeof(float), last = end / sizeof(float);
    if (last > first) {
      check_finite(pixels_.data() + offset * per_image + first, static_cast<int64_t>(last - first),
                   static_cast<int64_t>(first));
    }
    if (gpu_) staging_->copy_in(host + begin, end - begin, base + begin, Copy::kHostToDevice, device_);
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
    float* row = pixels_.data() + (offset + k) * per_image;
    const resnetrs_status_t s = resnetrs_image_load_memory(data + at, static_cast<size_t>(len), &image_options_, row);
    if (s != RESNETRS_STATUS_OK) invalid("input 'image' element " + std::to_string(k) + ": " + status_text(s));
    at += len;
  }
  if (gpu_) {
    // Decoded on the host, then to the GPU (cudaMemcpyAsync from pageable memory returns once the
    // source has been read, so the rows may be reused by the next request).
    const size_t row_bytes = static_cast<size_t>(per_image) * sizeof(float);
    staging_->copy_in(pixels_.data() + offset * per_image, static_cast<size_t>(batch) * row_bytes,
                      static_cast<size_t>(offset) * row_bytes, Copy::kHostToDevice, device_);
  }
  if (at != size) invalid("input 'image' has " + std::to_string(size - at) + " bytes after its " + std::to_string(batch) + " images");
#else
  (void)input, (void)batch, (void)buffers, (void)bytes, (void)offset;
  invalid("input 'image' needs libresnetrs' image decoding, which this build lacks");
#endif
}

void Instance::execute(TRITONBACKEND_Request** requests, uint32_t count) {
  const uint64_t exec_start = now_ns();
  if (gpu_) {
    try {
      staging_->make_current();  // Triton's execution thread: the copies below run on our GPU
    } catch (const BackendError& e) {
      for (uint32_t r = 0; r < count; ++r) {
        TRITONBACKEND_Response* response = nullptr;
        if (TRITONBACKEND_ResponseNew(&response, requests[r]) == nullptr) send(response, &e);
        log_if_error(TRITONBACKEND_RequestRelease(requests[r], TRITONSERVER_REQUEST_RELEASE_ALL),
                     "TRITONBACKEND_RequestRelease");
      }
      return;
    }
  }
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
      // This request alone fails; the others of the batch go on. A GPU instance first lets the
      // copies already enqueued from its buffers finish (pinned host memory is read
      // asynchronously), so that Triton does not reuse them under the copy.
      if (gpu_) {
        try {
          staging_->synchronize("the copies of a refused request");
        } catch (const BackendError& sync_error) {
          RESNETRS_TRITON_LOG(TRITONSERVER_LOG_ERROR, sync_error.message());
        }
      }
      send(response, &e);
      const uint64_t t = now_ns();
      log_if_error(TRITONBACKEND_ModelInstanceReportStatistics(triton_instance_, request, false, exec_start, t, t, t),
                   "TRITONBACKEND_ModelInstanceReportStatistics");
      log_if_error(TRITONBACKEND_RequestRelease(request, TRITONSERVER_REQUEST_RELEASE_ALL), "TRITONBACKEND_RequestRelease");
    }
  }
  if (staged > 0) run_and_respond(group, staged, exec_start);
}

resnetrs_status_t Instance::run_engine(int64_t images) {
  if (!gpu_) return resnetrs_engine_run_host(engine_.get(), pixels_.data(), static_cast<int32_t>(images), logits_.data());
  // On the captured graph of the next configured size up; rows beyond `images` hold finite
  // pixels of earlier batches (or zeros) and their logits are not read.
  const int32_t batch = graph_batch_for(static_cast<int32_t>(images), graph_sizes_);
  return resnetrs_engine_run_device(engine_.get(), staging_->pixels(), batch, staging_->logits(), staging_->stream());
}

void Instance::write_output(const Pending& p) {
  const int64_t shape[2] = {p.batch, settings_.num_classes};
  TRITONBACKEND_Output* output = nullptr;
  throw_if_error(TRITONBACKEND_ResponseOutput(p.response, &output, kLogitsOutput, TRITONSERVER_TYPE_FP32, shape, 2),
                 "TRITONBACKEND_ResponseOutput");
  const uint64_t bytes = static_cast<uint64_t>(p.batch * settings_.num_classes) * sizeof(float);
  const uint64_t from = static_cast<uint64_t>(p.offset * settings_.num_classes) * sizeof(float);
  void* dst = nullptr;
  TRITONSERVER_MemoryType mem = preferred_memory(gpu_);
  int64_t mem_id = gpu_ ? device_ : 0;
  throw_if_error(TRITONBACKEND_OutputBuffer(output, &dst, bytes, &mem, &mem_id), "TRITONBACKEND_OutputBuffer");
  const Copy copy = output_copy(mem, mem_id, gpu_, device_, kLogitsOutput);
  if (copy == Copy::kHostToHost) {
    std::memcpy(dst, reinterpret_cast<const unsigned char*>(logits_.data()) + from, bytes);
  } else {
    staging_->copy_out(dst, bytes, from, copy, mem_id);
  }
}

void Instance::run_and_respond(std::vector<Pending>& group, int64_t images, uint64_t exec_start_ns) {
  const uint64_t compute_start = now_ns();
  resnetrs_status_t s = run_engine(images);
  std::string failure = s == RESNETRS_STATUS_OK ? std::string() : status_text(s);
  const bool ran = s == RESNETRS_STATUS_OK;
  std::vector<bool> ok(group.size(), ran);
  std::vector<BackendError> errors(group.size(), BackendError(TRITONSERVER_ERROR_INTERNAL, ""));
  if (ran) {
    for (size_t i = 0; i < group.size(); ++i) {
      try {
        write_output(group[i]);  // GPU instances: enqueued after the run on the instance's stream
      } catch (const BackendError& e) {
        ok[i] = false;
        errors[i] = e;
      }
    }
  }
  uint64_t compute_end = now_ns();
  bool synced = true;
  if (gpu_) {
    try {
      staging_->synchronize("the batch's run and output copies");
    } catch (const BackendError& e) {
      synced = false;
      failure = e.message();
    }
    compute_end = now_ns();
  }
  const BackendError run_error(ran ? TRITONSERVER_ERROR_INTERNAL : triton_code(s),
                               "the engine failed on a batch of " + std::to_string(images) + ": " + failure);
  for (size_t i = 0; i < group.size(); ++i) {
    if (!ran || !synced) {
      ok[i] = false;
      send(group[i].response, &run_error);
    } else {
      send(group[i].response, ok[i] ? nullptr : &errors[i]);
    }
  }
  const uint64_t exec_end = now_ns();
  for (size_t i = 0; i < group.size(); ++i) {
    log_if_error(TRITONBACKEND_ModelInstanceReportStatistics(triton_instance_, group[i].request, ok[i], exec_start_ns,
                                                              compute_start, compute_end, exec_end),
                 "TRITONBACKEND_ModelInstanceReportStatistics");
  }
  if (ran && synced) {
    log_if_error(TRITONBACKEND_ModelInstanceReportBatchStatistics(triton_instance_, static_cast<uint64_t>(images),
                                                                   exec_start_ns, compute_start, compute_end, exec_end),
                 "TRITONBACKEND_ModelInstanceReportBatchStatistics");
  }
  for (Pending& p : group) {
    log_if_error(TRITONBACKEND_RequestRelease(p.request, TRITONSERVER_REQUEST_RELEASE_ALL), "TRITONBACKEND_RequestRelease");
  }
}

}  // namespace resnetrs_triton
