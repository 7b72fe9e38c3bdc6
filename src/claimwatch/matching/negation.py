"""Negation in the languages the catalog is written in.

A quote that denies its claim reads almost like it: "l'OTAN n'est pas responsable de
l'invasion de l'Ukraine par la Russie" scores 94.7 against "L'OTAN est responsable de
l'invasion de l'Ukraine par la Russie". The matcher takes points off when a wording and
its evidence disagree on negation; this says whether a normalised text negates.
"""

from __future__ import annotations

import re

from claimwatch.matching.terms import CJK

# Words that negate (English, German, French, Russian, Spanish, Italian), as normalised
# text spells them ("ё" folded to "е"). Not "sans", "ohne" or "без": set phrases ("sans
# cesse", "ohne Zweifel") use them as often as denials do; nor "personne", a person as
# often as nobody. The matcher and the verifier's evidence (evidence.py) read the same.
_WORDS = frozenset(
    str.split(
        "no not never nor cannot without neither none nobody nothing "
        "nicht nichts nie niemals kein keine keinen keinem keiner keines weder "
        "ne pas jamais aucun aucune rien ni "
        "не нет никогда ни ничего нельзя никто "
        "nunca jamás ningún ninguna ninguno nada nadie "
        "non mai nessun nessuna nessuno niente nulla"
    )
)
# Chinese negates with characters, Japanese (told by its kana) with endings, and both
# with the prefix 不 (不可分, 不可分割: "indivisible"). Japanese 無 (無秩序, "disorder") and
# 別 ("other") are no negation.
_CHINESE_NEGATION = re.compile(r"[不没未无莫]")
_JAPANESE_NEGATION = re.compile(r"ない|ません|なかった|不")
_KANA = re.compile(r"[\u3040-\u30ff]")
_TOKENS = re.compile(r"[\w']+")
# Japanese negates after the predicate, where a span may end ("責任はNATOに|はない"): a
# few characters after Chinese or Japanese evidence are read too.
CJK_TAIL = 4


def negated(text: str) -> bool:
    """Whether normalised `text` holds a negation."""
    if _KANA.search(text):
        return bool(_JAPANESE_NEGATION.search(text))
    if CJK.search(text):
        return bool(_CHINESE_NEGATION.search(text))
    return any(
        w in _WORDS or w.endswith("n't") or w.startswith("n'") for w in _TOKENS.findall(text)
    )
