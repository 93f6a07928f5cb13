// The timing subcommand: decides the mode (release table, reduced CPU table, one config), runs
// each config with batch halving on OOM, prints progress on stderr and the table on stdout,
// and writes --json.
#pragma once

#include "args.h"

namespace bench {

// Returns the exit status: 0 when every config ran, 1 when any failed.
int run_bench(const BenchArgs& args);

}  // namespace bench
