import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { META_BACKWARDS, readSafetensors } from "../nn/mod.ts";

/** Run the example in a child process (as a user would) and return its last JSON line and its stderr. */
async function runExample(
  args: string[],
): Promise<{ code: number; result?: Record<string, number>; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-run",
      "examples/ulmfit_spam.ts",
      ...args,
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const last = lines.at(-1) ?? "";
  return {
    code: out.code,
    ...(last.startsWith("{") ? { result: JSON.parse(last) } : {}),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("examples/ulmfit_spam.ts --full: forward + backwards processes and their ensemble", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    // tiny sizes: the plumbing of the full recipe, not its accuracy (bench/RESULTS.md has that)
    const { code, result, stderr } = await runExample([
      "--full",
      "--store",
      `${dir}/s.sqlite`,
      "--out",
      `${dir}/out`,
      "--metrics",
      `${dir}/m.jsonl`,
      "--probs-out",
      `${dir}/fwd.json`,
      "--quiet",
      "--lm-epochs",
      "1",
      "--lm-max-tokens",
      "12",
      "--max-tokens",
      "12",
      "--clas-epochs",
      "1",
      "--text-chars",
      "300",
      "--max-vocab",
      "600",
    ]);
    assertEquals(code, 0, stderr);
    const r = result!;
    await t.step("the ensemble is the mean of the two models' saved probabilities", async () => {
      const fwd = JSON.parse(await Deno.readTextFile(`${dir}/fwd.json`));
      const bwd = JSON.parse(await Deno.readTextFile(`${dir}/out/bwd_valid_probs.json`));
      assertEquals([fwd.direction, bwd.direction], ["fwd", "bwd"]);
      assertEquals(bwd.probs.length, 1209 * 2);
      assertEquals(bwd.labels, fwd.labels);
      assertEquals([fwd.accuracy, bwd.accuracy], [r.fwd, r.bwd]);
      let right = 0;
      for (let i = 0; i < fwd.labels.length; i++) {
        const spam = (fwd.probs[2 * i + 1] + bwd.probs[2 * i + 1]) / 2,
          ham = (fwd.probs[2 * i] + bwd.probs[2 * i]) / 2;
        if ((spam > ham ? 1 : 0) === fwd.labels[i]) right++;
      }
      assertEquals(right / fwd.labels.length, r.ensemble);
      for (const k of ["fwd", "bwd", "ensemble"] as const) assert(r[k]! > 0.6 && r[k]! <= 1, `${k} ${r[k]}`);
      assertEquals(r.accuracy, r.ensemble);
    });
    await t.step("both directions leave an LM and a classifier marked with their direction", async () => {
      for (
        const [file, backwards] of [["lm", "false"], ["lm_bwd", "true"], ["clas", "false"], [
          "clas_bwd",
          "true",
        ]]
      ) {
        const f = await readSafetensors(`${dir}/out/${file}.safetensors`);
        assertEquals(f.metadata[META_BACKWARDS], backwards, file);
      }
    });
    await t.step("the metrics file holds every stage of both directions", async () => {
      const stages = (await Deno.readTextFile(`${dir}/m.jsonl`)).trim().split("\n").map((l) =>
        JSON.parse(l).stage
      );
      for (const d of ["fwd", "bwd"]) {
        for (
          const s of [`lm-${d}-unfrozen`, `clas-${d}-last-layer`, `clas-${d}-last-2`, `clas-${d}-unfrozen`]
        ) {
          assert(stages.includes(s), `${s} missing from ${stages.join(", ")}`);
        }
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/ulmfit_spam.ts: bad flags end with one line naming the flag", async () => {
  for (
    const [args, re] of [
      [["--direction", "sideways"], /--direction must be fwd, bwd or both, got "sideways"/],
      [["--lm-epochs=-1"], /--lm-epochs must be a whole number >= 0, got "-1"/],
      [["--bogus"], /Unknown option '--bogus'/],
      [["--demo", "--full"], /give --demo or --full, not both/],
    ] as const
  ) {
    const { code, stderr } = await runExample([...args]);
    assertEquals(code, 2);
    assert(re.test(stderr) && !stderr.includes("    at "), stderr);
  }
});
