import type { MaxPool2dAttrs } from "../../backend.ts";
import { assertClose, assertThrows, outView, readView, store } from "../_test_util.ts";
import { CpuBackend } from "../mod.ts";

const MAX: MaxPool2dAttrs = {
  kernel: [2, 2],
  stride: [2, 2],
  padding: [0, 0],
  dilation: [1, 1],
  ceilMode: false,
};

Deno.test("maxPool2d kernel: first maximum on ties, the last NaN wins, gradient to the index", () => {
  const cpu = new CpuBackend();
  // One 4x4 plane: window (0,0) ties at 5; window (0,1) has two NaNs; window (1,0) all -inf.
  const plane = [5, 5, 1, NaN, 0, 5, NaN, 2, -Infinity, -Infinity, 7, 8, -Infinity, -Infinity, 9, 6];
  const x = { storage: store(cpu, "f32", plane), shape: [1, 1, 4, 4], strides: [16, 16, 4, 1], offset: 0 };
  const y = outView(cpu, [1, 1, 2, 2]), idx = outView(cpu, [1, 1, 2, 2], "i32");
  cpu.run("maxPool2d", [x], [y, idx], MAX);
  assertClose(readView(cpu, y), [5, NaN, -Infinity, 9], "maxima");
  assertClose(readView(cpu, idx), [0, 6, 8, 14], "indices: first tie, last NaN, first -inf, 9");
  const dy = {
    storage: store(cpu, "f32", [1, 2, 3, 4]),
    shape: [1, 1, 2, 2],
    strides: [4, 4, 2, 1],
    offset: 0,
  };
  const dx = outView(cpu, [1, 1, 4, 4]);
  cpu.run("maxPool2dBackward", [dy, idx], [dx], MAX);
  const want = new Array(16).fill(0);
  want[0] = 1, want[6] = 2, want[8] = 3, want[14] = 4;
  assertClose(readView(cpu, dx), want, "gradient scattered to the indices");
  cpu.dispose();
});

Deno.test("pooling kernels reject bad geometry and shapes naming them", () => {
  const cpu = new CpuBackend();
  const x = outView(cpu, [1, 2, 5, 5]);
  assertThrows(
    () => cpu.run("maxPool2d", [x], [outView(cpu, [1, 2, 3, 3]), outView(cpu, [1, 2, 3, 3], "i32")], MAX),
    [
      "maxPool2d",
      "pools to [1, 2, 2, 2]",
    ],
  );
  assertThrows(
    () => cpu.run("maxPool2d", [x], [outView(cpu, [1, 2, 2, 2]), outView(cpu, [1, 2, 2, 2])], MAX),
    ["indices", "i32"],
  );
  assertThrows(() => cpu.run("maxPool2d", [x], [outView(cpu, [1, 2, 2, 2])], { ...MAX, padding: [2, 2] }), [
    "maxPool2d",
  ]);
  const avg = {
    kernel: [3, 3],
    stride: [1, 1],
    padding: [2, 0],
    ceilMode: false,
    countIncludePad: true,
    divisorOverride: 0,
  } as const;
  assertThrows(() => cpu.run("avgPool2d", [x], [outView(cpu, [1, 2, 7, 3])], avg), [
    "at most half the kernel",
  ]);
  const idx = {
    storage: store(cpu, "i32", [0, 99, 0, 0]),
    shape: [1, 1, 2, 2],
    strides: [4, 4, 2, 1],
    offset: 0,
  };
  assertThrows(
    () => cpu.run("maxPool2dBackward", [outView(cpu, [1, 1, 2, 2]), idx], [outView(cpu, [1, 1, 4, 4])], MAX),
    [
      "index 99",
    ],
  );
  assertThrows(() => cpu.run("adaptiveAvgPool2d", [x], [outView(cpu, [1, 3, 2, 2])], {}), [
    "adaptiveAvgPool2d",
  ]);
  cpu.dispose();
});
