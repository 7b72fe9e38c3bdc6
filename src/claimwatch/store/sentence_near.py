"""Which stored articles the sentence index says may restate some wordings, as SQL.

A focused re-match (`claimwatch rematch --claim ID`) reads an English article only if it
holds one of the claim's words; an article in another language shares no word with a
translation, so without the index every one of them is read. With it, such an article is
read only if one of its indexed sentences is near a wording of the claim, or if the
index does not cover it yet. Near is a Hamming distance of the sign bits, NEAR_BITS of
512. The translations of tests/data/devset.jsonl lie within 163 bits of their claim's
nearest wording (cosine 0.51 and up); over the sample's 447 sentences against the seed
catalog's wordings every pair with a cosine of 0.4 or more lay within 207 bits, 0.5
within 186. Unrelated sentences lie near 256, but a sentence on the same topic may come
within 230 (cosine 0.3): a looser bound reads nearly every article.
"""

from __future__ import annotations

from dataclasses import dataclass

WORDS = 8
NEAR_BITS = 205


@dataclass(frozen=True)
class Near:
    """The sign bits of some wordings (eight 64-bit words each), under the index's model."""

    model: str
    codes: tuple[tuple[int, ...], ...]
    bound: int = NEAR_BITS

    def condition(self) -> tuple[str, list[object]]:
        """An SQL condition on an article's `url`, and its positional parameters."""
        if not self.codes:
            return "true", []
        distances = [
            " + ".join(f"bit_count(xor(h{w}, ?::UBIGINT))::INTEGER" for w in range(WORDS))
            for _ in self.codes
        ]
        nearest = distances[0] if len(distances) == 1 else f"least({', '.join(distances)})"
        sql = f"""(url IN (SELECT article_url FROM sentence_index WHERE {nearest} <= ?)
                   OR url NOT IN (SELECT article_url FROM indexed_articles WHERE model = ?))"""
        return sql, [*(word for code in self.codes for word in code), self.bound, self.model]
