/**
 * The `denofit` command line: build the program with {@linkcode buildCli}, or run `cli/main.ts`
 * (`deno task cli -- <command>`). Each subcommand parses its flags and calls one library function (the
 * recipes live in `text/`: `trainLanguageModelOnCorpus`, `trainClassifierOnCorpus`, ...). The ULMFiT steps one
 * by one, like fastai's imdb_scripts:
 *
 * ```sh
 * denofit corpus ingest --folder aclImdb --name imdb --clas     # any reader: --csv --lines --jsonl --mo --po --tsv
 * denofit corpus info                                             # documents per split/label, tokens, vocabularies
 * denofit vocab build --name imdb                                 # --max-vocab 60000 --min-freq 3
 * denofit lm train --name imdb --out lm.safetensors --metrics m.jsonl   # --pretrained wt103.pth --pretrained-vocab itos.json
 * denofit lm train --name imdb --out lm_bwd.safetensors --backwards
 * denofit lm generate "I liked this movie because" --model lm.safetensors --words 40 --temperature 0.75 --samples 2
 * denofit clas train --name imdb --encoder lm_encoder.safetensors --bwd-encoder lm_bwd_encoder.safetensors
 * denofit clas predict "What a wonderful film" --model clas.safetensors --bwd-model clas_bwd.safetensors --json
 * denofit lr-find --name imdb --stage clas --plot lr.svg
 * denofit info clas.safetensors
 * denofit corpus ingest --pairs --mo /usr/share/locale/fr/LC_MESSAGES --name fr-mo   # a pair corpus: --parallel, --libreoffice-help
 * denofit vocab build --name fr-mo                               # one vocabulary per side (--side)
 * ```
 *
 * Every training command takes `--seed`, `--metrics FILE` (one JSON line per epoch: stage, epoch, train_loss,
 * valid_loss, accuracy, perplexity for LMs, lr, seconds), `--backend cpu|webgpu|auto` and `--quiet`; a terminal
 * gets a progress bar and a metrics table, a pipe gets plain log lines. Outputs are written atomically and never
 * overwritten without `--force`.
 *
 * @example Parse `--version`
 * ```ts
 * import { buildCli } from "./mod.ts";
 * const program = buildCli();
 * if (program.name() !== "denofit") throw new Error("wrong name");
 * ```
 *
 * @module
 */
export * from "./program.ts";
export * from "./corpus.ts";
export * from "./vocab.ts";
export * from "./lm.ts";
export * from "./clas.ts";
export * from "./lr_find.ts";
export * from "./info.ts";
