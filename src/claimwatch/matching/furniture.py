"""Page furniture: lines of an extracted text that are not the article's own words.

Extraction keeps some of a page's navigation, related-story boxes, cookie notices and
sign-up prompts. A "Related: 'Ukraine today, Asia tomorrow', explained" line quotes a
claim, but the article does not repeat it, so neither detection nor suggestion may
look at such lines. `blank_furniture` replaces them with spaces, which keeps every
offset into the text valid for the evidence.
"""

from __future__ import annotations

import re

# How furniture lines start, in the languages claimwatch is used on.
_LABELS = (
    r"related|read more|read also|also read|see also|more from|more on|most read|most popular"
    r"|recommended|trending|latest|top stories|watch|listen|advertisement|sponsored"
    r"|sign up|subscribe|newsletter|share( this)?|follow us|photo|image|credit|video"
    r"|à lire aussi|lire aussi|voir aussi|sur le même sujet|les plus lus|publicité|abonnez-vous"
    r"|lesen sie auch|mehr zum thema|auch interessant|meistgelesen|anzeige|abonnieren"
    r"|leggi anche|potrebbe interessarti|(?:i )?più lett[io]|pubblicità|iscriviti"
    r"|lee también|te puede interesar|lo más leído|publicidad|suscríbete|relacionad[oa]s?"
    r"|correlati|articoli correlati|verwandte artikel|ähnliche artikel|связанные материалы"
    r"|читайте также|по теме|популярное|реклама|подписывайтесь"
    r"|广告|広告"
)
_LABEL = re.compile(rf"^\W{{0,3}}(?:{_LABELS})\b\s*[:：|»›>\-–—]", re.IGNORECASE)
# Calls to action need no separator: "Subscribe to our newsletter for daily updates."
_CALL_TO_ACTION = re.compile(
    r"^\W{0,3}(?:subscribe|sign up|follow us|download our|get our|abonnez-vous|inscrivez-vous"
    r"|abonnieren sie|melden sie sich|iscriviti|suscríbete|подпишитесь)\b",
    re.IGNORECASE,
)
# A label of a script without word boundaries (Chinese, Japanese) needs no separator.
_CJK_LABEL = re.compile(r"^\W{0,3}(?:相关|延伸阅读|推荐阅读|热门|関連記事|おすすめ|人気記事)")
_COOKIES = re.compile(r"\bcookies?\b|\bcookie-|クッキー|файлы cookie", re.IGNORECASE)
_MENU_SEPARATORS = re.compile(r"\s[|•·›»/]\s")
# A menu is several short items in one line: "Home | World | Asia | Opinion".
MENU_ITEMS = 3
MENU_ITEM_WORDS = 4


def is_furniture(line: str) -> bool:
    """Whether one line of extracted text is page furniture rather than prose."""
    stripped = line.strip()
    if not stripped:
        return False
    if _LABEL.match(stripped) or _CJK_LABEL.match(stripped) or _mentions_cookies(stripped):
        return True
    if _CALL_TO_ACTION.match(stripped):
        return True
    items = _MENU_SEPARATORS.split(stripped)
    return len(items) >= MENU_ITEMS and all(len(i.split()) <= MENU_ITEM_WORDS for i in items)


def _mentions_cookies(line: str) -> bool:
    # The search took three quarters of this module's time on real pages, where hardly
    # a line says "cookie": the plain test spares most lines it.
    return ("cookie" in line.lower() or "クッキー" in line) and _COOKIES.search(line) is not None


def blank_furniture(text: str) -> str:
    """`text` with its furniture lines turned into spaces (same length, same offsets)."""
    lines = text.split("\n")
    if not any(is_furniture(line) for line in lines):
        return text
    return "\n".join(" " * len(line) if is_furniture(line) else line for line in lines)
