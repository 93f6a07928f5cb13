/* The public header compiled as strict C99 (-std=c99 -Wpedantic -Werror) and used from C: the
 * calls that need no engine. The engine itself is exercised from C by examples/classify.c. */
#include <stdio.h>
#include <string.h>

#include "resnetrs/resnetrs.h"

#define EXPECT(cond)                                             \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "c_smoke: %s failed (line %d)\n", #cond, __LINE__); \
      return 1;                                                  \
    }                                                            \
  } while (0)

int main(void) {
  resnetrs_options_t opts;
  resnetrs_build_info_t build;
  resnetrs_engine_t* engine = NULL;
  const float logits[4] = {0.0f, 2.0f, 1.0f, -1.0f};
  int32_t idx[2];
  float probs[2];

  EXPECT(resnetrs_options_init(&opts) == RESNETRS_STATUS_OK);
  EXPECT(opts.struct_size == sizeof(opts) && opts.api_version == RESNETRS_API_VERSION);
  EXPECT(resnetrs_api_version() == RESNETRS_API_VERSION);
  EXPECT(opts.cpu_threads == 0 && opts.cpu_winograd == RESNETRS_CPU_WINOGRAD_AUTO);

  memset(&build, 0, sizeof(build));
  build.struct_size = sizeof(build);
  EXPECT(resnetrs_get_build_info(&build) == RESNETRS_STATUS_OK);
  EXPECT(strcmp(build.version, resnetrs_version()) == 0);

  opts.backend = RESNETRS_BACKEND_CPU;
  opts.max_batch = 0;
  EXPECT(resnetrs_engine_create_synthetic(50, 1, &opts, &engine) == RESNETRS_STATUS_INVALID_ARGUMENT);
  EXPECT(engine == NULL);
  EXPECT(strstr(resnetrs_last_error(), "max_batch") != NULL);
  resnetrs_engine_destroy(NULL);

  EXPECT(resnetrs_topk(logits, 1, 4, 2, idx, probs) == RESNETRS_STATUS_OK);
  EXPECT(idx[0] == 1 && idx[1] == 2 && probs[0] > probs[1]);
  printf("c_smoke: libresnetrs %s (API %u), C99 header OK\n", resnetrs_version(), (unsigned)resnetrs_api_version());
  return 0;
}
