"""The model runtime: onnxruntime sessions as the encoders use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def one_thread_session(graph: Path) -> Any:
    """An onnxruntime session for the graph at `graph`, on one thread: passes run one
    encoder per worker process, and one worker per core."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
