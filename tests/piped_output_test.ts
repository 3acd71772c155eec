/**
 * Training output when stdout is not a terminal (a pipe, `> log.txt`): no progress-bar frames, only the
 * metrics table, a header and one plain line per epoch, from the library's Learner and from the CLI alike.
 * Each case runs a child process with its stdout piped, so the default sink sees a non-terminal.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const MOD_URL = new URL("../mod.ts", import.meta.url).href;
const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;

/** Run deno with piped stdout; its stdout, and stdout + stderr for messages. */
async function deno(
  args: string[],
  cwd = ROOT,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; out: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const so = new TextDecoder().decode(stdout);
  return { code, stdout: so, out: `${so}\n--- stderr\n${new TextDecoder().decode(stderr)}` };
}

/** Fails on anything a progress bar draws: carriage returns, ANSI escapes, bar blocks, percentages. */
function assertNoBarFrames(stdout: string): void {
  const marks: [string, (s: string) => boolean][] = [
    ["\\r", (s) => s.includes("\r")],
    ["an ANSI escape", (s) => s.includes("\x1b[")],
    ["a bar", (s) => /[█|]/.test(s)],
    ["a %", (s) => /\d%/.test(s)],
  ];
  for (const [what, found] of marks) assert(!found(stdout), `piped stdout has ${what}:\n${stdout}`);
}

/** The table rows (lines starting with an epoch number) under each header line. */
function tableRows(stdout: string): { headers: number; epochs: number[] } {
  const lines = stdout.split("\n");
  return {
    headers: lines.filter((l) => l.startsWith("epoch ")).length,
    epochs: lines.filter((l) => /^\d+ /.test(l)).map((l) => Number(l.split(" ")[0])),
  };
}

const LEARNER_SCRIPT = `
import { fromArray, Learner, Linear, mseLoss, seed } from "${MOD_URL}";
seed(0);
const xs = [0, 1, 2, 3];
const batches = (n) => ({
  length: n,
  *[Symbol.iterator]() {
    for (let i = 0; i < n; i++) yield { x: fromArray(xs, [4, 1]), y: fromArray(xs.map((v) => 2 * v + 1), [4, 1]) };
  },
});
const learn = new Learner(new Linear(1, 1), { train: batches(40), valid: batches(2) }, { loss: mseLoss });
await learn.fitOneCycle(3, 0.1);
await learn.fit(2, 0.01);
`;

Deno.test("training piped to a file prints one plain line per epoch", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_piped_" });
  try {
    await t.step("the Learner's default sink: two fits, a header and one line per epoch each", async () => {
      await Deno.writeTextFile(`${dir}/fit.js`, LEARNER_SCRIPT);
      const r = await deno(["run", "--allow-read", "--allow-env", "--allow-ffi", `${dir}/fit.js`]);
      assertEquals(r.code, 0, r.out);
      assertNoBarFrames(r.stdout);
      assertEquals(tableRows(r.stdout), { headers: 2, epochs: [0, 1, 2, 0, 1] });
      assertEquals(r.stdout.trim().split("\n").length, 7, r.stdout);
    });

    await t.step(
      "DENOFIT_PROGRESS=lines: plain progress lines every quarter epoch, still no redraws",
      async () => {
        const r = await deno(["run", "--allow-read", "--allow-env", "--allow-ffi", `${dir}/fit.js`], ROOT, {
          DENOFIT_PROGRESS: "lines",
        });
        assertEquals(r.code, 0, r.out);
        assert(!r.stdout.includes("\r") && !r.stdout.includes("\x1b["), r.stdout);
        const quarters = r.stdout.split("\n").filter((l) => /^epoch \d\/\d .*\d+%/.test(l));
        assert(quarters.length >= 5 * 4, `expected >= 4 progress lines per epoch:\n${r.stdout}`);
        assertEquals(tableRows(r.stdout).epochs, [0, 1, 2, 0, 1]);
      },
    );

    await t.step("denofit lm train: the table only, one line per epoch", async () => {
      const good = ["great", "lovely", "superb"], bad = ["awful", "boring", "dull"];
      const rows = Array.from({ length: 60 }, (_, i) => {
        const w = i % 2 ? good : bad;
        return `${i % 2 ? "pos" : "neg"},the film was ${w[i % 3]} and the story ${w[(i + 1) % 3]}`;
      });
      await Deno.writeTextFile(`${dir}/tiny.csv`, rows.join("\n") + "\n");
      const cli = ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", MAIN];
      const store = ["--store", `${dir}/s.sqlite`];
      const ingest = await deno([
        ...cli,
        "corpus",
        "ingest",
        "--csv",
        `${dir}/tiny.csv`,
        "--name",
        "t",
        ...store,
      ]);
      assertEquals(ingest.code, 0, ingest.out);
      const vocab = await deno([...cli, "vocab", "build", "--name", "t", "--min-freq", "1", ...store]);
      assertEquals(vocab.code, 0, vocab.out);
      const sizes = [
        "--emb",
        "8",
        "--hid",
        "8",
        "--layers",
        "1",
        "--bs",
        "4",
        "--bptt",
        "6",
        "--epochs",
        "3",
      ];
      const train = await deno(
        [
          ...cli,
          "lm",
          "train",
          "--name",
          "t",
          "--min-freq",
          "1",
          ...store,
          ...sizes,
          "--out",
          `${dir}/lm.safetensors`,
        ],
        dir,
      );
      assertEquals(train.code, 0, train.out);
      assertNoBarFrames(train.stdout);
      assertEquals(tableRows(train.stdout), { headers: 1, epochs: [0, 1, 2] });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
