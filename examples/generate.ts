/**
 * Text generation from a trained language model, as the 2020 lesson shows it: two samples of 40 words at
 * temperature 0.75, `xxunk` never sampled.
 *
 * ```sh
 * deno task demo                      # trains ./denofit-demo/lm.safetensors on SpamAssassin
 * deno run -A examples/generate.ts "Subject: free" --model ./denofit-demo/lm.safetensors
 * ```
 *
 * Flags: `--model FILE` (an LM from `denofit lm train` or the demo), `--words N` (40), `--temperature T` (0.75),
 * `--samples N` (2), `--min-p P` (0), `--seed N` (42).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { useBackend } from "../nn/mod.ts";
import { generateSamples } from "../text/mod.ts";

// ---- defaults of the 2020 lesson ----
const WORDS = 40;
const TEMPERATURE = 0.75;
const SAMPLES = 2;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      model: { type: "string", default: "./denofit-demo/lm.safetensors" },
      words: { type: "string", default: String(WORDS) },
      temperature: { type: "string", default: String(TEMPERATURE) },
      samples: { type: "string", default: String(SAMPLES) },
      "min-p": { type: "string", default: "0" },
      seed: { type: "string", default: "42" },
    },
  });
  const prompt = positionals[0] ?? "Subject:";
  await useBackend("cpu");
  const samples = generateSamples(values.model, prompt, {
    samples: Number(values.samples),
    nWords: Number(values.words),
    temperature: Number(values.temperature),
    minP: Number(values["min-p"]),
    seed: Number(values.seed),
  });
  let s = 0;
  for await (const text of samples) console.log(`--- sample ${++s}\n${text}`);
}

if (import.meta.main) await main();
