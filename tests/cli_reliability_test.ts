/**
 * Issue #13 through the `denofit` command, as a user runs it (one child process per command): no silent NaN
 * model (fault 1), Ctrl-C and `--resume` bit-identical to an uninterrupted run (2), outputs checked before the
 * work (3), one run per output (5), stored corpora that never hide a changed source (6), never write into
 * another program's database (7), concurrent writers (8), and messages that name their path (10). Faults 4
 * (model + encoder as one unit, a kill -9 loop) and 9 (i32 range) are in `nn/training_run_test.ts` and
 * `nn/tensor_test.ts`. Uses only what the command and the file formats offer, so every step also runs against
 * the code before the fixes (where it fails).
 */
import { deepStrictEqual, match, notStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { readSafetensors, writeSafetensors } from "../nn/formats/safetensors.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const ARGS = ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", MAIN];
const dec = new TextDecoder();

interface Run {
  code: number;
  out: string;
  stdout: string;
}

async function cli(dir: string, args: string[]): Promise<Run> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [...ARGS, ...args],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await cmd.output();
  const so = dec.decode(stdout);
  return { code, out: so + dec.decode(stderr), stdout: so };
}

/** A command in the background: its output so far, and its end. */
function spawn(dir: string, args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...ARGS, ...args],
    cwd: dir,
    env: { DENOFIT_PROGRESS: "lines" }, // progress lines on the pipe, to interrupt mid-epoch
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) out += dec.decode(c);
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]).then(async () =>
    (await child.status).code
  );
  return {
    child,
    out: () => out,
    done,
    /** Waits until the output matches (or the command ends). */
    async until(re: RegExp): Promise<boolean> {
      let ended = false;
      done.then(() => ended = true);
      while (!re.test(out) && !ended) await new Promise((r) => setTimeout(r, 10));
      return re.test(out);
    },
  };
}

function csv(n: number, salt = 0): string {
  const good = ["great", "lovely", "superb", "wonderful"], bad = ["awful", "boring", "dull", "terrible"];
  const filler = ["the", "movie", "was", "and", "it", "a", "film", "story"];
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2 ? "pos" : "neg";
    const words = [0, 1, 2, 3, 4, 5].map((k) => filler[(i * 7 + k * 3 + salt) % filler.length]!);
    const w = c === "neg" ? bad : good;
    words.splice(i % 5, 0, w[i % 4]!, w[(i + 1) % 4]!);
    rows.push(`${c},"${words.join(" ")}"`);
  }
  return rows.join("\n") + "\n";
}

const exists = (p: string) => Deno.stat(p).then(() => true, () => false);
const sha = async (p: string) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(p)))].map((b) =>
    b.toString(16).padStart(2, "0")
  ).join("");

/** Rewrites a safetensors file with its tensors or metadata changed. */
async function rewrite(
  from: string,
  to: string,
  change: {
    tensors?: (
      t: Map<string, { dtype: "f32" | "i32"; shape: number[]; data: Float32Array | Int32Array }>,
    ) => void;
    meta?: Record<string, string>;
  },
): Promise<void> {
  const f = await readSafetensors(from);
  const tensors = new Map([...f.tensors].map(([k, t]) => [k, { ...t, data: t.data.slice() }]));
  change.tensors?.(tensors as never);
  await writeSafetensors(to, tensors as never, { metadata: { ...f.metadata, ...change.meta } });
}

Deno.test("denofit: reliability of training, stores and messages (#13)", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_rel_" });
  const store = `${dir}/s.sqlite`;
  await Deno.writeTextFile(`${dir}/tiny.csv`, csv(200));
  await Deno.writeTextFile(`${dir}/big.csv`, csv(3000));
  for (const [file, name] of [["tiny.csv", "tiny"], ["big.csv", "big"]]) {
    const r = await cli(dir, [
      "corpus",
      "ingest",
      "--csv",
      `${dir}/${file}`,
      "--clas",
      "--store",
      store,
      "--name",
      name!,
    ]);
    strictEqual(r.code, 0, r.out);
    const v = await cli(dir, ["vocab", "build", "--name", name!, "--store", store, "--min-freq", "2"]);
    strictEqual(v.code, 0, v.out);
  }
  const tiny = ["--name", "tiny", "--store", store, "--min-freq", "2", "--quiet", "--bs", "8", "--bptt", "8"];
  const sizes = ["--emb", "8", "--hid", "16", "--layers", "1"];
  const lm = `${dir}/lm.safetensors`;
  const good = await cli(dir, ["lm", "train", ...tiny, ...sizes, "--out", lm]);
  strictEqual(good.code, 0, good.out);
  const enc = ["--encoder", `${dir}/lm_encoder.safetensors`];
  const clas = await cli(dir, [
    "clas",
    "train",
    ...tiny,
    ...enc,
    "--stages",
    "1,0,0",
    "--out",
    `${dir}/clas.safetensors`,
  ]);
  strictEqual(clas.code, 0, clas.out);

  try {
    await t.step(
      "fault 1: lm train --lr 1e6 stops at the first NaN loss, naming the step; nothing is written",
      async () => {
        const r = await cli(dir, [
          "lm",
          "train",
          ...tiny,
          ...sizes,
          "--lr",
          "1e6",
          "--out",
          `${dir}/nan.safetensors`,
        ]);
        notStrictEqual(r.code, 0, r.out);
        match(r.out, /training loss was NaN at step \d+ of \d+ \(epoch 1 of 1/);
        match(r.out, /lower learning rate \(--lr\)/);
        strictEqual(await exists(`${dir}/nan.safetensors`), false);
        strictEqual(await exists(`${dir}/nan_encoder.safetensors`), false);
        const before = [await sha(lm), await sha(`${dir}/lm_encoder.safetensors`)];
        const again = await cli(dir, [
          "lm",
          "train",
          ...tiny,
          ...sizes,
          "--lr",
          "1e6",
          "--out",
          lm,
          "--force",
        ]);
        notStrictEqual(again.code, 0, again.out);
        deepStrictEqual(
          [await sha(lm), await sha(`${dir}/lm_encoder.safetensors`)],
          before,
          "a good file was replaced",
        );
      },
    );

    await t.step("fault 1: NaN weights are refused by lm generate, clas train and clas predict", async () => {
      const nan = (t: Map<string, { data: Float32Array | Int32Array }>) =>
        t.get("encoder.weight")!.data.fill(NaN);
      await rewrite(lm, `${dir}/nanlm.safetensors`, { tensors: nan });
      await rewrite(`${dir}/lm_encoder.safetensors`, `${dir}/nanenc.safetensors`, { tensors: nan });
      const g = await cli(dir, [
        "lm",
        "generate",
        "the movie",
        "--model",
        `${dir}/nanlm.safetensors`,
        "--words",
        "4",
      ]);
      notStrictEqual(g.code, 0, g.out);
      match(g.out, /nanlm\.safetensors: .*encoder\.weight.* not finite/);
      const c = await cli(dir, [
        "clas",
        "train",
        ...tiny,
        "--encoder",
        `${dir}/nanenc.safetensors`,
        "--stages",
        "1,0,0",
        "--out",
        `${dir}/c.safetensors`,
      ]);
      notStrictEqual(c.code, 0, c.out);
      match(c.out, /nanenc\.safetensors: .*not finite/);
      strictEqual(await exists(`${dir}/c.safetensors`), false);
      await rewrite(`${dir}/clas.safetensors`, `${dir}/nanclas.safetensors`, { tensors: nan });
      const p = await cli(dir, [
        "clas",
        "predict",
        "a great film",
        "--json",
        "--model",
        `${dir}/nanclas.safetensors`,
      ]);
      notStrictEqual(p.code, 0, p.out);
      ok(!p.stdout.includes("null"), `null probabilities printed: ${p.stdout}`);
      match(p.out, /not finite/);
    });

    const big = ["--name", "big", "--store", store, "--min-freq", "2", "--bs", "8", "--bptt", "8", ...sizes];
    await t.step(
      "fault 2: Ctrl-C mid-epoch writes a checkpoint and exits 130; --resume ends bit-identical",
      async () => {
        await Deno.mkdir(`${dir}/A`);
        await Deno.mkdir(`${dir}/B`);
        const full = await cli(dir, [
          "lm",
          "train",
          ...big,
          "--quiet",
          "--out",
          `${dir}/A/lm.safetensors`,
          "--metrics",
          `${dir}/A/m.jsonl`,
        ]);
        strictEqual(full.code, 0, full.out);
        const run = spawn(dir, [
          "lm",
          "train",
          ...big,
          "--out",
          `${dir}/B/lm.safetensors`,
          "--metrics",
          `${dir}/B/m.jsonl`,
        ]);
        ok(await run.until(/epoch 1\/1 .* 25%/), `no progress:\n${run.out()}`);
        run.child.kill("SIGINT");
        strictEqual(await run.done, 130, run.out());
        match(run.out(), /checkpoint saved after step \d+ to .*lm\.resume\.safetensors/);
        strictEqual(await exists(`${dir}/B/lm.safetensors`), false);
        ok(await exists(`${dir}/B/lm.resume.safetensors`));
        const resumed = await cli(dir, [
          "lm",
          "train",
          ...big,
          "--quiet",
          "--out",
          `${dir}/B/lm.safetensors`,
          "--metrics",
          `${dir}/B/m.jsonl`,
          "--resume",
          `${dir}/B/lm.resume.safetensors`,
        ]);
        strictEqual(resumed.code, 0, resumed.out);
        for (const f of ["lm.safetensors", "lm_encoder.safetensors"]) {
          strictEqual(
            await sha(`${dir}/B/${f}`),
            await sha(`${dir}/A/${f}`),
            `${f} differs from the uninterrupted run's`,
          );
        }
        const metrics = async (d: string) =>
          (await Deno.readTextFile(`${d}/m.jsonl`)).trim().split("\n").map((l) => {
            const { seconds: _, ...rest } = JSON.parse(l);
            return rest;
          });
        deepStrictEqual(await metrics(`${dir}/B`), await metrics(`${dir}/A`));
      },
    );

    await t.step("fault 2: a second Ctrl-C exits at once with 130, and no output is written", async () => {
      await Deno.mkdir(`${dir}/D`);
      const run = spawn(dir, ["lm", "train", ...big, "--out", `${dir}/D/lm.safetensors`]);
      ok(await run.until(/epoch 1\/1 .* 25%/), `no progress:\n${run.out()}`);
      run.child.kill("SIGINT");
      run.child.kill("SIGINT");
      strictEqual(await run.done, 130, run.out());
      // handled by the run (not a kill by the signal): it quit at once or saved, and said so
      match(run.out(), /interrupt: (quitting now \(exit 130\)|checkpoint saved after step \d+)/);
      strictEqual(await exists(`${dir}/D/lm.safetensors`), false);
      const left = [...Deno.readDirSync(`${dir}/D`)].map((e) => e.name).filter((n) => n.startsWith("."));
      deepStrictEqual(left.filter((n) => n.endsWith(".lock")), [], "the output lock was left");
    });

    await t.step(
      "fault 5: a second run on the same --out fails at its start; the first run is unharmed",
      async () => {
        await Deno.mkdir(`${dir}/E`);
        const out = `${dir}/E/lm.safetensors`;
        const run = spawn(dir, ["lm", "train", ...big, "--out", out]);
        ok(await run.until(/epoch 1\/1 .* 25%/), `no progress:\n${run.out()}`);
        const second = await cli(dir, ["lm", "train", ...big, "--quiet", "--out", out, "--force"]);
        notStrictEqual(second.code, 0, second.out);
        match(second.out, /E\/lm\.safetensors: another run is writing it \(pid \d+/);
        ok(!/lm train: \d+ texts/.test(second.out), "the second run started working");
        strictEqual(await run.done, 0, run.out());
        match(run.out(), /language model -> .*E\/lm\.safetensors/);
        ok(await exists(out));
      },
    );

    await t.step("fault 3: outputs are checked before any work", async () => {
      const cases: [string[], RegExp][] = [
        [["--out", `${dir}/missing/lm.safetensors`], /missing does not exist/],
        [["--out", `${dir}/A`], /A: is a folder; give a file name/],
        [
          ["--out", `${dir}/m3.safetensors`, "--metrics", `${dir}/gone/m.jsonl`],
          /--metrics .*gone\/m\.jsonl: the folder .* does not exist/,
        ],
      ];
      for (const [args, message] of cases) {
        const r = await cli(dir, ["lm", "train", ...tiny, ...sizes, ...args]);
        notStrictEqual(r.code, 0, r.out);
        match(r.out, message);
        ok(!/lm train: \d+ texts/.test(r.out), `the work started before the check:\n${r.out}`);
      }
    });

    await t.step(
      "fault 6: another source under a stored name is an error naming both; --replace swaps it",
      async () => {
        await Deno.writeTextFile(`${dir}/six.csv`, csv(120));
        const a = await cli(dir, ["corpus", "ingest", "--csv", `${dir}/six.csv`, "--clas", "--store", store]);
        strictEqual(a.code, 0, a.out);
        await Deno.writeTextFile(`${dir}/six.csv`, csv(150, 3)); // modified in place
        const b = await cli(dir, ["corpus", "ingest", "--csv", `${dir}/six.csv`, "--clas", "--store", store]);
        notStrictEqual(b.code, 0, b.out);
        match(
          b.out,
          /corpus "six" was stored from csv:.*six\.csv \(120 documents.*the source given now is csv:.*six\.csv \(150 documents/,
        );
        match(b.out, /--name.*--replace/);
        match(
          (await cli(dir, ["corpus", "info", "--store", store, "--name", "six"])).out,
          /corpus "six": 120 documents/,
        );
        const c = await cli(dir, [
          "corpus",
          "ingest",
          "--csv",
          `${dir}/six.csv`,
          "--clas",
          "--store",
          store,
          "--replace",
        ]);
        strictEqual(c.code, 0, c.out);
        match(
          (await cli(dir, ["corpus", "info", "--store", store, "--name", "six"])).out,
          /corpus "six": 150 documents/,
        );
        const same = await cli(dir, [
          "corpus",
          "ingest",
          "--csv",
          `${dir}/six.csv`,
          "--clas",
          "--store",
          store,
        ]);
        strictEqual(same.code, 0, same.out);
        match(same.out, /reused/);
      },
    );

    await t.step(
      "fault 7: another program's SQLite file is never written; our stores are marked",
      async () => {
        const foreign = `${dir}/app.db`;
        const db = new DatabaseSync(foreign);
        db.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('bob')");
        db.close();
        const before = await sha(foreign);
        for (
          const args of [["corpus", "info", "--store", foreign], [
            "corpus",
            "ingest",
            "--csv",
            `${dir}/tiny.csv`,
            "--store",
            foreign,
          ]]
        ) {
          const r = await cli(dir, args);
          notStrictEqual(r.code, 0, r.out);
          match(r.out, /app\.db: a SQLite database of another program .*not a denofit corpus store/);
        }
        strictEqual(await sha(foreign), before);
        strictEqual(await exists(`${foreign}-wal`), false);
        const ours = new DatabaseSync(store, { readOnly: true });
        const id = (ours.prepare("PRAGMA application_id").get() as { application_id: number }).application_id;
        const v = (ours.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
        ours.close();
        deepStrictEqual([id, v], [0x64666974, 1]);
      },
    );

    await t.step(
      "fault 8: concurrent ingests of one corpus both succeed (the second waits), one copy stored",
      async () => {
        await Deno.writeTextFile(`${dir}/eight.csv`, csv(3000, 5));
        const args = [
          "corpus",
          "ingest",
          "--csv",
          `${dir}/eight.csv`,
          "--clas",
          "--store",
          store,
          "--workers",
          "1",
        ];
        const [x, y] = await Promise.all([cli(dir, args), cli(dir, args)]);
        strictEqual(x.code, 0, x.out);
        strictEqual(y.code, 0, y.out);
        ok(!/UNIQUE constraint/.test(x.out + y.out));
        match(
          (await cli(dir, ["corpus", "info", "--store", store, "--name", "eight"])).out,
          /corpus "eight": 3000 documents,/,
        );
        const v = ["vocab", "build", "--name", "eight", "--store", store, "--min-freq", "2"];
        const [vx, vy] = await Promise.all([cli(dir, v), cli(dir, v)]);
        strictEqual(vx.code + vy.code, 0, vx.out + vy.out);
      },
    );

    await t.step("fault 10: file-system errors name their path", async () => {
      await Deno.mkdir(`${dir}/folder`);
      await Deno.writeTextFile(`${dir}/text.txt`, "not a database, just text\n");
      const cases: [string[], RegExp][] = [
        [
          ["corpus", "ingest", "--csv", `${dir}/folder`, "--store", `${dir}/x.sqlite`],
          /folder: is a folder, not a file/,
        ],
        [
          ["corpus", "ingest", "--jsonl", `${dir}/folder`, "--store", `${dir}/x.sqlite`],
          /folder: is a folder, not a file/,
        ],
        [["corpus", "info", "--store", `${dir}/text.txt`], /text\.txt: not a SQLite database/],
        [["corpus", "info", "--store", `${dir}/folder`], /folder: is a folder/],
        [
          ["clas", "predict", "--file", `${dir}/folder`, "--model", `${dir}/clas.safetensors`],
          /folder: is a folder/,
        ],
        [["info", `${dir}/folder`], /folder: is a folder/],
      ];
      for (const [args, message] of cases) {
        const r = await cli(dir, args);
        notStrictEqual(r.code, 0, r.out);
        match(r.out, message, args.join(" "));
      }
    });

    await t.step("fault 10: --on-error skip says how many rows it skipped and which", async () => {
      await Deno.writeTextFile(
        `${dir}/bad.jsonl`,
        ['{"text":"a b c","label":"x"}', "not json", '{"text":"d e f","label":"y"}', '{"label":"z"}', ""]
          .join("\n"),
      );
      const r = await cli(dir, [
        "corpus",
        "ingest",
        "--jsonl",
        `${dir}/bad.jsonl`,
        "--on-error",
        "skip",
        "--store",
        `${dir}/x.sqlite`,
      ]);
      strictEqual(r.code, 0, r.out);
      match(r.out, /skipped 2 malformed rows of .*bad\.jsonl \(--on-error skip\): rows 2, 4/);
    });

    await t.step(
      "fault 10: damaged model files get our errors, not a fallback's or a TypeError",
      async () => {
        const bytes = await Deno.readFile(lm);
        bytes[8] = 0x58; // the header's "{" -> "X"
        await Deno.writeFile(`${dir}/broken.safetensors`, bytes);
        const i = await cli(dir, ["info", `${dir}/broken.safetensors`]);
        notStrictEqual(i.code, 0, i.out);
        match(i.out, /broken\.safetensors: a damaged safetensors file \(/);
        ok(!/pickle/i.test(i.out), i.out);
        await rewrite(lm, `${dir}/badmeta.safetensors`, { meta: { "denofit.itos": '{"not":"a list"}' } });
        for (
          const args of [["info", `${dir}/badmeta.safetensors`], [
            "lm",
            "generate",
            "hi",
            "--model",
            `${dir}/badmeta.safetensors`,
          ]]
        ) {
          const r = await cli(dir, args);
          match(r.out, /badmeta\.safetensors: bad metadata denofit\.itos \(expected a JSON array/);
          ok(!/is not a function|Cannot read properties/.test(r.out), r.out);
        }
        const f = await readSafetensors(lm);
        const config = { ...JSON.parse(f.metadata["denofit.config"]!), embSize: 12 };
        await rewrite(lm, `${dir}/badconf.safetensors`, {
          meta: { "denofit.config": JSON.stringify(config) },
        });
        const g = await cli(dir, ["lm", "generate", "hi", "--model", `${dir}/badconf.safetensors`]);
        notStrictEqual(g.code, 0, g.out);
        match(
          g.out,
          /badconf\.safetensors: the config \(embSize 12, .*\) .* give encoder\.weight \[\d+, 12\], the file holds \[\d+, 8\]/,
        );
      },
    );

    await t.step("fault 10: --min-p outside (0, 1] is refused", async () => {
      for (const p of ["0", "1.5", "-0.1"]) {
        const r = await cli(dir, ["lm", "generate", "hi", "--model", lm, "--min-p", p]);
        notStrictEqual(r.code, 0, r.out);
        match(r.out, /--min-p .*expected a probability in \(0, 1\]/);
      }
      const r = await cli(dir, [
        "lm",
        "generate",
        "the movie",
        "--model",
        lm,
        "--min-p",
        "0.05",
        "--words",
        "3",
      ]);
      strictEqual(r.code, 0, r.out);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
