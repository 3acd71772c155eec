import { strict as assert } from "node:assert";
import {
  cleanParallel,
  hasFormatSpecifier,
  isPunctuationOnly,
  LESSON_QUESTION_EN,
  LESSON_QUESTION_FR,
  questionPairs,
  stripAccelerators,
} from "./clean.ts";

Deno.test("stripAccelerators() removes one GTK, Qt or LibreOffice mark", async (t) => {
  const cases: [string, string][] = [
    ["_Open", "Open"],
    ["Op_en", "Open"],
    ["Save _As…", "Save As…"],
    ["&Fichier", "Fichier"],
    ["~Fermer", "Fermer"],
    ["_Élève", "Élève"],
    ["_3D View", "3D View"],
    ["Tom & Jerry", "Tom & Jerry"],
    ["snake_case_name", "snake_case_name"],
    ["__init__", "_init_"],
    ["R&&D _Report", "R&D Report"],
    ["&amp;Open", "&amp;Open"],
    ["&#233;t&#xe9;", "&#233;t&#xe9;"],
    ["~/config", "~/config"],
    ["", ""],
  ];
  for (const [input, want] of cases) {
    await t.step(JSON.stringify(input), () => assert.equal(stripAccelerators(input), want));
  }
});

Deno.test("hasFormatSpecifier() finds printf, Python, Qt and brace placeholders", async (t) => {
  const yes = [
    "%s",
    "Copy %d files",
    "%1$s and %2$s",
    "%-10.3lf",
    "%5.2f%%",
    "%(name)s",
    "%(n)d items",
    "Page %1 of %2",
    "%L1",
    "{0}",
    "{}",
    "{count} files",
    "{0:.2f}",
    "%zu bytes",
    "%llu",
  ];
  const no = ["100%", "50%% done", "50 % des fichiers", "a {b c} d", "{", "Save", "% off"];
  await t.step("placeholders", () => yes.forEach((s) => assert.ok(hasFormatSpecifier(s), s)));
  await t.step("not placeholders", () => no.forEach((s) => assert.ok(!hasFormatSpecifier(s), s)));
});

Deno.test("isPunctuationOnly() is true without letters and digits", () => {
  for (const s of ["...", "…", " - ", "«»", "?!", "", "→ ★"]) assert.ok(isPunctuationOnly(s), s);
  for (const s of ["a.", "3", "東", "…é"]) assert.ok(!isPunctuationOnly(s), s);
});

Deno.test("cleanParallel() applies every rule and counts what each removed", async (t) => {
  const raw = [
    { source: "_Open File", target: "_Ouvrir le fichier", id: "1" },
    { source: "Open File", target: "Ouvrir le fichier", id: "2" }, // duplicate after stripping
    { source: "Copy %s", target: "Copier %s", id: "3" },
    { source: "...", target: "…", id: "4" },
    { source: "GNU", target: "GNU", id: "5" },
    { source: "Line one\nLine two", target: "Ligne un\nLigne deux", id: "6" },
    { source: "_", target: "_", id: "7" },
    { source: " Where is  it?\u00a0", target: "Où est-ce\u202f?", id: "8" },
    { source: "A very long sentence indeed", target: "Une très longue phrase en effet", id: "9" },
  ];
  await t.step("all rules", () => {
    const { pairs, report } = cleanParallel(raw, { maxChars: 25 });
    assert.deepEqual(pairs, [
      { source: "Open File", target: "Ouvrir le fichier", id: "1" },
      { source: "Where is it?", target: "Où est-ce ?", id: "8" },
    ]);
    assert.deepEqual(report, {
      input: 9,
      kept: 2,
      empty: 0,
      multiline: 1,
      formatSpecifier: 1,
      punctuationOnly: 2,
      identical: 1,
      tooLong: 1,
      duplicate: 1,
    });
  });
  await t.step("rules can be turned off", () => {
    const { pairs, report } = cleanParallel(raw, {
      accelerators: false,
      formatSpecifiers: false,
      punctuationOnly: false,
      identical: false,
      singleLine: false,
      dedupe: false,
      normalizeSpaces: false,
    });
    assert.equal(report.kept, 9);
    assert.equal(pairs[0]!.source, "_Open File");
    assert.equal(pairs[7]!.source, "Where is  it?\u00a0".trim());
  });
});

Deno.test("questionPairs() applies the lesson's regexes and keeps the matched question", async (t) => {
  const raw = [
    { source: "What is light ?", target: "Qu'est-ce que la lumière ?" },
    { source: "Who are we? Nobody.", target: "Qui sommes-nous? Personne." },
    { source: "What a day!", target: "Quelle journée !" },
    { source: "How does it work?", target: "Comment ça marche ?" },
    { source: "Where is it.", target: "Où est-il ?" },
    { source: "Which one?", target: "Lequel. Celui-ci ?" },
  ];
  await t.step("lesson defaults: both sides must match", () => {
    assert.deepEqual(questionPairs(raw).map((p) => [p.source, p.target]), [
      ["What is light ?", "Qu'est-ce que la lumière ?"],
      ["Who are we?", "Qui sommes-nous?"],
    ]);
  });
  await t.step("other patterns", () => {
    const any = /^([^?.!]+\?)/;
    assert.equal(questionPairs(raw, { source: any }).length, 3);
    assert.equal(LESSON_QUESTION_EN.source, "^(Wh[^?.!]+\\?)");
    assert.equal(LESSON_QUESTION_FR.source, "^([^?.!]+\\?)");
  });
});
