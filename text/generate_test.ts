import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { generate, type GeneratingModel } from "./generate.ts";
import { fromArray, type Tensor } from "../nn/tensor.ts";
import { MAJ, SPECIAL_TOKENS } from "./special_tokens.ts";

const itos = [...SPECIAL_TOKENS, "hello", "world"];

/** A model whose every step puts all probability on `next(step)`. */
function scripted(next: (step: number) => string): GeneratingModel {
  let step = 0;
  return {
    forward(ids: Tensor) {
      const t = ids.shape[1]!;
      const logits = new Float32Array(t * itos.length).fill(-30);
      for (let i = 0; i < t; i++) logits[i * itos.length + itos.indexOf(next(step))] = 30;
      step++;
      return { output: fromArray(logits, [1, t, itos.length]) };
    },
    reset() {
      step = 0;
    },
    eval() {},
  };
}

Deno.test("generate() decodes like fastai", async (t) => {
  await t.step("a sample ending on a case marker drops the marker, not its text", async () => {
    // the prompt step samples "world", the next step xxmaj (the last sampled token)
    const model = scripted((s) => (s >= 1 ? MAJ : "world"));
    const r = await generate(model, "hello", { itos, nWords: 2, temperature: 1 });
    assertEquals(r.tokens, ["world", MAJ]);
    assertEquals(r.text, "hello world");
  });
  await t.step("a case marker inside the sample capitalises the next word", async () => {
    const model = scripted((s) => (s === 0 ? MAJ : "world"));
    const r = await generate(model, "hello", { itos, nWords: 2, temperature: 1 });
    assertEquals(r.tokens, [MAJ, "world"]);
    assertEquals(r.text, "hello World");
  });
});
