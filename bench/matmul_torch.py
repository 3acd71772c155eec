"""PyTorch peer of the matmul comparison in bench/cpu.ts: reads one JSON request per line on stdin,
`{"m": M, "k": K, "n": N, "bT": bool, "threads": t, "iters": i}`, times `torch.mm(a, b)` (b used transposed when
`bT`) the same way (median wall ms after one warm-up, process CPU ms) and answers one JSON line, with the BLAS
file torch has mapped (Debian's torch calls libblas.so.3, which the alternatives may point at OpenBLAS).
"""
import json
import os
import statistics
import sys
import time

import torch

from _torch_threads import set_threads


def blas_file():
    try:
        with open("/proc/self/maps") as f:
            files = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
        return ", ".join(sorted(files)) or "none"
    except OSError:
        return "unknown"


def measure(req):
    blas_threads = set_threads(req["threads"])
    torch.manual_seed(0)
    m, k, n = req["m"], req["k"], req["n"]
    a = torch.randn(m, k)
    b = torch.randn(n, k).t() if req["bT"] else torch.randn(k, n)
    out = torch.empty(m, n)
    torch.mm(a, b, out=out)
    wall, cpu = [], []
    for _ in range(req["iters"]):
        c0, t0 = time.process_time(), time.perf_counter()
        torch.mm(a, b, out=out)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"ms": statistics.median(wall), "cpu_ms": statistics.median(cpu), "threads": torch.get_num_threads(),
            "blas_threads": blas_threads, "torch": torch.__version__, "blas": blas_file(), "load1": os.getloadavg()[0]}


for line in sys.stdin:
    if line.strip():
        print(json.dumps(measure(json.loads(line))), flush=True)
