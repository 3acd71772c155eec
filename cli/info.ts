/**
 * `denofit info FILE`: what a model file holds — a denofit model (kind, config, vocabulary, classes, tensors),
 * any safetensors file (tensors and metadata), or a PyTorch `.pth` state dict (a fastai AWD-LSTM is recognised).
 *
 * @example Describe a small safetensors file
 * ```ts
 * import { describeModelFile } from "./info.ts";
 * import { saveCheckpoint } from "../nn/checkpoint/load.ts";
 * const p = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveCheckpoint(p, new Map([["w", { dtype: "f32" as const, shape: [2, 3], data: new Float32Array(6) }]]));
 * const text = await describeModelFile(p);
 * if (!text.includes("w [2, 3]") || !text.includes("6 parameters")) throw new Error(text);
 * await Deno.remove(p);
 * ```
 *
 * @module
 */
import { Command } from "./_deps.ts";
import { readSafetensors } from "../nn/formats/safetensors.ts";
import { readTorchCheckpoint } from "../nn/formats/torch.ts";
import { mapFastaiAwdLstm } from "../text/models/awd_lstm_fastai.ts";
import type { TensorMap } from "../nn/formats/tensor_map.ts";
import { CliError } from "./_common.ts";
import { META_BACKWARDS, META_CLASSES, META_ITOS } from "./ulmfit.ts";

function tensorLines(tensors: TensorMap, limit = 40): string[] {
  let total = 0;
  const lines: string[] = [];
  for (const [k, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    total += n;
    if (lines.length < limit) lines.push(`  ${k} [${t.shape.join(", ")}] ${t.dtype}`);
  }
  if (tensors.size > limit) lines.push(`  ... ${tensors.size - limit} more`);
  return [`${tensors.size} tensors, ${total} parameters`, ...lines];
}

/**
 * Describe a model file in a few lines.
 *
 * @param path a `.safetensors` or `.pth` / `.pt` file
 * @returns the description
 */
export async function describeModelFile(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
    throw new CliError(`${path}: no such file`);
  }
  const head = new TextDecoder().decode(bytes.subarray(8, 9));
  if (bytes.length >= 9 && head === "{") {
    const f = await readSafetensors(path);
    const m = f.metadata;
    const out = [`${path}: safetensors`];
    if (m["denofit.kind"]) {
      out.push(`denofit ${m["denofit.kind"]} model (denofit ${m["denofit.version"] ?? "?"})`);
      if (m["denofit.config"]) out.push(`config ${m["denofit.config"]}`);
      if (m[META_ITOS]) {
        const itos = JSON.parse(m[META_ITOS]) as string[];
        // tokens such as "\n" or " " are quoted, as `vocab build` shows them, so the preview stays on one line
        const shown = itos.slice(9, 25).map((t) => (/^\S+$/.test(t) ? t : JSON.stringify(t)));
        out.push(`vocabulary ${itos.length} tokens: ${shown.join(" ")} ...`);
      }
      if (m[META_CLASSES]) out.push(`classes ${(JSON.parse(m[META_CLASSES]) as string[]).join(", ")}`);
      if (m[META_BACKWARDS]) {
        out.push(`reads text ${m[META_BACKWARDS] === "true" ? "backwards" : "forwards"}`);
      }
    } else {
      const keys = Object.keys(m);
      out.push(keys.length ? `metadata: ${keys.join(", ")}` : "no metadata (not written by denofit)");
    }
    return [...out, ...tensorLines(f.tensors)].join("\n");
  }
  let ck;
  try {
    ck = await readTorchCheckpoint(path);
  } catch (e) {
    throw new CliError(
      `${path}: neither safetensors nor a PyTorch checkpoint (${e instanceof Error ? e.message : e})`,
    );
  }
  const out = [`${path}: PyTorch checkpoint (${ck.format} format)`];
  try {
    const mapped = mapFastaiAwdLstm(ck.tensors, { file: path });
    const emb = mapped.tensors.get("encoder.weight")!;
    out.push(
      `fastai AWD-LSTM ${mapped.kind} (${mapped.format} names), ${mapped.layers} layer${
        mapped.layers === 1 ? "" : "s"
      }, ` +
        `vocabulary ${emb.shape[0]}, embedding ${emb.shape[1]}` +
        (mapped.unused.length ? `; other tensors: ${mapped.unused.slice(0, 8).join(", ")}` : ""),
    );
  } catch {
    out.push("not a fastai AWD-LSTM state dict");
  }
  return [...out, ...tensorLines(ck.tensors)].join("\n");
}

/** The `info` command. */
export function infoCommand(): Command {
  return new Command("info")
    .description("what a model file holds (denofit safetensors, any safetensors, PyTorch .pth)")
    .argument("<file>", "the model file")
    .action(async (file: string) => {
      console.log(await describeModelFile(file));
    });
}
