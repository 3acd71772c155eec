"""PyTorch side of the `gpu` benchmark suite: the same cases as bench/gpu.ts, printed as the same JSON lines.

Run with Debian's torch: `/usr/bin/python3 bench/torch_peer.py`. Debian links torch against reference BLAS;
for OpenBLAS (as in bench/RESULTS.md) unpack `libopenblas0-pthread` (`apt-get download libopenblas0-pthread &&
dpkg -x *.deb root`) and run with `LD_LIBRARY_PATH=root/usr/lib/x86_64-linux-gnu/openblas-pthread`.
The `blas` field says which library was loaded.
"""
import json
import os
import statistics
import time

import torch

from _torch_threads import set_threads


def blas_name():
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    if "openblas" in maps:
        return "openblas"
    if "libblas" in maps:
        return "reference"
    return "unknown"


def median_time(fn, iters=5, warmup=1):
    """Median wall seconds of `fn`; also records mean process CPU seconds per call in CPU_S[0]."""
    for _ in range(warmup):
        fn()
    times = []
    c0 = time.process_time()
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    CPU_S[0] = (time.process_time() - c0) / iters
    return statistics.median(times)


CPU_S = [0.0]


def emit(case, value, unit, **extra):
    rec = {"suite": "gpu", "case": case, "backend": "pytorch", "adapter": f"torch {torch.__version__} cpu",
           "value": value, "unit": unit, "threads": torch.get_num_threads(), "blas": blas_name(),
           "cpu_s": CPU_S[0], "load1": os.getloadavg()[0]}
    rec.update(extra)
    print(json.dumps(rec), flush=True)


def main():
    set_threads(int(os.environ.get("TORCH_THREADS", os.cpu_count() or 1)))
    torch.manual_seed(0)
    for n in (256, 512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        t = median_time(lambda: torch.mm(a, b), iters=3 if n >= 2048 else 5)
        emit(f"matmul_{n}", 2 * n ** 3 / t / 1e9, "GFLOP/s", gflop_per_cpu_s=2 * n ** 3 / CPU_S[0] / 1e9)
    for (m, k, n) in ((32, 400, 4608), (32, 1152, 4608)):
        x, w = torch.randn(m, k), torch.randn(n, k)
        t = median_time(lambda: torch.mm(x, w.t()))
        emit(f"matmul_{m}x{k}x{n}", 2 * m * k * n / t / 1e9, "GFLOP/s", layout="x@W^T")
    lstm = torch.nn.LSTM(400, 1152)
    x = torch.randn(70, 32, 400, requires_grad=True)
    g = torch.randn(70, 32, 1152)

    def fwd_bwd():
        out, _ = lstm(x)
        out.backward(g)

    t = median_time(fwd_bwd, iters=3)
    emit("lstm_fwd_bwd", t, "s", shape="(70, 32, 400) -> 1152")


if __name__ == "__main__":
    main()
