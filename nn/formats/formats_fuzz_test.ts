/**
 * Property-based tests of the checkpoint readers (fast-check, seeded and time-bounded: see `nn/_fuzz.ts`):
 * safetensors round-trips every bit; safetensors and PyTorch files (zip and legacy pickle) mutated or truncated at
 * random give a typed {@linkcode CheckpointError} or tensors that are consistent, never another error. The work
 * is bounded by the input (a visit budget of the file's size): deeply nested or heavily shared pickles are
 * typed errors, not stack overflows.
 */
import { fc, fuzzParams } from "../_fuzz.ts";
import { CheckpointError } from "./errors.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import type { HostTensor, TensorMap } from "./tensor_map.ts";
import { decodeTorchCheckpoint } from "./torch.ts";
import { cat, zip } from "./_test_zip.ts";

const shape = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 3 });
const tensor: fc.Arbitrary<HostTensor> = fc.tuple(shape, fc.boolean()).chain(
  ([s, f32]): fc.Arbitrary<HostTensor> => {
    const n = s.reduce((a, b) => a * b, 1);
    return f32
      ? fc.float32Array({ minLength: n, maxLength: n }).map((d): HostTensor => ({
        dtype: "f32",
        shape: s,
        data: d,
      }))
      : fc.int32Array({ minLength: n, maxLength: n }).map((d): HostTensor => ({
        dtype: "i32",
        shape: s,
        data: d,
      }));
  },
);
const tensors = fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), tensor), {
  maxLength: 5,
  selector: ([k]) => k,
}).map((es) => new Map(es) as TensorMap);
const metadata = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 });

const bits = (t: HostTensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).join();

type Mutation = { at: number; kind: "flip" | "set" | "cut"; value: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("flip" as const, "set" as const, "cut" as const),
  value: fc.integer({ min: 0, max: 255 }),
});
function mutate(bytes: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = bytes.slice();
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === "cut") b = b.slice(0, at);
    else b[at] = m.kind === "flip" ? b[at]! ^ (1 << (m.value & 7)) : m.value;
  }
  return b;
}

/** A decoded file is either a typed error or tensors whose data fill their shapes. */
function typedOrConsistent(decode: () => { tensors: TensorMap }): void {
  let file;
  try {
    file = decode();
  } catch (e) {
    if (e instanceof CheckpointError) return;
    throw new Error(`not a CheckpointError: ${e instanceof Error ? e.stack : e}`);
  }
  for (const [k, t] of file.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`${k}: ${t.data.length} values for shape [${t.shape}]`);
  }
}

Deno.test("fuzz: safetensors round-trips every bit of random tensors and metadata", () => {
  fc.assert(
    fc.property(tensors, metadata, (ts, meta) => {
      const back = decodeSafetensors(encodeSafetensors(ts, { metadata: meta }));
      if (JSON.stringify(back.metadata) !== JSON.stringify(meta)) throw new Error("metadata changed");
      if ([...back.tensors.keys()].sort().join("\n") !== [...ts.keys()].sort().join("\n")) {
        throw new Error("names");
      }
      for (const [k, t] of ts) {
        const b = back.tensors.get(k)!;
        if (b.dtype !== t.dtype || b.shape.join() !== t.shape.join() || bits(b) !== bits(t)) {
          throw new Error(`${k} changed`);
        }
      }
    }),
    fuzzParams(),
  );
});

Deno.test("fuzz: mutated or truncated safetensors: a typed error or consistent tensors; a cut file always errs", () => {
  fc.assert(
    fc.property(tensors, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.nat(), (ts, ms, cut) => {
      const bytes = encodeSafetensors(ts);
      typedOrConsistent(() => decodeSafetensors(mutate(bytes, ms)));
      const short = bytes.subarray(0, cut % bytes.length);
      try {
        decodeSafetensors(short);
      } catch (e) {
        if (e instanceof CheckpointError) return;
        throw e;
      }
      throw new Error(`a file cut to ${short.length} of ${bytes.length} bytes was accepted`);
    }),
    fuzzParams(),
  );
});

const FIXTURES = ["basic.pt", "basic_legacy.pt", "nested.pt", "awd_v2.pt"];
const fixtures = await Promise.all(
  FIXTURES.map((f) => Deno.readFile(new URL(`../../tests/fixtures/checkpoint/${f}`, import.meta.url))),
);

Deno.test("fuzz: mutated or truncated PyTorch files (zip and legacy): a typed error or consistent tensors", () => {
  for (const f of fixtures) typedOrConsistent(() => decodeTorchCheckpoint(f)); // the fixtures themselves
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: fixtures.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (i, ms) =>
        typedOrConsistent(() => decodeTorchCheckpoint(mutate(fixtures[i]!, ms), { file: FIXTURES[i]! })),
    ),
    fuzzParams(),
  );
});

Deno.test("fuzz: random pickles in a torch zip: a typed error or consistent tensors, whatever the opcodes", () => {
  // bytes drawn mostly from the opcodes a state dict uses, so that deep nesting, sharing and odd stacks occur
  const op = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(..."]}()tlauesq0hgjr.NJK".split("")) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)) },
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      typedOrConsistent(() => decodeTorchCheckpoint(zip({ "m/data.pkl": cat("\x80\x02", ops.join("")) })));
    }),
    fuzzParams(),
  );
});

Deno.test("pickles nested or shared far beyond any state dict are typed errors, not stack overflows", () => {
  for (const depth of [1_000, 100_000]) {
    // depth empty lists, each appended to the one before: lists nested `depth` deep
    const nested = cat("\x80\x02", "]".repeat(depth), "a".repeat(depth - 1), ".");
    typedOrConsistent(() => decodeTorchCheckpoint(zip({ "m/data.pkl": nested })));
    const dicts = cat("\x80\x02", "}".repeat(depth), "X\x01\x00\x00\x00ks".repeat(depth - 1), ".");
    typedOrConsistent(() => decodeTorchCheckpoint(zip({ "m/data.pkl": dicts })));
  }
});
