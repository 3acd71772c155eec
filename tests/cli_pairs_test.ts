/**
 * The pair-corpus commands as a user runs them (`corpus ingest --pairs` / `--parallel` / `--libreoffice-help`,
 * `corpus info`, `vocab build` per side): help, the happy path with its figures, a re-run reusing the store, and
 * bad input — conflicting flags, misaligned files, another selection under the same name, an unsupported
 * language — each a clear error with nothing stored.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

function assertStringIncludes(text: string, needle: string, what = ""): void {
  if (!text.includes(needle)) {
    throw new Error(`${what ? what + ": " : ""}expected ${JSON.stringify(needle)} in:\n${text}`);
  }
}

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const LO_FIXTURE = new URL("../text/readers/testdata/libreoffice_help", import.meta.url).pathname;

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; stdout: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-ffi", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    cwd,
  }).output();
  const so = new TextDecoder().decode(stdout);
  return { code, out: so + new TextDecoder().decode(stderr), stdout: so };
}

const PO = `msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\\n"

msgid "_Open the file"
msgstr "_Ouvrir le fichier"

msgid "Close the file"
msgstr "Fermer le fichier"

msgid "%s files"
msgstr "%s fichiers"

msgid "Where is the file?"
msgstr "Où est le fichier ?"

msgid "OK"
msgstr "OK"
`;

Deno.test("denofit pair corpora: ingest, info, vocab per side, and bad input", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "denofit_pairs_" });
  const store = `${dir}/s.sqlite`;
  await Deno.writeTextFile(`${dir}/ui.po`, PO);
  await Deno.writeTextFile(`${dir}/c.en`, "Hello\nThank you\nGood night\n");
  await Deno.writeTextFile(`${dir}/c.fr`, "Bonjour\nMerci\nBonne nuit\n");
  const run = (args: string[]) => cli(args, dir);
  try {
    await t.step("help names the pair sources and the per-side vocabulary option", async () => {
      const r = await run(["corpus", "ingest", "--help"]);
      assertEquals(r.code, 0, r.out);
      for (
        const f of [
          "--pairs",
          "--parallel",
          "--libreoffice-help",
          "--source-lang",
          "--no-clean",
          "--questions",
        ]
      ) {
        assertStringIncludes(r.out, f);
      }
      const v = await run(["vocab", "build", "--help"]);
      assertStringIncludes(v.out, "--side");
      assertStringIncludes(v.out.replace(/\s+/g, " "), "pair corpora: 40000 per side");
    });

    await t.step("--pairs --po: both sides kept, cleaned, tokenized; a re-run reuses", async () => {
      const r = await run([
        "corpus",
        "ingest",
        "--store",
        store,
        "--pairs",
        "--po",
        `${dir}/ui.po`,
        "--workers",
        "1",
      ]);
      assertEquals(r.code, 0, r.out);
      // "Open the file", "Close the file", "Where is the file?" (format string and untranslated dropped)
      assertStringIncludes(
        r.stdout,
        'pair corpus "ui" (en -> fr): 3 pairs added, 3 tokenized (14 + 14 tokens)',
      );
      assertStringIncludes(r.stdout, "selection: 5 read, 3 kept; removed: formatSpecifier 1, identical 1");
      await Deno.mkdir(`${dir}/locale/fr/LC_MESSAGES`, { recursive: true });
      await Deno.copyFile(`${dir}/ui.po`, `${dir}/locale/fr/LC_MESSAGES/ui.po`);
      const folder = await run([
        "corpus",
        "ingest",
        "--store",
        store,
        "--pairs",
        "--po",
        `${dir}/locale/fr/LC_MESSAGES/`,
      ]);
      assertStringIncludes(folder.stdout, 'pair corpus "fr-catalogs" (en -> fr): 3 pairs added', folder.out);
      const again = await run(["corpus", "ingest", "--store", store, "--pairs", "--po", `${dir}/ui.po`]);
      assertEquals(again.code, 0, again.out);
      assertStringIncludes(again.stdout, 'pair corpus "ui": already stored and tokenized');
    });

    await t.step("--parallel prefix and --libreoffice-help", async () => {
      const p = await run(["corpus", "ingest", "--store", store, "--parallel", `${dir}/c`, "--workers", "1"]);
      assertEquals(p.code, 0, p.out);
      assertStringIncludes(p.stdout, 'pair corpus "c" (en -> fr): 3 pairs added');
      const lo = await run([
        "corpus",
        "ingest",
        "--store",
        store,
        "--libreoffice-help",
        LO_FIXTURE,
        "--questions",
        "--name",
        "lo-q",
      ]);
      assertEquals(lo.code, 0, lo.out);
      assertStringIncludes(lo.stdout, 'pair corpus "lo-q" (en -> fr): 1 pairs added');
      assertStringIncludes(lo.stdout, "11 read, 1 kept; removed: identical 1, notQuestion 9");
    });

    await t.step("corpus info and vocab build show both sides", async () => {
      const v = await run(["vocab", "build", "--store", store, "--name", "ui"]);
      assertEquals(v.code, 0, v.out);
      assertStringIncludes(v.stdout, 'source vocab of pair corpus "ui": 16 tokens (max 40000, min count 1)');
      assertStringIncludes(v.stdout, 'target vocab of pair corpus "ui": 16 tokens');
      assertStringIncludes(v.stdout, "most frequent: le fichier");
      const one = await run([
        "vocab",
        "build",
        "--store",
        store,
        "--name",
        "ui",
        "--side",
        "target",
        "--min-freq",
        "3",
      ]);
      assertEquals(one.code, 0, one.out);
      assert(!one.stdout.includes("source vocab"), one.stdout);
      assertStringIncludes(
        one.stdout,
        'target vocab of pair corpus "ui": 11 tokens (max 40000, min count 3)',
      );
      const info = await run(["corpus", "info", "--store", store, "--name", "ui"]);
      assertEquals(info.code, 0, info.out);
      assertStringIncludes(info.stdout, 'pair corpus "ui": 3 pairs en -> fr, source po:');
      assertStringIncludes(info.stdout, "tokens 14 | 14, distinct 8 | 8");
      assertStringIncludes(
        info.stdout,
        'target vocab {"maxVocab":40000,"minFreq":3,"padToMultiple":0}: 11 tokens',
      );
    });

    await t.step("bad input: each a clear error, nothing stored", async () => {
      const cases: [string[], string][] = [
        [["--pairs", "--po", `${dir}/ui.po`, "--side", "source"], "--side picks one side"],
        [["--pairs"], "give a pair source: --mo, --po, --tsv, --parallel or --libreoffice-help"],
        [["--pairs", "--lines", `${dir}/c.en`], "--lines holds no pairs"],
        [["--po", `${dir}/ui.po`, "--questions"], "--questions and --no-clean are for pair corpora"],
        [["--parallel", `${dir}/c.en,${dir}/ui.po`, "--name", "bad"], "c.en: row 4: ends before"],
        [["--pairs", "--po", `${dir}/ui.po`, "--questions"], 'pair corpus "ui" exists with other settings'],
        [["--pairs", "--po", `${dir}/ui.po`, "--name", "de", "--target-lang", "de"], 'not "de" (choose'],
        [["--pairs", "--po", `${dir}/ui.po`, "--no-clean", "--max-chars", "9"], "drop --no-clean"],
      ];
      for (const [args, needle] of cases) {
        const r = await run(["corpus", "ingest", "--store", store, ...args]);
        assert(r.code !== 0, `${args.join(" ")} should fail:\n${r.out}`);
        assertStringIncludes(r.out, needle, args.join(" "));
      }
      const info = await run(["corpus", "info", "--store", store]);
      for (const absent of ['"de"', '"bad"']) assert(!info.stdout.includes(absent), info.stdout);
      const side = await run(["vocab", "build", "--store", store, "--name", "nope"]);
      assertStringIncludes(
        side.out,
        'no corpus "nope" (text corpora: none; pair corpora: ui, fr-catalogs, c, lo-q)',
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
