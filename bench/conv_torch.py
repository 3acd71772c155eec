"""PyTorch peer of bench/conv.ts: reads one JSON request per line on stdin, times the same convolution in the same
way (forward, and forward + backward into the weight, bias and, where asked, the input), and answers one JSON line.

Started by bench/conv.ts with Debian's torch (`/usr/bin/python3`); conv runs on oneDNN (MKL-DNN) there. A request:
`{"x": [B, C, H, W], "w": [O, C, KH, KW], "stride": s, "padding": p, "gradInput": bool, "threads": n, "iters": k}`.
"""
import json
import statistics
import sys
import time

import torch

from _torch_threads import set_threads
import torch.nn.functional as F


def median_ms(fn, iters, warmup=1):
    """Median wall and process-CPU milliseconds (all threads) of one call."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(iters):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def measure(req):
    blas_threads = set_threads(req["threads"])
    torch.manual_seed(0)
    x = torch.randn(*req["x"], requires_grad=req["gradInput"])
    w = torch.randn(*req["w"], requires_grad=True)
    b = torch.randn(req["w"][0], requires_grad=True)
    s, p = req["stride"], req["padding"]
    with torch.no_grad():
        g = torch.ones_like(F.conv2d(x, w, b, s, p))

    def fwd():
        with torch.no_grad():
            F.conv2d(x, w, b, s, p)

    def fwd_bwd():
        for t in (x, w, b):
            t.grad = None
        F.conv2d(x, w, b, s, p).backward(g)

    f, fb = median_ms(fwd, req["iters"]), median_ms(fwd_bwd, req["iters"])
    return {"fwd_ms": f[0], "fwd_cpu_ms": f[1], "fwd_bwd_ms": fb[0], "fwd_bwd_cpu_ms": fb[1],
            "torch": torch.__version__, "mkldnn": torch.backends.mkldnn.is_available(),
            "threads": torch.get_num_threads(), "blas_threads": blas_threads}


for line in sys.stdin:
    if line.strip():
        print(json.dumps(measure(json.loads(line))), flush=True)
