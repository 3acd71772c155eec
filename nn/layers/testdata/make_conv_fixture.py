"""Make conv_fixture.json for nn/layers/conv_test.ts: PyTorch Conv2d (stride 2, padding 1), MaxPool2d,
AvgPool2d (padding 1), BatchNorm2d (training) outputs and gradients.

Run with Debian's PyTorch: /usr/bin/python3 nn/layers/testdata/make_conv_fixture.py
"""
import json, os
import torch
import torch.nn as nn

torch.manual_seed(0)


def r(t):
    return [float(f"{x:.8g}") for x in t.detach().flatten().tolist()]


B, C, H, W, O, K = 2, 3, 5, 6, 4, 3
out = {"dims": {"B": B, "C": C, "H": H, "W": W, "O": O, "K": K}}
x = torch.randn(B, C, H, W, dtype=torch.float64, requires_grad=True)
conv = nn.Conv2d(C, O, K, stride=2, padding=1).double()
y = conv(x)
ry = torch.randn_like(y)
(y * ry).sum().backward()
out["conv"] = {"x": r(x), "weight": r(conv.weight), "bias": r(conv.bias), "y": r(y), "shape": list(y.shape), "r": r(ry),
               "grad_x": r(x.grad), "grad_weight": r(conv.weight.grad), "grad_bias": r(conv.bias.grad)}
for name, layer in [("maxpool", nn.MaxPool2d(2)), ("avgpool", nn.AvgPool2d(3, stride=2, padding=1)),
                    ("bn", nn.BatchNorm2d(C).double())]:
    x.grad = None
    y = layer(x)
    ry = torch.randn_like(y)
    (y * ry).sum().backward()
    case = {"y": r(y), "shape": list(y.shape), "r": r(ry), "grad_x": r(x.grad)}
    if name == "bn":
        case["running_mean"] = r(layer.running_mean)
        case["running_var"] = r(layer.running_var)
    out[name] = case
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_fixture.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path)
