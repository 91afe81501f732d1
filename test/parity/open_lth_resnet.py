"""PyTorch parity check for early-phase (optional tier, never part of the default tests).

Loads an early-phase `model_final.safetensors` into an open_lth-equivalent CIFAR ResNet
(open_lth/models/cifar_resnet.py: conv/bn stem, blocks.N.{conv1,bn1,conv2,bn2,shortcut.0/1}, fc),
with `model.load_state_dict(...)` in strict mode, normalises the first N CIFAR-10 test images with
open_lth's transform (ToTensor + Normalize(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))),
and writes the logits as raw little-endian float32.

usage: python3 open_lth_resnet.py MODEL.safetensors test_batch.bin N OUT.f32 [depth] [width]
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_safetensors(path):
    """A minimal safetensors reader (so the tier needs only Debian's python3-torch and numpy)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "I64": np.int64, "U8": np.uint8}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[base + b : base + end], dtype=dtypes[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


class Block(nn.Module):
    def __init__(self, f_in, f_out, downsample=False):
        super().__init__()
        stride = 2 if downsample else 1
        self.conv1 = nn.Conv2d(f_in, f_out, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(f_out)
        self.conv2 = nn.Conv2d(f_out, f_out, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(f_out)
        if downsample or f_in != f_out:
            self.shortcut = nn.Sequential(nn.Conv2d(f_in, f_out, kernel_size=1, stride=2, bias=False), nn.BatchNorm2d(f_out))
        else:
            self.shortcut = nn.Sequential()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class Model(nn.Module):
    def __init__(self, depth=20, width=16, outputs=10):
        super().__init__()
        n = (depth - 2) // 6
        plan = [(width, n), (2 * width, n), (4 * width, n)]
        current = plan[0][0]
        self.conv = nn.Conv2d(3, current, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(current)
        blocks = []
        for segment_index, (filters, num_blocks) in enumerate(plan):
            for block_index in range(num_blocks):
                downsample = segment_index > 0 and block_index == 0
                blocks.append(Block(current, filters, downsample))
                current = filters
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(plan[-1][0], outputs)

    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = self.blocks(out)
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        return self.fc(out)


def main():
    model_path, batch_path, n, out_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    depth = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    width = int(sys.argv[6]) if len(sys.argv) > 6 else 16
    torch.backends.cudnn.allow_tf32 = False
    model = Model(depth, width)
    model.load_state_dict(load_safetensors(model_path), strict=True)
    model.eval()
    raw = np.fromfile(batch_path, dtype=np.uint8).reshape(-1, 3073)[:n]
    images = torch.from_numpy(raw[:, 1:].reshape(n, 3, 32, 32).astype(np.float32) / 255.0)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        logits = model((images - mean) / std)
    logits.numpy().astype("<f4").tofile(out_path)


if __name__ == "__main__":
    main()
