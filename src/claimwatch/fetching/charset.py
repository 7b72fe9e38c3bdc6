"""Character encodings: the text of a fetched body whose declared charset may be wrong or missing.

The order of evidence, strongest first:

1. a byte-order mark (or, for XML, the UTF-16/32 pattern of a leading ``<``);
2. the HTTP ``charset``, if the body actually decodes with it;
3. the document's own declaration (``<meta charset>``, ``http-equiv``, the XML
   declaration), if the body decodes with it;
4. detection (charset_normalizer, which trafilatura brings);
5. UTF-8 with replacement characters.

Two rules of thumb from the web as it is refine "decodes": a body that is valid,
non-ASCII UTF-8 is UTF-8 whatever it declares (legacy text is practically never
valid UTF-8 by accident, while servers labelling UTF-8 as ISO-8859-1 are
common); and a body declared UTF-8 that is mostly UTF-8 with a few stray bytes
(a pasted Windows quote) keeps its UTF-8 and reads the stray bytes as cp1252.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

Markup = Literal["html", "xml"]

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A document starting with "<" in UTF-16 or UTF-32 without a BOM (XML 1.0, appendix F).
_WIDE_STARTS = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
# Labels browsers read as a superset (WHATWG Encoding): decoding by the superset loses nothing.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859_1": "cp1252",
    "iso8859_9": "cp1254",
    "iso8859_11": "cp874",
    "tis_620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "utf_8_sig": "utf-8",
    # Without a BOM (a BOM is read before any label), as browsers assume.
    "utf_16": "utf-16-le",
    "utf_32": "utf-32-le",
}
_WIDE = {"utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be"}
# Code pages whose languages detection gets right where cp1252 would only read them cleanly
# (Turkish, Baltic, Vietnamese letters become other Latin letters).
_TRUSTED_GUESSES = {"cp1254", "cp1257", "cp1258"}
# UTF-7 can smuggle markup past escaping ("+ADw-script+AD4-"): never honoured.
_REFUSED = {"utf_7"}

PRESCAN_BYTES = 16 * 1024
DETECT_BYTES = 64 * 1024
_META = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECL_TEXT = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_NON_ASCII = re.compile(rb"[\x80-\xff]+")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# C0 controls other than tab, line feed, form feed and carriage return, and DEL: a text
# holds a few by accident, binary data holds many.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# What XML 1.0 forbids of them (form feed too).
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


@dataclass(frozen=True, slots=True)
class Decoded:
    """A body as text, with the codec used and why it was chosen."""

    text: str
    encoding: str  # a Python codec name: "utf-8", "cp1252", "utf-16-le", ...
    source: str  # "bom", "http", "meta", "xml", "utf-8", "detected" or "fallback"


def codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label, widened to its browser superset; None if unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    key = name.replace("-", "_")
    if key in _REFUSED:
        return None
    return _SUPERSETS.get(key, name)


def declared_in_document(content: bytes, markup: Markup = "html") -> tuple[str, str] | None:
    """The charset a document declares itself, as ("meta" or "xml", label)."""
    head = content[:PRESCAN_BYTES]
    if markup == "html":
        found = _META.search(head)
        if found:
            return "meta", found.group(1).decode("ascii")
    found = _XML_DECL.match(head)
    return ("xml", found.group(1).decode("ascii")) if found else None


def decode_body(content: bytes, declared: str | None = None, markup: Markup = "html") -> Decoded:
    """The text of `content`, served with charset `declared` (None when the header had none)."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return Decoded(content[len(bom) :].decode(name, "replace"), name, "bom")
    for start, name in _WIDE_STARTS:
        if content.startswith(start):
            return Decoded(content.decode(name, "replace"), name, "bom")

    # The fast path, and by far the common case: valid UTF-8. No other declaration
    # can win over it except a wide one (UTF-16 text of ASCII is valid UTF-8 too).
    try:
        utf8: str | None = content.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and b"\x00" not in content[:PRESCAN_BYTES]:
        http = codec_name(declared)
        return Decoded(utf8, "utf-8", "http" if http == "utf-8" else "utf-8")

    candidates: list[tuple[str, str | None]] = [("http", declared)]
    candidates.append(declared_in_document(content, markup) or ("meta", None))
    for source, label in candidates:
        codec = codec_name(label)
        if codec is None:
            continue
        if codec == "utf-8":
            if utf8 is not None:
                return Decoded(utf8, "utf-8", source)
            if _mostly_utf8(content):
                return Decoded(content.decode("utf-8", "claimwatch-cp1252"), "utf-8", source)
            continue
        if codec.replace("-", "_") in _WIDE:
            if b"\x00" not in content[:PRESCAN_BYTES]:
                continue  # declared UTF-16 or -32 but written in an 8-bit encoding
        elif utf8 is not None and not content.isascii():
            return Decoded(utf8, "utf-8", "utf-8")
        # Browsers read the five bytes cp1252 leaves undefined as C1 controls, as Latin-1 does.
        errors = "claimwatch-cp1252" if codec == "cp1252" else "strict"
        try:
            return Decoded(content.decode(codec, errors), codec, source)
        except UnicodeDecodeError:
            continue
    if utf8 is not None:
        return Decoded(utf8, "utf-8", "utf-8")
    guess = detect(content)
    if guess:
        return Decoded(content.decode(guess, "replace"), guess, "detected")
    return Decoded(content.decode("utf-8", "replace"), "utf-8", "fallback")


def detect(content: bytes) -> str | None:
    """charset_normalizer's best guess for `content`, as a codec name."""
    from charset_normalizer import from_bytes

    sample = _sample(content)
    best = from_bytes(sample).best()
    if best is None:
        return None
    guess = codec_name(best.encoding)
    # On Western text charset_normalizer often prefers a cousin of cp1252 (cp1250, cp775,
    # cp852, even cp932 for one "×") that reads "naïve" as "naďve". cp1252 is the web's
    # default: take it whenever it reads the sample cleanly too (Polish or Czech in
    # cp1250, Cyrillic, Greek or CJK text does not).
    if guess != "cp1252" and guess not in _TRUSTED_GUESSES:
        plain = from_bytes(sample, cp_isolation=["cp1252"]).best()
        if plain is not None:
            return "cp1252"
    return guess


def _sample(content: bytes) -> bytes:
    """The non-ASCII runs of a large body, each with some ASCII before it: what detection
    learns from, even where the first non-ASCII byte comes after the first 64 KiB."""
    if len(content) <= DETECT_BYTES:
        return content
    pieces: list[bytes] = []
    size = end = 0
    for run in _NON_ASCII.finditer(content):
        # One byte past the run: a Shift_JIS or Big5 trail byte may be ASCII.
        start, end = max(run.start() - 32, end), min(run.end() + 1, len(content))
        pieces.append(content[start:end])
        size += end - start + 1
        if size >= DETECT_BYTES:
            break
    return b"\n".join(pieces)


def _mostly_utf8(content: bytes) -> bool:
    """Some valid multi-byte UTF-8, and more of it than bytes that are not UTF-8."""
    valid = len(_UTF8_MULTIBYTE.findall(content))
    if not valid:
        return False
    text = content.decode("utf-8", "replace")
    return valid >= text.count("\ufffd")


def _stray_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 read as cp1252 (Latin-1 where it has none)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    text = "".join(_cp1252_byte(byte) for byte in chunk)
    return text, error.end


def _cp1252_byte(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


codecs.register_error("claimwatch-cp1252", _stray_cp1252)


def looks_binary(text: str, sample: int = 8192) -> bool:
    """Whether decoded text is really binary data: many control or replacement characters."""
    head = text[:sample]
    if not head:
        return False
    odd = len(_CONTROLS.findall(head)) + head.count("\ufffd")
    return odd > len(head) // 20


def xml_as_utf8(decoded: Decoded) -> bytes:
    """The text as UTF-8 bytes whose XML declaration (if any) says so, for an XML parser."""
    text = decoded.text
    if text[:1].isspace() and text.lstrip().startswith("<?xml"):
        # A blank line before the declaration (common) would fail the strict parse.
        text = text.lstrip()
    text = _XML_DECL_TEXT.sub(r"\1\2utf-8\2", text, count=1)
    # No XML may hold control characters; expat would give up on the strict parse.
    return text.encode("utf-8", "replace").translate(None, _CONTROL_BYTES)
