/*
 * resnetrs.h: the public C API of libresnetrs, an inference engine for the ResNet-RS image
 * classifiers (depths 50, 101, 152, 200, 270, 350, 420) on the CPU and on NVIDIA GPUs.
 *
 * C99, no CUDA or C++ types: only fixed-width integers, size_t for byte counts, float for
 * tensors and `void*` for a CUDA stream. Full reference: docs/c_api.md.
 *
 * ERRORS. Every fallible call returns a resnetrs_status_t (compilers warn when it is ignored).
 * On failure, resnetrs_last_error() gives a message naming the function and what was wrong.
 * No C++ exception ever leaves the library.
 *
 * OWNERSHIP.
 *  - An engine comes from resnetrs_engine_create_from_file() or _create_synthetic() and is freed
 *    by resnetrs_engine_destroy(), which accepts NULL.
 *  - The library never frees caller memory and never keeps a caller pointer after the call
 *    returns (run_device: until the work it enqueued has completed). Strings given to it
 *    (paths, options.tuning_cache_path) are copied.
 *  - Strings it returns are borrowed, never to be freed: status strings, the version and build
 *    info are static; resnetrs_last_error() stays valid until the next resnetrs_* call on the
 *    same thread.
 *
 * THREADING.
 *  - Every function may be called from any thread.
 *  - Different engines are independent and may run in parallel on different threads.
 *  - One engine may be shared by threads: resnetrs_engine_run_host() and _run_device() on the
 *    same engine are serialized by a mutex inside the engine (they share its working memory),
 *    so they are safe but take turns. For parallel inference, create one engine per thread.
 *    On the GPU, runs of one engine are also ordered on the device, whatever streams they use.
 *  - resnetrs_engine_get_info() may run concurrently with anything but destroy.
 *  - resnetrs_engine_destroy() must not overlap any other call on the same engine.
 *
 * VERSIONING. RESNETRS_API_VERSION is the version of this binary interface. resnetrs_options_init()
 * records this header's API version and struct size in the options, and engine creation refuses
 * options from a header the library does not implement (RESNETRS_STATUS_INVALID_ARGUMENT).
 * API version 2 added the image functions, RESNETRS_STATUS_IMAGE_INVALID and
 * resnetrs_engine_info_t.train_resolution; callers compiled against version 1 keep working.
 * API version 3 added resnetrs_weights_read_info() and resnetrs_weights_info_t.
 * API version 4 added resnetrs_options_t.cpu_threads and .cpu_winograd (resnetrs_cpu_winograd_t) and
 * resnetrs_engine_info_t.cpu_threads; options from callers compiled against versions 1-3 (their
 * shorter struct_size) keep working and get the defaults of the new fields.
 */
#ifndef RESNETRS_RESNETRS_H
#define RESNETRS_RESNETRS_H

#include <stddef.h>
#include <stdint.h>

#define RESNETRS_VERSION_MAJOR 0
#define RESNETRS_VERSION_MINOR 1
#define RESNETRS_VERSION_PATCH 0
/* The binary interface of this header: raised whenever a struct or a signature changes. */
#define RESNETRS_API_VERSION 4

/* Export marker: the library is built with hidden visibility and exports only these. */
#if defined(_WIN32)
#if defined(RESNETRS_BUILDING_LIBRARY)
#define RESNETRS_API __declspec(dllexport)
#else
#define RESNETRS_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define RESNETRS_API __attribute__((visibility("default")))
#else
#define RESNETRS_API
#endif

/* A status that is ignored is a bug: let the compiler say so. */
#if defined(__GNUC__) || defined(__clang__)
#define RESNETRS_NODISCARD __attribute__((warn_unused_result))
#elif defined(_MSC_VER)
#define RESNETRS_NODISCARD _Check_return_
#else
#define RESNETRS_NODISCARD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome of a call. The categories mirror the library's internal ones, in the same order. */
typedef enum resnetrs_status {
  RESNETRS_STATUS_OK = 0,
  RESNETRS_STATUS_INVALID_ARGUMENT = 1,   /* a NULL pointer, a bad value, a wrong struct_size or API version */
  RESNETRS_STATUS_IO_ERROR = 2,           /* a file cannot be opened, read or written */
  RESNETRS_STATUS_WEIGHTS_INVALID = 3,    /* the weights file is not a valid resnetrs-weights v1 file */
  RESNETRS_STATUS_OUT_OF_MEMORY = 4,      /* host or device memory ran out (retry with a smaller max_batch) */
  RESNETRS_STATUS_NO_DEVICE = 5,          /* no usable CUDA device or driver */
  RESNETRS_STATUS_UNSUPPORTED_DEVICE = 6, /* the device's architecture was not compiled in, or lacks a feature */
  RESNETRS_STATUS_CUDA_ERROR = 7,         /* the CUDA runtime failed */
  RESNETRS_STATUS_CUDNN_ERROR = 8,        /* cuDNN failed */
  RESNETRS_STATUS_CUBLAS_ERROR = 9,       /* cuBLAS failed */
  RESNETRS_STATUS_INTERNAL = 10,          /* a bug in the library: please report it with the message */
  RESNETRS_STATUS_IMAGE_INVALID = 11      /* an image that cannot be decoded: truncated, not JPEG/PNG, zero or absurd
                                             size, more pixels than the limit (API version 2) */
} resnetrs_status_t;

typedef enum resnetrs_backend {
  RESNETRS_BACKEND_CPU = 0, /* float32 engine on the host's cores (docs/cpu-engine.md) */
  RESNETRS_BACKEND_CUDA = 1 /* cuDNN/cuBLAS engine on an NVIDIA GPU */
} resnetrs_backend_t;

typedef enum resnetrs_precision {
  RESNETRS_PRECISION_FP32 = 0, /* strict IEEE fp32 math (no TF32); the only one the CPU backend has */
  RESNETRS_PRECISION_TF32 = 1, /* fp32 tensors, TF32 tensor-core math */
  RESNETRS_PRECISION_FP16 = 2,  /* 16-bit activations and weights, fp32 accumulation (CUDA; see below) */
  RESNETRS_PRECISION_BF16 = 3,  /* as FP16 with bfloat16 storage (CUDA, sm_80 and newer; see below) */
  RESNETRS_PRECISION_FP32X3 = 4 /* split-TF32: fp32 tensors, three TF32 products per multiply (CUDA, sm_80+) */
  /* FP16, BF16 and FP32X3 are refused (INVALID_ARGUMENT, naming the switch) by a library built without
     -DRESNETRS_UNVERIFIED_GPU=ON: no GPU has verified them yet (docs/cuda-engine.md). */
} resnetrs_precision_t;

typedef enum resnetrs_layout {
  RESNETRS_LAYOUT_NCHW = 0, /* input [batch, 3, height, width] */
  RESNETRS_LAYOUT_NHWC = 1  /* input [batch, height, width, 3] */
} resnetrs_layout_t;

/* Winograd convolutions of the CPU backend (its 3x3 stride-1 layers; API version 4). */
typedef enum resnetrs_cpu_winograd {
  RESNETRS_CPU_WINOGRAD_AUTO = 0, /* per layer, only where its measured error stays within 2x the direct
                                     convolution's and it is faster (the default) */
  RESNETRS_CPU_WINOGRAD_OFF = 1,  /* never: direct convolutions only */
  RESNETRS_CPU_WINOGRAD_FAST = 2  /* wherever it is faster, whatever its error (opt-in, less exact) */
} resnetrs_cpu_winograd_t;

/* An engine: one network, built for one backend, maximum batch and input resolution. Opaque. */
typedef struct resnetrs_engine resnetrs_engine_t;

/*
 * Engine options. Always start from resnetrs_options_init(), then change fields: it sets
 * struct_size and api_version, which engine creation checks. Enum-valued fields are int32_t so
 * the layout is the same for every compiler.
 */
typedef struct resnetrs_options {
  size_t struct_size;           /* sizeof(resnetrs_options_t) as the caller compiled it */
  uint32_t api_version;         /* RESNETRS_API_VERSION as the caller compiled it */
  int32_t backend;              /* resnetrs_backend_t; default RESNETRS_BACKEND_CUDA */
  int32_t device;               /* CUDA device ordinal, >= 0; default 0; ignored by the CPU backend */
  int32_t precision;            /* resnetrs_precision_t; default RESNETRS_PRECISION_FP32 (strict) */
  int32_t max_batch;            /* largest batch a run may pass, 1..65536; default 1 */
  int32_t height;               /* input resolution the engine is built for, 32..4096; default 224 */
  int32_t width;                /* default 224 */
  int32_t input_layout;         /* resnetrs_layout_t of the caller's pixels; default NCHW */
  int32_t cuda_graph;           /* 1: replay the forward pass as a CUDA graph; 0: launch eagerly; default 1 */
  size_t workspace_cap_bytes;   /* cap on the cuDNN workspace of one convolution; default 256 MiB */
  const char* tuning_cache_path;/* file caching algorithm choices between runs; NULL or "" = none; copied */
  /* API version 4 (a caller compiled against 1-3 gets the defaults): */
  int32_t cpu_threads;          /* threads of one CPU run, 0..1024; 0 (default) = the cores this process may
                                   run on (its CPU affinity); ignored by the CUDA backend */
  int32_t cpu_winograd;         /* resnetrs_cpu_winograd_t; default RESNETRS_CPU_WINOGRAD_AUTO; CPU backend only */
} resnetrs_options_t;

/* What an engine was built for and what it cost. The caller sets struct_size before the call. */
typedef struct resnetrs_engine_info {
  size_t struct_size;        /* in: sizeof(resnetrs_engine_info_t) */
  int32_t depth;             /* 50 ... 420 */
  int32_t num_classes;       /* logits per image */
  int32_t channels;          /* input channels: 3 (RGB) */
  int32_t height, width;     /* input resolution */
  int32_t input_layout;      /* resnetrs_layout_t */
  int32_t max_batch;
  int32_t backend;           /* resnetrs_backend_t */
  int32_t precision;         /* resnetrs_precision_t */
  int32_t device;            /* CUDA device ordinal; -1 on the CPU backend */
  int32_t cuda_graph;        /* 1 when runs replay a CUDA graph */
  int64_t trainable_params;  /* parameters as timm counts them (BN gamma/beta, not the statistics) */
  int64_t macs_per_image;    /* multiply-accumulates of one forward pass of one image */
  size_t device_bytes;       /* device memory the engine holds (weights, activations, workspace); 0 on the CPU */
  double load_ms;            /* wall time to read (or generate) and fold the weights */
  double build_ms;           /* wall time to build the engine, tuning included */
  double tune_ms;            /* of build_ms, the time spent choosing algorithms (0 when cached or none) */
  int32_t train_resolution;  /* the weights file's train_resolution (e.g. 160), 0 if unknown or synthetic (API 2) */
  int32_t cpu_threads;       /* threads a CPU run uses (cpu_threads resolved); 0 on the CUDA backend (API 4) */
} resnetrs_engine_info_t;

/* Facts about this library build and the CUDA libraries it runs with. All strings are static.
 * A CPU-only build (RESNETRS_CUDA=OFF) reports cuda_architectures and cuda_flags "" and every CUDA,
 * cuDNN and cuBLAS version 0. */
typedef struct resnetrs_build_info {
  size_t struct_size;              /* in: sizeof(resnetrs_build_info_t) */
  const char* version;             /* "MAJOR.MINOR.PATCH" */
  const char* git_commit;          /* short hash, or "unknown" */
  const char* build_type;          /* CMake build type, e.g. "Release" */
  const char* cuda_architectures;  /* e.g. "75;80;86;89;90" */
  const char* cxx_flags;
  const char* cuda_flags;
  const char* compiler;            /* C++ compiler name and version */
  int32_t api_version;             /* RESNETRS_API_VERSION of the library */
  int32_t cuda_runtime_version;    /* CUDA runtime linked in, e.g. 13000 for 13.0 */
  int32_t cuda_driver_version;     /* installed driver's CUDA version, 0 when there is no driver */
  int32_t cudnn_version_compiled;  /* cuDNN headers built against, e.g. 91900 for 9.19.0 */
  int32_t cudnn_version_runtime;   /* cuDNN library loaded now */
  int32_t cublas_version_runtime;  /* cuBLAS library loaded now, MAJOR*10000 + MINOR*100 + PATCH */
} resnetrs_build_info_t;

/* ---- status, errors, versions ------------------------------------------------------------ */

/* "OK", "INVALID_ARGUMENT", ... ; "UNKNOWN_STATUS" for a value outside the enum. Never NULL. */
RESNETRS_API const char* resnetrs_status_string(resnetrs_status_t status);

/* The message of the most recent failed call on this thread; "" if the most recent call
 * succeeded (every fallible call resets it). Never NULL. Valid until the next call on this thread. */
RESNETRS_API const char* resnetrs_last_error(void);

/* The library's version, "MAJOR.MINOR.PATCH" (static string). */
RESNETRS_API const char* resnetrs_version(void);

/* The library's RESNETRS_API_VERSION (compare with the header's to detect a mismatch early). */
RESNETRS_API uint32_t resnetrs_api_version(void);

/* Fills *info (info->struct_size must be sizeof(resnetrs_build_info_t)). Needs no GPU.
 * Errors: INVALID_ARGUMENT (NULL, wrong struct_size). */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_get_build_info(resnetrs_build_info_t* info);

/* ---- options ------------------------------------------------------------------------------ */

/* Fills *options with the defaults and stamps struct_size and api_version. Call it through the
 * macro resnetrs_options_init(&opts), which passes this header's sizeof and API version.
 * Errors: INVALID_ARGUMENT (NULL; a struct_size or API version this library does not implement,
 * i.e. header and library disagree). */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_options_init_versioned(resnetrs_options_t* options,
                                                                                  size_t struct_size,
                                                                                  uint32_t api_version);
#define resnetrs_options_init(options) \
  resnetrs_options_init_versioned((options), sizeof(resnetrs_options_t), RESNETRS_API_VERSION)

/* ---- engines ------------------------------------------------------------------------------ */

/*
 * Loads a resnetrs-weights v1 HDF5 file (docs/weights-format.md), folds batch norm and builds an
 * engine as *options says. On success *engine is a new engine; on failure it is set to NULL.
 * Options and, for the CUDA backend, the device are checked before the weights are read.
 * Errors: INVALID_ARGUMENT (NULL or bad options, header/library API mismatch, a CUDA device
 * ordinal that does not exist), IO_ERROR (missing or unreadable file), WEIGHTS_INVALID (not HDF5,
 * wrong format, missing dataset, wrong shape or dtype, non-finite values: the message names the
 * dataset), OUT_OF_MEMORY, NO_DEVICE (no CUDA device or driver), UNSUPPORTED_DEVICE, CUDA_ERROR,
 * CUDNN_ERROR, CUBLAS_ERROR (CUDA backend).
 */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_engine_create_from_file(const char* path,
                                                                                   const resnetrs_options_t* options,
                                                                                   resnetrs_engine_t** engine);

/*
 * Builds an engine with deterministic synthetic weights of realistic scale for `depth` (50, 101,
 * 152, 200, 270, 350 or 420; 1000 classes): the same (depth, seed) always gives the same
 * weights. For benchmarks and tests without a checkpoint; the predictions mean nothing.
 * Errors: as resnetrs_engine_create_from_file, less IO_ERROR and WEIGHTS_INVALID; a depth outside
 * the list is INVALID_ARGUMENT.
 */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_engine_create_synthetic(int32_t depth, uint64_t seed,
                                                                                   const resnetrs_options_t* options,
                                                                                   resnetrs_engine_t** engine);

/* Frees the engine after waiting for its pending device work. NULL is a no-op. */
RESNETRS_API void resnetrs_engine_destroy(resnetrs_engine_t* engine);

/* Fills *info (info->struct_size must be sizeof(resnetrs_engine_info_t)).
 * Errors: INVALID_ARGUMENT (NULL, wrong struct_size). */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_engine_get_info(const resnetrs_engine_t* engine,
                                                                           resnetrs_engine_info_t* info);

/*
 * Classifies `batch` images (1 <= batch <= max_batch) held in host memory and waits for the
 * result. input: float32 RGB pixels on the 0..255 scale (the engine normalizes them), in the
 * engine's input_layout at its height x width: batch * 3 * height * width floats.
 * logits: batch * num_classes floats, row-major [batch, num_classes], raw (before softmax).
 * Works on both backends. Errors: INVALID_ARGUMENT (NULL, batch out of range), OUT_OF_MEMORY,
 * CUDA_ERROR, CUDNN_ERROR, CUBLAS_ERROR.
 */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_engine_run_host(resnetrs_engine_t* engine, const float* input,
                                                                           int32_t batch, float* logits);

/*
 * As run_host with input and logits in device memory of the engine's GPU (cudaMalloc or managed).
 * `stream` is a cudaStream_t: the work is enqueued on it and the call returns without waiting;
 * the caller synchronizes the stream before reading logits or reusing input. stream == NULL uses
 * the engine's own stream and waits for completion before returning.
 * The CUDA backend only: a CPU engine returns INVALID_ARGUMENT.
 * Errors: INVALID_ARGUMENT (CPU engine, NULL, batch out of range, a pointer that is not device
 * memory of the engine's GPU), CUDA_ERROR, CUDNN_ERROR, CUBLAS_ERROR.
 */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_engine_run_device(resnetrs_engine_t* engine, const float* input,
                                                                             int32_t batch, float* logits, void* stream);

/* ---- weights files (docs/weights-format.md) ------------------------------------------------ */

/* What a weights file says about itself, read without building an engine (API version 3).
 * The caller sets struct_size before the call. */
typedef struct resnetrs_weights_info {
  size_t struct_size;            /* in: sizeof(resnetrs_weights_info_t) */
  int32_t format_version;        /* 1 */
  int32_t format_minor;          /* 0 (v1.0, no checksum), 1 (v1.1, checksum of the datasets only), 2 (v1.2) or newer */
  int32_t depth;                 /* 50 ... 420 */
  int32_t blocks_per_stage[4];   /* e.g. {3, 4, 6, 3} for depth 50 */
  int32_t num_classes;           /* logits per image */
  int32_t train_resolution;      /* the resolution the weights were trained at (e.g. 160), 0 if unknown */
  double bn_epsilon;             /* the epsilon of batch normalization */
  float input_mean[3];           /* RGB mean on the 0..255 pixel scale the engine subtracts */
  float input_std[3];            /* RGB std on the 0..255 pixel scale the engine divides by */
  /* The strings are valid UTF-8 and borrowed: the three variant names are static; source,
   * converter_version and checksum stay valid until the next resnetrs_weights_read_info() call on
   * the same thread. */
  const char* activation;           /* "relu" or "swish" */
  const char* stride2_padding;      /* "symmetric" or "same" */
  const char* stage1_shortcut_pool; /* "none" or "avg2x2_stride1_same" */
  const char* source;               /* where the weights came from, e.g. "timm:resnetrs50" */
  const char* converter_version;    /* the tool that wrote the file */
  const char* checksum;             /* "crc32:" and 8 hex digits; "" in a v1.0 file */
} resnetrs_weights_info_t;

/*
 * Reads what the weights file at `path` says about itself (*info), e.g. its train_resolution to
 * choose the engine's input size before creating it. The file's structure is parsed exactly as
 * resnetrs_engine_create_from_file() parses it (by libhdf5 in a separate helper process, the same
 * checks and refusals of the attributes and of every dataset's type, shape and storage), but the
 * datasets' values are not read, so the checksum, which covers them, is verified only when an
 * engine loads the file. *info is written only on success. Needs no GPU.
 * Errors: INVALID_ARGUMENT (NULL, wrong struct_size, empty path), IO_ERROR (missing or unreadable
 * file), WEIGHTS_INVALID (as resnetrs_engine_create_from_file, less the checks of values).
 */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_weights_read_info(const char* path, resnetrs_weights_info_t* info);

/* ---- images (docs/preprocessing.md) ------------------------------------------------------- */

/* How an image becomes S x S pixels for the engine. */
typedef enum resnetrs_preprocess {
  /* The release's evaluation transform (TF1): JPEG decoded as tf.io.decode_jpeg does by default
   * (integer-fast IDCT, fancy upsampling); centre crop of side int(S / (S + 32) * min(h, w));
   * TF1's legacy bicubic resize (a = -0.75, no half-pixel centres, no antialias). */
  RESNETRS_PREPROCESS_RELEASE = 0,
  /* timm's eval transform: JPEG decoded as PIL does (accurate IDCT); shortest side resized to
   * floor(S / crop_pct) with PIL's antialiased bicubic (8-bit, as PIL rounds); centre crop S x S. */
  RESNETRS_PREPROCESS_TIMM = 1
} resnetrs_preprocess_t;

/* The default limit on decoded pixels (width * height of the file's image): 100 megapixels. */
#define RESNETRS_IMAGE_DEFAULT_MAX_PIXELS 100000000

/*
 * Image options. Always start from resnetrs_image_options_init(), then change fields.
 */
typedef struct resnetrs_image_options {
  size_t struct_size;   /* sizeof(resnetrs_image_options_t) as the caller compiled it */
  uint32_t api_version; /* RESNETRS_API_VERSION as the caller compiled it (>= 2) */
  int32_t preprocess;   /* resnetrs_preprocess_t; default RESNETRS_PREPROCESS_RELEASE */
  int32_t height;       /* output size S; height == width required, 32..4096; default 224 */
  int32_t width;        /* default 224 */
  float crop_pct;       /* RESNETRS_PREPROCESS_TIMM only: in (0, 1]; default 0.875 (timm's default) */
  int32_t layout;       /* resnetrs_layout_t of the output pixels; default RESNETRS_LAYOUT_NCHW */
  int64_t max_pixels;   /* images with more pixels (width * height) are refused before decoding,
                           against decompression bombs; >= 1; default RESNETRS_IMAGE_DEFAULT_MAX_PIXELS */
} resnetrs_image_options_t;

/* Fills *options with the defaults; call it through the macro resnetrs_image_options_init(&o).
 * Errors: INVALID_ARGUMENT (NULL; a struct_size or API version this library does not implement). */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_image_options_init_versioned(resnetrs_image_options_t* options,
                                                                                        size_t struct_size,
                                                                                        uint32_t api_version);
#define resnetrs_image_options_init(options) \
  resnetrs_image_options_init_versioned((options), sizeof(resnetrs_image_options_t), RESNETRS_API_VERSION)

/*
 * Decodes the JPEG or PNG file at `path` (the format is told by its first bytes, not its name)
 * and writes the preprocessed image to out: 3 * height * width float32 RGB values on the 0..255
 * scale (unclipped), in options->layout, ready for resnetrs_engine_run_host. Grayscale images
 * are replicated to RGB, CMYK/YCCK JPEGs converted to RGB, an alpha channel is dropped (not
 * composited), 16-bit PNG samples keep their high byte. out is written only on success.
 * Errors: INVALID_ARGUMENT (NULL, bad options), IO_ERROR (the file cannot be opened or read),
 * IMAGE_INVALID (not a JPEG or PNG, truncated or corrupt data, a zero-sized image, more pixels
 * than options->max_pixels, too small for the centre crop); the message names the file.
 */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_image_load_file(const char* path,
                                                                           const resnetrs_image_options_t* options,
                                                                           float* out);

/* As resnetrs_image_load_file with the encoded file's bytes in memory (size bytes at data).
 * Errors: as resnetrs_image_load_file, less IO_ERROR. */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_image_load_memory(const void* data, size_t size,
                                                                             const resnetrs_image_options_t* options,
                                                                             float* out);

/* ---- helpers ------------------------------------------------------------------------------ */

/*
 * The k most likely classes of each row of logits [batch, classes], best first (ties: lower class
 * index first). out_indices: batch * k class indices. out_probs: batch * k SOFTMAX PROBABILITIES
 * (of all `classes` logits, computed in double), or NULL when only indices are wanted.
 * Errors: INVALID_ARGUMENT (NULL, batch < 1, classes < 1, k outside 1..classes, a non-finite logit).
 */
RESNETRS_API RESNETRS_NODISCARD resnetrs_status_t resnetrs_topk(const float* logits, int32_t batch, int32_t classes,
                                                                int32_t k, int32_t* out_indices, float* out_probs);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* RESNETRS_RESNETRS_H */
