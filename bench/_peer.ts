/**
 * Shared pieces of the benchmarks that run a PyTorch peer side by side: a peer process answering one JSON
 * request per line (`/usr/bin/python3 <script>`, Debian's torch), and what to record about the machine (CPU model,
 * load average, the BLAS file mapped into this process).
 *
 * @module
 */

/** A running peer: ask one request, get one JSON answer; close when done. */
export interface Peer {
  /** Send `req` as one JSON line and wait for the answer line. */
  ask: (req: unknown) => Promise<Record<string, unknown>>;
  /** Close its input and wait for it to exit. */
  close: () => Promise<void>;
}

/** Start `/usr/bin/python3 <script> ...args`, or return the reason it could not start. */
export function startPeer(script: URL, args: string[] = []): Peer | string {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("/usr/bin/python3", {
      args: [script.pathname, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    return `cannot start /usr/bin/python3 (${(e as Error).message})`;
  }
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  let buf = "";
  const readLine = async (): Promise<string | null> => {
    while (!buf.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) return null;
      buf += value;
    }
    const i = buf.indexOf("\n");
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return line;
  };
  const ask = async (req: unknown) => {
    await writer.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const line = await readLine();
    if (line === null) throw new Error("the PyTorch peer exited (is torch installed for /usr/bin/python3?)");
    return JSON.parse(line) as Record<string, unknown>;
  };
  const close = async () => {
    await writer.close();
    await lines.cancel();
    await child.status;
  };
  return { ask, close };
}

/** Start a peer and check it answers `probe`; a string says why there is none (printed by the caller). */
export async function startCheckedPeer(
  script: URL,
  probe: unknown,
  args: string[] = [],
): Promise<Peer | string> {
  const peer = startPeer(script, args);
  if (typeof peer === "string") return peer;
  try {
    await peer.ask(probe);
    return peer;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The CPU model and the 1-minute load average. */
export function machine(): { cpu_model: string; load1: number } {
  let model = "unknown";
  try {
    model = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? model;
  } catch { /* not Linux */ }
  return { cpu_model: model, load1: +Deno.loadavg()[0]!.toFixed(2) };
}

/** The BLAS files mapped into this process (Linux), or `"none"`. */
export function mappedBlas(): string {
  try {
    const files = new Set(
      Deno.readTextFileSync("/proc/self/maps").split("\n").map((l) => l.split(/\s+/)[5] ?? "")
        .filter((f) => /blas|mkl/i.test(f)),
    );
    return files.size ? [...files].join(", ") : "none";
  } catch {
    return "unknown";
  }
}

/** Median of `xs` (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), h = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}
