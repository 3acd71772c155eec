"""PyTorch peer of bench/awd_lstm.ts: AWD-LSTM LM training throughput (tokens/s) with the same shapes.

Forward (embedding dropout, locked dropouts, weight-dropped W_hh, tied decoder), cross-entropy + AR/TAR,
backward, AdamW. Run with Debian's torch: `/usr/bin/python3 bench/awd_lstm_torch.py` (see bench/torch_peer.py
for the BLAS note). Prints one JSON line per case.
"""
import json
import os
import sys
import time

import torch

from _torch_threads import set_threads
import torch.nn as nn
import torch.nn.functional as F

CASES = [
    dict(name="awd_lstm_lm_small", vocab=8000, emb=128, hid=384, layers=3, bs=32, bptt=35, steps=3),
    dict(name="awd_lstm_lm_400_1152_3", vocab=8000, emb=400, hid=1152, layers=3, bs=32, bptt=70, steps=1),
]


class AwdLstmLM(nn.Module):
    def __init__(self, vocab, emb, hid, layers, input_p=0.25, hidden_p=0.15, embed_p=0.02, weight_p=0.2, output_p=0.1):
        super().__init__()
        self.encoder = nn.Embedding(vocab, emb, padding_idx=1)
        self.rnns = nn.ModuleList([nn.LSTM(emb if l == 0 else hid, emb if l == layers - 1 else hid, batch_first=True)
                                   for l in range(layers)])
        self.decoder = nn.Linear(emb, vocab)
        self.decoder.weight = self.encoder.weight
        self.p = dict(input_p=input_p, hidden_p=hidden_p, embed_p=embed_p, weight_p=weight_p, output_p=output_p)

    def locked(self, x, p):
        m = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)
        return x * m

    def forward(self, ids):
        p = self.p
        mask = self.encoder.weight.new_empty(self.encoder.weight.size(0), 1).bernoulli_(1 - p["embed_p"]) / (1 - p["embed_p"])
        x = self.locked(F.embedding(ids, self.encoder.weight * mask, padding_idx=1), p["input_p"])
        for l, rnn in enumerate(self.rnns):
            w = F.dropout(rnn.weight_hh_l0, p["weight_p"], training=True)
            x, _, _ = torch._VF.lstm(x, (x.new_zeros(1, x.size(0), rnn.hidden_size),) * 2,
                                  [rnn.weight_ih_l0, w, rnn.bias_ih_l0, rnn.bias_hh_l0], True, 1, 0.0, True, False, True)
            raw = x
            if l < len(self.rnns) - 1:
                x = self.locked(x, p["hidden_p"])
        out = self.locked(x, p["output_p"])
        return self.decoder(out), out, raw


def blas_file():
    """The BLAS file mapped into this process (after a first product), for the record."""
    try:
        with open("/proc/self/maps") as f:
            files = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
        return ", ".join(sorted(files)) or "none"
    except OSError:
        return "unknown"


def measure(c, threads, steps):
    """Tokens/s of `steps` training steps after one warm-up step, as one JSON-able record."""
    blas_threads = set_threads(threads)
    torch.manual_seed(0)
    lm = AwdLstmLM(c["vocab"], c["emb"], c["hid"], c["layers"])
    opt = torch.optim.AdamW(lm.parameters(), lr=1e-3, weight_decay=0.01)
    ids = (torch.arange(c["bs"] * c["bptt"]) * 7919 % c["vocab"]).view(c["bs"], c["bptt"])
    tgt = (ids + 1) % c["vocab"]

    def step():
        logits, out, raw = lm(ids)
        loss = F.cross_entropy(logits.view(-1, c["vocab"]), tgt.view(-1)) + 2 * out.pow(2).mean() \
            + (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    step_s = (time.perf_counter() - t0) / steps
    return {"suite": "awd_lstm", "case": c["name"], "value": round(c["bs"] * c["bptt"] / step_s),
            "unit": "tokens/s", "backend": "pytorch", "threads": torch.get_num_threads(), "blas_threads": blas_threads,
            "step_s": round(step_s, 3), "cpu_s": round((time.process_time() - c0) / steps, 3),
            "torch": torch.__version__, "blas": blas_file(), "load1": os.getloadavg()[0],
            "shape": f"vocab {c['vocab']}, {c['emb']}/{c['hid']}/{c['layers']}, bs {c['bs']}, bptt {c['bptt']}"}


def main():
    """Standalone: every case (AWD_BENCH_CASES filters) on all cores. `--serve`: one JSON request per stdin line,
    `{"case": name, "threads": n, "steps": k}`, answered with one JSON line (bench/awd_lstm.ts alternates with it)."""
    if "--serve" in sys.argv:
        by_name = {c["name"]: c for c in CASES}
        for line in sys.stdin:
            if line.strip():
                req = json.loads(line)
                print(json.dumps(measure(by_name[req["case"]], req["threads"], req["steps"])), flush=True)
        return
    only = os.environ.get("AWD_BENCH_CASES")
    for c in CASES:
        if only and not any(o in c["name"] for o in only.split(",")):
            continue
        print(json.dumps(measure(c, os.cpu_count() or 1, c["steps"])), flush=True)


if __name__ == "__main__":
    main()
