/**
 * `deno task bench checkpoint`: checkpoint I/O on a wikitext-103-sized AWD-LSTM LM (vocab 60000, emb 400,
 * hidden 1152, 3 layers; ~46M f32 parameters): safetensors atomic write and validated read throughput (MB/s),
 * and, when Debian's `/usr/bin/python3` has torch, reading the fastai-v2-style `.pth` (zip format, tied
 * encoder/decoder storage) with the allow-list pickle reader plus the name mapping, with the child process's peak
 * RSS relative to the file size. Files live in a temp folder that is removed afterwards.
 *
 * @module
 */
import { emit, timeMs } from "./_report.ts";
import { runOptional } from "../tools/programs.ts";
import { readSafetensors, type TensorMap, writeSafetensors } from "../nn/formats/mod.ts";

const VOCAB = 60000, EMB = 400, HID = 1152, LAYERS = 3;

function awdLstm(): TensorMap {
  let s = 1;
  const rand = (n: number) =>
    Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5));
  const t = (...shape: number[]) => ({
    dtype: "f32" as const,
    shape,
    data: rand(shape.reduce((a, b) => a * b)),
  });
  const m: TensorMap = new Map([["encoder.weight", t(VOCAB, EMB)]]);
  for (let i = 0; i < LAYERS; i++) {
    const nIn = i === 0 ? EMB : HID, nh = i === LAYERS - 1 ? EMB : HID;
    m.set(`rnns.${i}.weightIH`, t(4 * nh, nIn)).set(`rnns.${i}.weightHH`, t(4 * nh, nh));
    m.set(`rnns.${i}.biasIH`, t(4 * nh)).set(`rnns.${i}.biasHH`, t(4 * nh));
  }
  return m.set("decoder.bias", t(VOCAB));
}

const PY = `
import torch, collections, sys
g = torch.Generator().manual_seed(0)
V, E, H, L = ${VOCAB}, ${EMB}, ${HID}, ${LAYERS}
sd = collections.OrderedDict()
enc = torch.randn(V, E, generator=g)
sd["0.encoder.weight"] = enc
sd["0.encoder_dp.emb.weight"] = enc
for i in range(L):
    n_in, nh = (E if i == 0 else H), (E if i == L - 1 else H)
    sd[f"0.rnns.{i}.weight_hh_l0_raw"] = torch.randn(4 * nh, nh, generator=g)
    sd[f"0.rnns.{i}.module.weight_ih_l0"] = torch.randn(4 * nh, n_in, generator=g)
    sd[f"0.rnns.{i}.module.bias_ih_l0"] = torch.randn(4 * nh, generator=g)
    sd[f"0.rnns.{i}.module.bias_hh_l0"] = torch.randn(4 * nh, generator=g)
sd["1.decoder.weight"] = enc
sd["1.decoder.bias"] = torch.randn(V, generator=g)
torch.save(sd, sys.argv[1])
`;

const CHILD = `
import { readTorchCheckpoint } from "${new URL("../nn/formats/mod.ts", import.meta.url).href}";
import { mapFastaiAwdLstm } from "${new URL("../text/models/awd_lstm_fastai.ts", import.meta.url).href}";
let peak = Deno.memoryUsage().rss;
const timer = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 5);
const base = peak;
const t0 = performance.now();
const ck = await readTorchCheckpoint(Deno.args[0]);
const m = mapFastaiAwdLstm(ck.tensors);
const ms = performance.now() - t0;
peak = Math.max(peak, Deno.memoryUsage().rss);
clearInterval(timer);
console.log(JSON.stringify({ ms, peak, base, layers: m.layers }));
`;

/** Runs the checkpoint suite. */
export async function run(): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const model = awdLstm();
    let bytes = 0;
    for (const t of model.values()) bytes += t.data.byteLength;
    const mb = bytes / 1e6;
    const path = `${dir}/lm.safetensors`;
    const w = await timeMs(() => writeSafetensors(path, model), { iters: 3 });
    emit({
      suite: "checkpoint",
      case: "safetensors_write_atomic",
      value: +(mb / (w / 1000)).toFixed(1),
      unit: "MB/s",
      mb: +mb.toFixed(1),
      ms: Math.round(w),
    });
    const r = await timeMs(() => readSafetensors(path), { iters: 3 });
    emit({
      suite: "checkpoint",
      case: "safetensors_read_validated",
      value: +(mb / (r / 1000)).toFixed(1),
      unit: "MB/s",
      mb: +mb.toFixed(1),
      ms: Math.round(r),
    });
    const pth = `${dir}/lm.pth`;
    const { output: py } = await runOptional("/usr/bin/python3", { args: ["-c", PY, pth] });
    if (!py?.success) {
      emit({
        suite: "checkpoint",
        case: "torch_pth_read",
        value: NaN,
        unit: "MB/s",
        skipped: "no /usr/bin/python3 with torch",
      });
      return;
    }
    const size = (await Deno.stat(pth)).size;
    await Deno.writeTextFile(`${dir}/child.ts`, CHILD);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", `${dir}/child.ts`, pth],
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const res = JSON.parse(new TextDecoder().decode(out.stdout));
    emit({
      suite: "checkpoint",
      case: "torch_pth_read_and_map",
      value: +(size / 1e6 / (res.ms / 1000)).toFixed(1),
      unit: "MB/s",
      file_mb: +(size / 1e6).toFixed(1),
      ms: Math.round(res.ms),
      peak_rss_over_file: +((res.peak - res.base) / size).toFixed(2),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run();
