/**
 * `denofit info FILE`: what a model file holds (`describeModelFile`) — a denofit model (kind, config,
 * vocabulary, classes, tensors), any safetensors file (tensors and metadata), or a PyTorch `.pth` state dict (a
 * fastai AWD-LSTM is recognised). `denofit info --backend`: which compute backend `--backend auto` would use and
 * why, and which kernel the CPU backend's f32 matmuls and convolutions run on (the machine's BLAS through FFI,
 * or WebAssembly SIMD) and why.
 *
 * @example Help names the argument and the option
 * ```ts
 * import { infoCommand } from "./info.ts";
 * const help = infoCommand().helpInformation();
 * if (!help.includes("[file]") || !help.includes("--backend")) throw new Error(help);
 * ```
 *
 * @module
 */
import { Command } from "./_deps.ts";
import { CliError, cliThreads } from "./_common.ts";
import { describeModelFile } from "../text/model_file.ts";
import { CpuBackend, createBackend } from "../gpu/mod.ts";

/**
 * What `denofit info --backend` prints: the backend an `auto` choice makes and why, then the CPU backend's
 * matmul kernel and why (with the thread count the commands use).
 *
 * @param threads Threads of the CPU backend the commands make.
 * @returns Lines of text.
 * @example The CPU line is always there
 * ```ts
 * import { describeBackends } from "./info.ts";
 * const text = await describeBackends(1);
 * if (!text.includes("cpu matmul:")) throw new Error(text);
 * ```
 */
export async function describeBackends(threads: number): Promise<string> {
  const { backend, reason } = await createBackend({ prefer: "auto", quiet: true, cpu: { threads } });
  const lines = [`backend (auto): ${backend.name} — ${reason}`];
  const cpu = backend instanceof CpuBackend ? backend : new CpuBackend({ threads });
  lines.push(`cpu matmul: ${cpu.matmulKernel} — ${cpu.matmulReason}`);
  lines.push(`cpu threads: ${cpu.threads}`);
  if (cpu !== backend) cpu.dispose();
  backend.dispose();
  return lines.join("\n");
}

/** The `info` command. */
export function infoCommand(): Command {
  return new Command("info")
    .description(
      "what a model file holds (denofit safetensors, any safetensors, PyTorch .pth); --backend: the compute backend in use and why",
    )
    .argument("[file]", "the model file")
    .option("--backend", "say which backend and CPU matmul kernel (BLAS or WebAssembly) are used, and why")
    .action(async (file: string | undefined, opts: { backend?: boolean }) => {
      if (opts.backend) {
        console.log(await describeBackends(cliThreads()));
      }
      if (file !== undefined) console.log(await describeModelFile(file));
      else if (!opts.backend) throw new CliError("info: give a model file, or --backend");
    });
}
