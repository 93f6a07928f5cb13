// libtriton_resnetrs.so: the TRITONBACKEND_* entry points Triton Inference Server calls. Each
// converts exceptions to a TRITONSERVER_Error* (guarded()); the work is in model_settings.cpp
// (config.pbtxt) and instance.cpp (one engine per instance, batching, responses).
#include <memory>
#include <string>

#include <resnetrs/resnetrs.h>
#include <triton/core/tritonbackend.h>

#include "instance.h"
#include "model_settings.h"
#include "triton_errors.h"

// The entry points are the only symbols the library exports (built with hidden visibility).
#define RESNETRS_TRITON_EXPORT extern "C" __attribute__((visibility("default")))

namespace resnetrs_triton {
namespace {

struct MessageDeleter {
  void operator()(TRITONSERVER_Message* m) const {
    TRITONSERVER_Error* err = TRITONSERVER_MessageDelete(m);
    if (err != nullptr) TRITONSERVER_ErrorDelete(err);
  }
};

// The model's state: its settings, shared read-only by its instances.
struct ModelState {
  ModelSettings settings;
};

}  // namespace
}  // namespace resnetrs_triton

using namespace resnetrs_triton;

RESNETRS_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_Initialize(TRITONBACKEND_Backend* backend) {
  return guarded([&] {
    const char* name = nullptr;
    throw_if_error(TRITONBACKEND_BackendName(backend, &name), "TRITONBACKEND_BackendName");
    uint32_t major = 0, minor = 0;
    throw_if_error(TRITONBACKEND_ApiVersion(&major, &minor), "TRITONBACKEND_ApiVersion");
    if (major != TRITONBACKEND_API_VERSION_MAJOR || minor < TRITONBACKEND_API_VERSION_MINOR) {
      fail(TRITONSERVER_ERROR_UNSUPPORTED,
           "the server implements backend API " + std::to_string(major) + "." + std::to_string(minor) +
               "; this backend needs " + std::to_string(TRITONBACKEND_API_VERSION_MAJOR) + "." +
               std::to_string(TRITONBACKEND_API_VERSION_MINOR) + " or a later minor version");
    }
    // A newer library keeps the older versions' interface (resnetrs.h, VERSIONING); an older one lacks ours.
    if (resnetrs_api_version() < RESNETRS_API_VERSION) {
      fail(TRITONSERVER_ERROR_UNSUPPORTED, "libresnetrs implements C API version " +
                                               std::to_string(resnetrs_api_version()) + "; this backend needs " +
                                               std::to_string(RESNETRS_API_VERSION) + " or later");
    }
    RESNETRS_TRITON_LOG(TRITONSERVER_LOG_INFO, std::string("backend '") + name + "': libresnetrs " +
                                                   resnetrs_version() + ", server backend API " +
                                                   std::to_string(major) + "." + std::to_string(minor));
  });
}

RESNETRS_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model) {
  return guarded([&] {
    const char* name = nullptr;
    uint64_t version = 0;
    TRITONBACKEND_ArtifactType artifact;
    const char* location = nullptr;
    throw_if_error(TRITONBACKEND_ModelName(model, &name), "TRITONBACKEND_ModelName");
    throw_if_error(TRITONBACKEND_ModelVersion(model, &version), "TRITONBACKEND_ModelVersion");
    throw_if_error(TRITONBACKEND_ModelRepository(model, &artifact, &location), "TRITONBACKEND_ModelRepository");
    if (artifact != TRITONBACKEND_ARTIFACT_FILESYSTEM) {
      fail(TRITONSERVER_ERROR_UNSUPPORTED, std::string("model '") + name + "': only filesystem model repositories are supported");
    }
    TRITONSERVER_Message* raw = nullptr;
    throw_if_error(TRITONBACKEND_ModelConfig(model, 1, &raw), "TRITONBACKEND_ModelConfig");
    std::unique_ptr<TRITONSERVER_Message, MessageDeleter> config(raw);
    const char* json = nullptr;
    size_t size = 0;
    throw_if_error(TRITONSERVER_MessageSerializeToJson(config.get(), &json, &size), "TRITONSERVER_MessageSerializeToJson");
    auto state = std::make_unique<ModelState>();
    try {
      state->settings = parse_model_settings(std::string(json, size), std::string(location) + "/" + std::to_string(version));
    } catch (const BackendError& e) {
      fail(e.code(), std::string("model '") + name + "' config.pbtxt: " + e.message());
    }
    throw_if_error(TRITONBACKEND_ModelSetState(model, state.get()), "TRITONBACKEND_ModelSetState");
    state.release();  // owned by Triton until TRITONBACKEND_ModelFinalize
  });
}

RESNETRS_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* model) {
  return guarded([&] {
    void* state = nullptr;
    throw_if_error(TRITONBACKEND_ModelState(model, &state), "TRITONBACKEND_ModelState");
    delete static_cast<ModelState*>(state);
  });
}

RESNETRS_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceInitialize(TRITONBACKEND_ModelInstance* instance) {
  return guarded([&] {
    TRITONBACKEND_Model* model = nullptr;
    void* model_state = nullptr;
    throw_if_error(TRITONBACKEND_ModelInstanceModel(instance, &model), "TRITONBACKEND_ModelInstanceModel");
    throw_if_error(TRITONBACKEND_ModelState(model, &model_state), "TRITONBACKEND_ModelState");
    auto state = std::make_unique<Instance>(instance, static_cast<ModelState*>(model_state)->settings);
    throw_if_error(TRITONBACKEND_ModelInstanceSetState(instance, state.get()), "TRITONBACKEND_ModelInstanceSetState");
    state.release();  // owned by Triton until TRITONBACKEND_ModelInstanceFinalize
  });
}

RESNETRS_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceFinalize(TRITONBACKEND_ModelInstance* instance) {
  return guarded([&] {
    void* state = nullptr;
    throw_if_error(TRITONBACKEND_ModelInstanceState(instance, &state), "TRITONBACKEND_ModelInstanceState");
    delete static_cast<Instance*>(state);  // destroys the engine and frees the staging buffers
  });
}

RESNETRS_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceExecute(TRITONBACKEND_ModelInstance* instance,
                                                                              TRITONBACKEND_Request** requests,
                                                                              const uint32_t request_count) {
  void* state = nullptr;
  TRITONSERVER_Error* err = TRITONBACKEND_ModelInstanceState(instance, &state);
  if (err != nullptr) return err;  // nothing released yet: Triton answers the requests itself
  try {
    static_cast<Instance*>(state)->execute(requests, request_count);
  } catch (...) {
    // execute() answers and releases each request itself and handles every BackendError; only a
    // failed allocation can reach here, after some requests were released, so returning an
    // error (which hands all of them back to Triton) would be wrong: log it.
    RESNETRS_TRITON_LOG(TRITONSERVER_LOG_ERROR, "unexpected exception in execute (out of memory?)");
  }
  return nullptr;
}
