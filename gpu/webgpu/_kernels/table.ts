/**
 * Every WebGPU kernel by name: the union of the family tables, one file per family with the same names as the
 * CPU backend's `../../cpu/_kernels/`. The type makes a missing or misspelt kernel a compile error.
 *
 * @module
 */

import type { GpuKernels } from "../_context.ts";
import { CONV_KERNELS } from "./conv.ts";
import { ELEMENTWISE_KERNELS } from "./elementwise.ts";
import { INDEX_KERNELS } from "./index.ts";
import { MATMUL_KERNELS } from "./matmul.ts";
import { OPTIM_KERNELS } from "./optim.ts";
import { POOL_KERNELS } from "./pool.ts";
import { RANDOM_KERNELS } from "./random.ts";
import { REDUCE_KERNELS } from "./reduce.ts";
import { RNN_KERNELS } from "./rnn.ts";
import { ROWS_KERNELS } from "./rows.ts";

/** The WebGPU backend's dispatch table. */
export const GPU_KERNELS: GpuKernels = {
  ...ELEMENTWISE_KERNELS,
  ...REDUCE_KERNELS,
  ...ROWS_KERNELS,
  ...INDEX_KERNELS,
  ...RANDOM_KERNELS,
  ...RNN_KERNELS,
  ...OPTIM_KERNELS,
  ...MATMUL_KERNELS,
  ...CONV_KERNELS,
  ...POOL_KERNELS,
};
