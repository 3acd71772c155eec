/**
 * Small dependency-free SVG line plots for training curves: loss vs iterations, learning rate vs iterations,
 * and the learning-rate finder's loss vs log learning rate (fastai `recorder.plot_loss`, `plot_sched`,
 * `plot_lr_find`).
 *
 * @example A loss curve as an SVG string
 * ```ts
 * import { lineChartSvg } from "./plot.ts";
 * const svg = lineChartSvg([{ name: "train", x: [0, 1, 2], y: [3, 2, 1.5] }], { title: "loss" });
 * if (!svg.startsWith("<svg") || !svg.includes("<polyline")) throw new Error("not an svg plot");
 * ```
 *
 * @module
 */

/** One line of a chart. */
export interface Series {
  /** Legend label. */
  name: string;
  /** x values. */
  x: readonly number[];
  /** y values, same length as `x`. */
  y: readonly number[];
}

/** Options of {@linkcode lineChartSvg}. */
export interface ChartOptions {
  /** Title above the plot. @default "" */
  title?: string;
  /** x-axis label. @default "" */
  xLabel?: string;
  /** y-axis label. @default "" */
  yLabel?: string;
  /** Logarithmic x axis (base 10). @default false */
  logX?: boolean;
  /** Width in pixels. @default 640 */
  width?: number;
  /** Height in pixels. @default 400 */
  height?: number;
  /** Marker drawn at this x on the first series (e.g. the suggested learning rate). */
  markX?: number;
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-2 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

/** Five "nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/**
 * Render series as an SVG line chart. Non-finite points are skipped.
 *
 * @param series the lines
 * @returns the SVG document
 */
export function lineChartSvg(
  series: readonly Series[],
  { title = "", xLabel = "", yLabel = "", logX = false, width = 640, height = 400, markX }: ChartOptions = {},
): string {
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new Error(`lineChartSvg: series "${s.name}" has ${s.x.length} x, ${s.y.length} y`);
    }
  }
  const tx = (v: number) => logX ? Math.log10(v) : v;
  const pts = series.map((s) =>
    s.x.map((x, i) => [tx(x), s.y[i]!] as const).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
  );
  const all = pts.flat();
  if (all.length === 0) throw new Error("lineChartSvg: no finite points to plot");
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const m = { l: 64, r: 16, t: title ? 32 : 12, b: 44 };
  const pw = width - m.l - m.r, ph = height - m.t - m.b;
  const px = (x: number) => m.l + (x - x0) / (x1 - x0) * pw;
  const py = (y: number) => m.t + (1 - (y - y0) / (y1 - y0)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`,
  ];
  if (title) {
    out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  }
  for (const v of niceTicks(x0, x1)) {
    const label = logX ? `1e${v}` : fmt(v);
    out.push(
      `<line x1="${px(v).toFixed(1)}" y1="${m.t + ph}" x2="${px(v).toFixed(1)}" y2="${
        m.t + ph + 4
      }" stroke="#444"/>`,
    );
    out.push(`<text x="${px(v).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${label}</text>`);
  }
  for (const v of niceTicks(y0, y1)) {
    out.push(
      `<line x1="${m.l - 4}" y1="${py(v).toFixed(1)}" x2="${m.l}" y2="${py(v).toFixed(1)}" stroke="#444"/>`,
    );
    out.push(`<text x="${m.l - 6}" y="${(py(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  if (xLabel) {
    out.push(`<text x="${m.l + pw / 2}" y="${height - 8}" text-anchor="middle">${esc(xLabel)}</text>`);
  }
  if (yLabel) {
    out.push(
      `<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${
        esc(yLabel)
      }</text>`,
    );
  }
  pts.forEach((p, i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = p.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"/>`);
    if (series.length > 1) {
      out.push(
        `<text x="${m.l + pw - 8}" y="${m.t + 16 + 14 * i}" text-anchor="end" fill="${color}">${
          esc(series[i]!.name)
        }</text>`,
      );
    }
  });
  if (markX !== undefined && pts[0]?.length) {
    const mx = tx(markX);
    const near = pts[0].reduce((a, b) => Math.abs(b[0] - mx) < Math.abs(a[0] - mx) ? b : a);
    out.push(`<circle cx="${px(near[0]).toFixed(1)}" cy="${py(near[1]).toFixed(1)}" r="4" fill="red"/>`);
  }
  out.push("</svg>");
  return out.join("\n");
}

/** Options of the plot writers: where the SVG file goes is their first argument. */
export interface PlotFileOptions {
  /** Iterations to skip at the end of a learning-rate-finder plot (fastai `skip_end`). @default 5 */
  skipEnd?: number;
  /** Iterations to skip at the start. @default 0 */
  skipStart?: number;
}

/**
 * Write the training loss per iteration (and the validation loss at the end of each epoch, if given) as SVG.
 *
 * @param path output file
 * @param curves `train` loss per iteration; `valid` as `{ iter, loss }` points
 */
export async function plotLoss(
  path: string,
  curves: { train: readonly number[]; valid?: readonly { iter: number; loss: number }[] },
  { skipStart = 0 }: PlotFileOptions = {},
): Promise<void> {
  const series: Series[] = [{
    name: "train",
    x: curves.train.map((_, i) => i).slice(skipStart),
    y: curves.train.slice(skipStart),
  }];
  if (curves.valid?.length) {
    series.push({ name: "valid", x: curves.valid.map((p) => p.iter), y: curves.valid.map((p) => p.loss) });
  }
  await Deno.writeTextFile(
    path,
    lineChartSvg(series, { title: "loss", xLabel: "iteration", yLabel: "loss" }),
  );
}

/**
 * Write the learning rate (and momentum, if given) per iteration as SVG.
 *
 * @param path output file
 * @param lrs learning rate of each iteration
 * @param moms momentum of each iteration (drawn in a second chart beside the first)
 */
export async function plotLr(path: string, lrs: readonly number[], moms?: readonly number[]): Promise<void> {
  const x = lrs.map((_, i) => i);
  const lrSvg = lineChartSvg([{ name: "lr", x, y: lrs }], {
    title: "learning rate",
    xLabel: "iteration",
    yLabel: "lr",
  });
  if (!moms?.length) return await Deno.writeTextFile(path, lrSvg);
  const momSvg = lineChartSvg([{ name: "momentum", x: moms.map((_, i) => i), y: moms }], {
    title: "momentum",
    xLabel: "iteration",
    yLabel: "momentum",
  });
  // two 640-wide charts side by side (nested <svg> elements keep their own coordinates)
  await Deno.writeTextFile(
    path,
    `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="400">\n${lrSvg}\n` +
      `${momSvg.replace("<svg ", '<svg x="640" ')}\n</svg>`,
  );
}

/**
 * Write the learning-rate finder's smoothed loss against the learning rate (log scale) as SVG, with the
 * suggested learning rate marked.
 *
 * @param path output file
 * @param result `lrs`, `losses` and optionally the `suggestion` of `lrFind`
 */
export async function plotLrFind(
  path: string,
  result: { lrs: readonly number[]; losses: readonly number[]; suggestion?: { lrSteep: number } },
  { skipEnd = 5, skipStart = 0 }: PlotFileOptions = {},
): Promise<void> {
  const end = Math.max(skipStart + 1, result.lrs.length - skipEnd);
  const opts: ChartOptions = {
    title: "learning rate finder",
    xLabel: "learning rate (log scale)",
    yLabel: "loss",
    logX: true,
  };
  if (result.suggestion && Number.isFinite(result.suggestion.lrSteep)) opts.markX = result.suggestion.lrSteep;
  await Deno.writeTextFile(
    path,
    lineChartSvg([{
      name: "loss",
      x: result.lrs.slice(skipStart, end),
      y: result.losses.slice(skipStart, end),
    }], opts),
  );
}
