"""Make rnn_fixture.json: PyTorch LSTM/GRU/RNN outputs and gradients for nn/layers/rnn_test.ts.

Run with Debian's PyTorch: /usr/bin/python3 nn/layers/testdata/make_rnn_fixture.py
"""
import json, os
import torch


def r(v):
    """Round to 8 significant digits (the tests compare in f32)."""
    return [float(f"{x:.8g}") for x in v]

torch.manual_seed(0)
B, T, I, H = 2, 5, 3, 4
out = {}
for kind, cls in [("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU), ("rnn", torch.nn.RNN)]:
    for bidir in [False, True]:
        m = cls(I, H, num_layers=2, bidirectional=bidir, batch_first=True).double()
        D = 2 if bidir else 1
        x = torch.randn(B, T, I, dtype=torch.float64, requires_grad=True)
        h0 = torch.randn(2 * D, B, H, dtype=torch.float64, requires_grad=True)
        c0 = torch.randn(2 * D, B, H, dtype=torch.float64, requires_grad=True)
        r_out = torch.randn(B, T, D * H, dtype=torch.float64)
        r_h = torch.randn(2 * D, B, H, dtype=torch.float64)
        r_c = torch.randn(2 * D, B, H, dtype=torch.float64)
        if kind == "lstm":
            y, (h, c) = m(x, (h0, c0))
            loss = (y * r_out).sum() + (h * r_h).sum() + (c * r_c).sum()
        else:
            y, h = m(x, h0)
            c = None
            loss = (y * r_out).sum() + (h * r_h).sum()
        loss.backward()
        case = {
            "x": r(x.detach().flatten().tolist()),
            "h0": r(h0.detach().flatten().tolist()),
            "r_out": r(r_out.flatten().tolist()),
            "r_h": r(r_h.flatten().tolist()),
            "output": r(y.detach().flatten().tolist()),
            "h": r(h.detach().flatten().tolist()),
            "loss": loss.item(),
            "grad_x": r(x.grad.flatten().tolist()),
            "grad_h0": r(h0.grad.flatten().tolist()),
            "params": {n: r(p.detach().flatten().tolist()) for n, p in m.named_parameters()},
            "grads": {n: r(p.grad.flatten().tolist()) for n, p in m.named_parameters()},
        }
        if kind == "lstm":
            case.update({"c0": r(c0.detach().flatten().tolist()), "r_c": r(r_c.flatten().tolist()),
                         "c": r(c.detach().flatten().tolist()), "grad_c0": r(c0.grad.flatten().tolist())})
        out[f"{kind}{'_bidir' if bidir else ''}"] = case
out["dims"] = {"B": B, "T": T, "I": I, "H": H}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn_fixture.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path)
