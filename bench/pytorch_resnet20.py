"""PyTorch baseline for `npm run bench`'s end-to-end number: ResNet-20 training throughput at batch 128.

The same work as bench/end_to_end.ts, in PyTorch fp32 eager mode: open_lth's CIFAR ResNet-20
(test/parity/open_lth_resnet.py), CIFAR-shaped uint8 images already on the device, and per step
the batch gather, random crop (4-pixel zero padding) and horizontal flip, normalisation, forward,
cross-entropy, backward and SGD (momentum 0.9, weight decay 1e-4, lr 0.1). The loss is read back
every 10 steps and at the end, as in ours. TF32 is off (matmul and cuDNN), so every product is
true fp32.

  python3 bench/pytorch_resnet20.py [--device cuda|cpu] [--steps 20] [--warmup 3] [--epoch]
                                    [--json FILE]

--epoch also times one full epoch (50,000 images, 391 steps of 128, the last one partial) by wall
clock, the issue's "ResNet-20 epoch in at most 2 s" figure. On a CPU, --threads N sets torch's
thread count (default: torch's own). Needs only PyTorch and numpy (Debian's python3-torch works);
never part of the default tests or the default path.
"""
import argparse
import json
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "parity"))
from open_lth_resnet import Model  # noqa: E402

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def augment(raw, idx, gen, mean, std):
    """raw uint8 [M,3,32,32] on the device -> normalised float [B,3,32,32]: pad 4, random crop, random flip."""
    x = raw[idx].float().div_(255.0)
    x = (x - mean) / std
    b = x.shape[0]
    # zero padding in raw pixel space (torchvision RandomCrop(padding=4) before Normalize): pad the
    # normalised image with the value raw 0 takes after normalisation
    pad_value = (-mean / std).view(1, 3, 1, 1)
    padded = pad_value.expand(b, 3, 40, 40).clone()
    padded[:, :, 4:36, 4:36] = x
    off = torch.randint(0, 9, (b, 2), device=raw.device, generator=gen)
    ar = torch.arange(32, device=raw.device)
    rows = (off[:, 0:1] + ar).view(b, 1, 32, 1)
    cols = (off[:, 1:2] + ar).view(b, 1, 1, 32)
    n = torch.arange(b, device=raw.device).view(b, 1, 1, 1)
    c = torch.arange(3, device=raw.device).view(1, 3, 1, 1)
    out = padded[n, c, rows, cols]
    flip = torch.rand(b, device=raw.device, generator=gen) < 0.5
    return torch.where(flip.view(b, 1, 1, 1), out.flip(3), out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--images", type=int, default=50_000, help="images resident on the device (the epoch size)")
    ap.add_argument("--epoch", action="store_true", help="also time one full epoch")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default="")
    args = ap.parse_args()

    dev = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = dev.type == "cuda"
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)

    raw = torch.randint(0, 256, (args.images, 3, 32, 32), dtype=torch.uint8, device=dev, generator=gen)
    labels = torch.randint(0, 10, (args.images,), device=dev, generator=gen)
    mean = torch.tensor(MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=dev).view(1, 3, 1, 1)
    model = Model(20, 16).to(dev)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    def step(idx, read):
        x = augment(raw, idx, gen, mean, std)
        loss = F.cross_entropy(model(x), labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item() if read else None

    order = torch.randperm(args.images, device=dev, generator=gen)
    batch_at = lambda i: order[(i * args.batch) % (args.images - args.batch + 1) :][: args.batch]  # noqa: E731
    for i in range(args.warmup):
        step(batch_at(i), True)
    sync()
    t0 = time.perf_counter()
    loss = None
    for i in range(args.steps):
        last = i == args.steps - 1
        r = step(batch_at(args.warmup + i), last or (i + 1) % 10 == 0)
        loss = r if r is not None else loss
    sync()
    dt = time.perf_counter() - t0
    ips = args.steps * args.batch / dt

    result = {
        "framework": "pytorch",
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or platform.machine(),
        "device_type": dev.type,
        "threads": torch.get_num_threads(),
        "dtype": "float32",
        "tf32": False,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "params": sum(p.numel() for p in model.parameters()),
        "batch": args.batch,
        "warmup_steps": args.warmup,
        "steps": args.steps,
        "train_images_per_s": ips,
        "step_ms": 1000 * dt / args.steps,
        "last_loss": loss,
    }
    if args.epoch:
        steps = (args.images + args.batch - 1) // args.batch
        order = torch.randperm(args.images, device=dev, generator=gen)
        sync()
        t0 = time.perf_counter()
        for i in range(steps):
            idx = order[i * args.batch : (i + 1) * args.batch]
            step(idx, i == steps - 1 or (i + 1) % 10 == 0)
        sync()
        result["epoch_s"] = time.perf_counter() - t0
        result["epoch_images"] = args.images
    print(json.dumps(result, indent=2))
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=2)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
