"""A benchmark worker: one process per library, driven by ``python -m benchmarks`` over stdin/stdout.

The driver sends one JSON request per line and reads one JSON answer per line, so the measurements
of e2layers, ``torch.nn.Conv2d`` and e2cnn (another interpreter: numpy < 2) can be interleaved in
short blocks while every process stays warm::

    {"op": "prepare", "key": "train/C8/b1/r2conv", "case": {...}}  -> {"seconds": one warm step}
    {"op": "time", "key": "...", "reps": 5}                        -> {"times": [...]}
    {"op": "memory", "case": {...}}                                  -> byte counts
    {"op": "quit"}

Run as ``python benchmarks/_worker.py LIBRARY --threads N --device cpu`` with the repository root on
``PYTHONPATH``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import warnings

import torch

from benchmarks import _cases


class Worker:
    def __init__(self, library: str, device: str):
        self.library, self.device = library, device
        self.prepared = {}

    def prepare(self, key: str, case: dict) -> dict:
        case = dict(case, library=self.library)
        if case["kind"].startswith("wrn"):
            step, reset, info = self._wrn_step(case)
        else:
            step, reset, info = _cases.step_function(case, self.device)
        for _ in range(2):   # warm-up: allocations, oneDNN primitives, the eval-mode filter cache
            step()
            reset()
        _cases.sync(self.device)
        t = time.perf_counter()
        step()
        _cases.sync(self.device)
        seconds = time.perf_counter() - t
        reset()
        self.prepared[key] = (step, reset)
        return dict(info, seconds=seconds)

    def time(self, key: str, reps: int) -> dict:
        step, reset = self.prepared[key]
        times = []
        for _ in range(reps):
            _cases.sync(self.device)
            t = time.perf_counter()
            step()
            _cases.sync(self.device)
            times.append(time.perf_counter() - t)
            reset()
        return {"times": times}

    def release(self, key: str) -> dict:
        self.prepared.pop(key, None)
        return {}

    def memory(self, case: dict) -> dict:
        """Bases held by one layer and its checkpoint bytes, in train and eval mode."""
        conv, _ = _cases.conv_layer(self.library, case["group"], case["fields"], case["k"])
        out = {"basis_bytes": _cases.basis_bytes(self.library, conv)}
        out["checkpoint_bytes"], out["state_tensor_bytes"] = _cases.checkpoint_bytes(conv.train())
        out["eval_checkpoint_bytes"], _ = _cases.checkpoint_bytes(conv.eval())
        out["parameter_bytes"] = sum(p.numel() * p.element_size() for p in conv.parameters())
        out["state_keys"] = sorted(conv.state_dict())
        return out

    def wrn_checkpoint(self, case: dict) -> dict:
        """The Wide ResNet's checkpoint against its parameters and running statistics, and against the
        plain CNN it exports to."""
        from examples.e2wrn import build_model
        from e2layers import nn
        model = build_model(case.get("preset", "wrn10_6_d8"))
        file_bytes, tensor_bytes = _cases.checkpoint_bytes(model)
        held = {name: t for name, t in list(model.named_parameters()) + list(model.named_buffers())
                if name in model.state_dict()}
        plain = nn.export(model.eval())
        plain_bytes, plain_tensor_bytes = _cases.checkpoint_bytes(plain)
        return {"checkpoint_bytes": file_bytes, "state_tensor_bytes": tensor_bytes,
                "parameter_and_statistics_bytes": sum(t.numel() * t.element_size() for t in held.values()),
                "extra_keys": sorted(set(model.state_dict()) - set(held)),
                "parameters": sum(p.numel() for p in model.parameters()),
                "plain_checkpoint_bytes": plain_bytes, "plain_parameters": sum(p.numel() for p in plain.parameters())}

    def _wrn_step(self, case: dict):
        """A training step (forward, cross-entropy, backward) of the Wide ResNet, or of its plain export."""
        from examples.e2wrn import build_model, parameter_count
        from e2layers import nn
        import torch.nn.functional as F
        torch.manual_seed(0)
        model = build_model(case.get("preset", "wrn10_6_d8"))
        if case["impl"] == "exported":
            model = nn.export(model)
        model = model.to(self.device).train()
        x = torch.randn(case["batch"], 3, 32, 32, device=self.device)
        y = torch.randint(0, 10, (case["batch"],), device=self.device)
        params = list(model.parameters())

        def step():
            F.cross_entropy(model(x), y).backward()

        def reset():
            for p in params:
                p.grad = None
        return step, reset, {"parameters": parameter_count(model)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("library", choices=_cases.LIBRARIES)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.threads:
        torch.set_num_threads(args.threads)
    _cases.library(args.library)
    worker = Worker(args.library, args.device)
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            break
        try:
            answer = getattr(worker, op)(**request)
        except Exception as error:   # the driver reports it and goes on with the other cases
            answer = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
