/**
 * `denofit info FILE`: what a model file holds (`describeModelFile`) — a denofit model (kind, config,
 * vocabulary, classes, tensors), any safetensors file (tensors and metadata), or a PyTorch `.pth` state dict (a
 * fastai AWD-LSTM is recognised).
 *
 * @example Help names the argument
 * ```ts
 * import { infoCommand } from "./info.ts";
 * if (!infoCommand().helpInformation().includes("<file>")) throw new Error("no <file>");
 * ```
 *
 * @module
 */
import { Command } from "./_deps.ts";
import { describeModelFile } from "../text/model_file.ts";

/** The `info` command. */
export function infoCommand(): Command {
  return new Command("info")
    .description("what a model file holds (denofit safetensors, any safetensors, PyTorch .pth)")
    .argument("<file>", "the model file")
    .action(async (file: string) => {
      console.log(await describeModelFile(file));
    });
}
