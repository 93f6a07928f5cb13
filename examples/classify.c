/*
 * classify.c: the libresnetrs C API end to end. Builds an engine from a weights file (or from
 * synthetic weights), classifies a batch of images and prints the top-5 classes of each.
 *
 *   classify --weights rs50.h5 [--input pixels.f32] [--res 160] [--batch 2] [--backend cpu|cuda]
 *   classify --synthetic 50 [--seed 1] [--res 64] [--batch 2] [--backend cpu|cuda]
 *
 * --input: raw little-endian float32 RGB pixels on the 0..255 scale, NCHW [batch, 3, res, res]
 * (decode and resize your images into that; this example has no image decoder). Without it, a
 * deterministic test pattern is classified. Exit status: 0 on success, 1 on an API error, 2 on
 * bad flags.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <resnetrs/resnetrs.h>

#define TOPK 5

static void usage(void) {
  fprintf(stderr,
          "usage: classify (--weights FILE.h5 | --synthetic DEPTH) [--input PIXELS.f32] [--res N] [--batch N]\n"
          "                [--backend cpu|cuda] [--device N] [--seed N]\n");
}

/* Prints the failed call, its status and the library's message; returns 1 (the exit status). */
static int report(const char* call, resnetrs_status_t status) {
  fprintf(stderr, "classify: %s failed: %s: %s\n", call, resnetrs_status_string(status), resnetrs_last_error());
  return 1;
}

static int parse_int(const char* s, int* out) {
  char* end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < -2147483647L || v > 2147483647L) return 0;
  *out = (int)v;
  return 1;
}

/* A deterministic pattern: smooth gradients that differ per image and channel. */
static void test_pattern(float* pixels, int batch, int res) {
  int b, c, y, x;
  for (b = 0; b < batch; ++b)
    for (c = 0; c < 3; ++c)
      for (y = 0; y < res; ++y)
        for (x = 0; x < res; ++x)
          pixels[(((size_t)b * 3 + c) * res + y) * res + x] = (float)((x * (c + 1) + y * (b + 2) * 3 + 40 * c) % 256);
}

static int read_pixels(const char* path, float* pixels, size_t count) {
  FILE* f = fopen(path, "rb");
  size_t got;
  if (!f) {
    fprintf(stderr, "classify: cannot open --input '%s'\n", path);
    return 0;
  }
  got = fread(pixels, sizeof(float), count, f);
  fclose(f);
  if (got != count) {
    fprintf(stderr, "classify: --input '%s' holds %zu floats, expected %zu (batch x 3 x res x res)\n", path, got, count);
    return 0;
  }
  return 1;
}

int main(int argc, char** argv) {
  const char* weights = NULL;
  const char* input_path = NULL;
  int depth = 0, res = 224, batch = 1, seed = 1, device = 0, i, b, k;
  int backend = RESNETRS_BACKEND_CPU;
  resnetrs_options_t opts;
  resnetrs_engine_info_t info;
  resnetrs_engine_t* engine = NULL;
  resnetrs_status_t st;
  float *pixels = NULL, *logits = NULL, *probs = NULL;
  int32_t* top = NULL;
  int exit_code = 1;

  for (i = 1; i < argc; ++i) {
    const char* flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    int ok = value != NULL;
    if (strcmp(flag, "--help") == 0) {
      usage();
      return 0;
    } else if (ok && strcmp(flag, "--weights") == 0) {
      weights = value;
    } else if (ok && strcmp(flag, "--input") == 0) {
      input_path = value;
    } else if (ok && strcmp(flag, "--synthetic") == 0) {
      ok = parse_int(value, &depth);
    } else if (ok && strcmp(flag, "--res") == 0) {
      ok = parse_int(value, &res);
    } else if (ok && strcmp(flag, "--batch") == 0) {
      ok = parse_int(value, &batch) && batch >= 1;
    } else if (ok && strcmp(flag, "--seed") == 0) {
      ok = parse_int(value, &seed);
    } else if (ok && strcmp(flag, "--device") == 0) {
      ok = parse_int(value, &device);
    } else if (ok && strcmp(flag, "--backend") == 0) {
      if (strcmp(value, "cpu") == 0) backend = RESNETRS_BACKEND_CPU;
      else if (strcmp(value, "cuda") == 0) backend = RESNETRS_BACKEND_CUDA;
      else ok = 0;
    } else {
      ok = 0;
    }
    if (!ok) {
      fprintf(stderr, "classify: bad or incomplete flag '%s'\n", flag);
      usage();
      return 2;
    }
    ++i;
  }
  if ((weights == NULL) == (depth == 0)) {
    fprintf(stderr, "classify: give exactly one of --weights FILE and --synthetic DEPTH\n");
    usage();
    return 2;
  }

  /* Options: start from the defaults, then say what differs. */
  st = resnetrs_options_init(&opts);
  if (st != RESNETRS_STATUS_OK) return report("resnetrs_options_init", st);
  opts.backend = backend;
  opts.device = device;
  opts.max_batch = batch;
  opts.height = res;
  opts.width = res;
  opts.input_layout = RESNETRS_LAYOUT_NCHW;

  if (weights) {
    st = resnetrs_engine_create_from_file(weights, &opts, &engine);
    if (st != RESNETRS_STATUS_OK) return report("resnetrs_engine_create_from_file", st);
  } else {
    st = resnetrs_engine_create_synthetic(depth, (uint64_t)seed, &opts, &engine);
    if (st != RESNETRS_STATUS_OK) return report("resnetrs_engine_create_synthetic", st);
  }

  memset(&info, 0, sizeof(info));
  info.struct_size = sizeof(info);
  st = resnetrs_engine_get_info(engine, &info);
  if (st != RESNETRS_STATUS_OK) {
    exit_code = report("resnetrs_engine_get_info", st);
    goto done;
  }
  printf("libresnetrs %s: RS-%d, %d classes, %dx%d input, %s backend, built in %.0f ms (weights %.0f ms)\n",
         resnetrs_version(), (int)info.depth, (int)info.num_classes, (int)info.height, (int)info.width,
         info.backend == RESNETRS_BACKEND_CPU ? "cpu" : "cuda", info.build_ms, info.load_ms);

  pixels = malloc(sizeof(float) * (size_t)batch * 3 * (size_t)res * (size_t)res);
  logits = malloc(sizeof(float) * (size_t)batch * (size_t)info.num_classes);
  top = malloc(sizeof(int32_t) * (size_t)batch * TOPK);
  probs = malloc(sizeof(float) * (size_t)batch * TOPK);
  if (!pixels || !logits || !top || !probs) {
    fprintf(stderr, "classify: out of memory\n");
    goto done;
  }
  if (input_path) {
    if (!read_pixels(input_path, pixels, (size_t)batch * 3 * (size_t)res * (size_t)res)) goto done;
  } else {
    test_pattern(pixels, batch, res);
  }

  st = resnetrs_engine_run_host(engine, pixels, batch, logits);
  if (st != RESNETRS_STATUS_OK) {
    exit_code = report("resnetrs_engine_run_host", st);
    goto done;
  }
  st = resnetrs_topk(logits, batch, info.num_classes, TOPK, top, probs);
  if (st != RESNETRS_STATUS_OK) {
    exit_code = report("resnetrs_topk", st);
    goto done;
  }
  for (b = 0; b < batch; ++b) {
    printf("image %d top-%d:", b, TOPK);
    for (k = 0; k < TOPK; ++k) printf(" %d (p=%.4f)", (int)top[b * TOPK + k], probs[b * TOPK + k]);
    printf("\n");
  }
  exit_code = 0;

done:
  free(pixels);
  free(logits);
  free(top);
  free(probs);
  resnetrs_engine_destroy(engine);
  return exit_code;
}
