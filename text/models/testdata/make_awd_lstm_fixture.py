"""Make awd_lstm_fixture.json for text/models/awd_lstm_test.ts: two training steps of a small AWD-LSTM LM
(dropouts off, tied weights, AR alpha=2 and TAR beta=1, AdamW lr 1e-2 betas (0.9, 0.99) eps 1e-5 wd 0.01),
the hidden state carried (detached) from the first batch to the second, as fastai's stateful LM does.

Run with Debian's PyTorch: /usr/bin/python3 text/models/testdata/make_awd_lstm_fixture.py
"""
import json, os
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
V, E, H, L, B, T, PAD = 12, 6, 8, 3, 3, 5, 1


def r(t):
    return [float(f"{x:.8g}") for x in t.detach().flatten().tolist()]


emb = nn.Embedding(V, E, padding_idx=PAD)
emb.weight.data.uniform_(-0.1, 0.1)
rnns = [nn.LSTM(E if l == 0 else H, E if l == L - 1 else H, batch_first=True) for l in range(L)]
dec = nn.Linear(E, V)
dec.weight = emb.weight
dec.bias.data.uniform_(-0.1, 0.1)


def named():
    d = {"encoder.weight": emb.weight}
    for i, m in enumerate(rnns):
        d[f"rnns.{i}.weightIH"] = m.weight_ih_l0
        d[f"rnns.{i}.weightHH"] = m.weight_hh_l0
        d[f"rnns.{i}.biasIH"] = m.bias_ih_l0
        d[f"rnns.{i}.biasHH"] = m.bias_hh_l0
    d["decoder.bias"] = dec.bias
    return d


ids = [torch.tensor([[PAD, PAD, 4, 5, 6], [2, 7, 8, 9, 10], [3, 11, 0, 4, 2]]),
       torch.tensor([[7, 8, 9, 10, 11], [4, 4, 5, 6, 3], [2, 9, 8, 7, 6]])]
tgt = [torch.tensor([[PAD, 4, 5, 6, 7], [7, 8, 9, 10, 11], [11, 0, 4, 2, 3]]),
       torch.tensor([[8, 9, 10, 11, 2], [4, 5, 6, 3, 2], [9, 8, 7, 6, 5]])]
params = named()
initial = {k: r(p) for k, p in params.items()}
opt = torch.optim.AdamW(list(params.values()), lr=1e-2, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
hidden = [None] * L
steps = []
for s in range(2):
    x = emb(ids[s])
    for l, m in enumerate(rnns):
        x, hc = m(x, hidden[l])
        hidden[l] = tuple(h.detach() for h in hc)
    logits = dec(x)
    ce = F.cross_entropy(logits.reshape(-1, V), tgt[s].reshape(-1))
    ar = 2 * x.pow(2).mean()
    tar = 1 * (x[:, 1:] - x[:, :-1]).pow(2).mean()
    loss = ce + ar + tar
    opt.zero_grad()
    loss.backward()
    grads = {k: r(p.grad) for k, p in params.items()}
    opt.step()
    steps.append({"loss": loss.item(), "ce": ce.item(), "ar": ar.item(), "tar": tar.item(), "grads": grads,
                  "after": {k: r(p) for k, p in params.items()}})

out = {"dims": {"V": V, "E": E, "H": H, "L": L, "B": B, "T": T, "PAD": PAD},
       "ids": [i.flatten().tolist() for i in ids], "targets": [t.flatten().tolist() for t in tgt],
       "initial": initial, "steps": steps}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "awd_lstm_fixture.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path)
