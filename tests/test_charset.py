"""Character encodings of pages and feeds whose declarations are wrong or missing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from claimwatch.fetching.charset import codec_name, decode_body, looks_binary, xml_as_utf8
from claimwatch.fetching.client import Page
from claimwatch.fetching.extract import extract_article
from claimwatch.records import FeedItem
from claimwatch.sources.config import FeedSource
from claimwatch.sources.feed import parse_feed
from tests.test_extract import PAGE

WESTERN = "Café “quoted” – naïve Müller, l’été à Montréal"
SENTENCES = {
    "cp1250": "Zażółć gęślą jaźń. Ministrowie spraw zagranicznych rozmawiali o bezpieczeństwie.",
    "cp1251": "Министры иностранных дел встретились в Брюсселе, чтобы обсудить безопасность.",
    "cp1253": "Οι υπουργοί εξωτερικών συναντήθηκαν στις Βρυξέλλες για θέματα ασφάλειας.",
    "cp1254": "Dışişleri bakanları güvenlik konularını görüşmek üzere Brüksel'de toplandı.",
    "cp932": "外務大臣はブリュッセルで会談し、アジアの安全保障について話し合った。",
    "gb18030": "外交部长们在布鲁塞尔会面，讨论亚洲的安全问题。",
    "cp1252": WESTERN,
}


def _page(body: bytes, content_type: str) -> Page:
    return Page("http://h/a", "http://h/a", 200, content_type, body, {})


def _article_html(paragraph: str, meta: str = "") -> str:
    return PAGE.replace("<head>", f"<head>{meta}").replace(
        "<p>Officials stressed", f"<p>{paragraph}</p>\n<p>Officials stressed"
    )


# --- decide -----------------------------------------------------------------------------------


def test_utf8_served_as_latin1_is_utf8() -> None:
    decoded = decode_body(WESTERN.encode("utf-8"), "iso-8859-1")
    assert (decoded.text, decoded.encoding) == (WESTERN, "utf-8")


def test_cp1252_declared_utf8_is_cp1252() -> None:
    decoded = decode_body(WESTERN.encode("cp1252"), "utf-8")
    assert (decoded.text, decoded.encoding, decoded.source) == (WESTERN, "cp1252", "detected")


def test_stray_windows_bytes_in_utf8_keep_the_utf8() -> None:
    body = "Café München ".encode() + "“quoted”".encode("cp1252") + " Zürich".encode()
    decoded = decode_body(body, "utf-8")
    assert decoded.text == "Café München “quoted” Zürich"
    assert decoded.encoding == "utf-8"


@pytest.mark.parametrize("codec", sorted(SENTENCES))
def test_undeclared_legacy_text_is_detected(codec: str) -> None:
    text = SENTENCES[codec]
    # Declared UTF-8 or not declared at all: either way the declaration does not decode.
    assert decode_body(text.encode(codec), "utf-8").text == text
    assert decode_body(text.encode(codec)).text == text


def test_order_bom_then_http_then_meta() -> None:
    cyrillic = "Привет, мир"
    assert decode_body(codecs_bom("utf-8") + cyrillic.encode(), "cp1251").source == "bom"
    meta = b'<meta charset="windows-1251">'
    by_http = decode_body(meta + cyrillic.encode("koi8-r"), "koi8-r")
    assert (by_http.text[len(meta) :], by_http.source) == (cyrillic, "http")
    by_meta = decode_body(meta + cyrillic.encode("cp1251"), None)
    assert (by_meta.text[len(meta) :], by_meta.source) == (cyrillic, "meta")
    # An http-equiv declaration counts as well; a header that does not decode does not.
    equiv = b'<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
    japanese = SENTENCES["cp932"]
    decoded = decode_body(equiv + japanese.encode("cp932"), "utf-8")
    assert (decoded.text[len(equiv) :], decoded.source) == (japanese, "meta")


def codecs_bom(name: str) -> bytes:
    return "\ufeff".encode(name)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_encodings_with_or_without_a_bom(codec: str) -> None:
    text = "<p>Привет, мир</p>"
    assert decode_body(codecs_bom(codec) + text.encode(codec)).text == text
    assert decode_body(text.encode(codec)).text == text  # a leading "<" gives it away


def test_a_wide_declaration_on_8_bit_bytes_is_ignored() -> None:
    # realworld/fastfeedparser-integration/utf16_encoded.xml: "utf-16" declared, UTF-8 written
    body = '<?xml version="1.0" encoding="utf-16"?><rss><title>Café</title></rss>'.encode()
    assert decode_body(body, None, markup="xml").text.endswith("<title>Café</title></rss>")


def test_labels() -> None:
    assert codec_name("ISO-8859-1") == "cp1252"  # as browsers read it
    assert codec_name("us-ascii") == "cp1252"
    assert codec_name("gb2312") == "gb18030"
    assert codec_name("UTF8") == "utf-8"
    assert codec_name("utf-7") is None  # "+ADw-script+AD4-" must never become "<script>"
    assert codec_name("bogus") is None
    assert decode_body(b"+ADw-script+AD4-", "utf-7").text == "+ADw-script+AD4-"


def test_binary_is_recognised() -> None:
    assert looks_binary(decode_body(bytes(range(256)) * 64).text)
    assert looks_binary(decode_body(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 100).text)
    assert not looks_binary(decode_body(PAGE.encode()).text)
    assert not looks_binary(decode_body(PAGE.encode().replace(b"Tuesday", b"Tues\x00day")).text)


def test_xml_for_the_parser_says_utf8_and_holds_no_controls() -> None:
    body = '<?xml version="1.0" encoding="windows-1252"?><a>é\x0b\x00</a>'.encode("cp1252")
    assert xml_as_utf8(decode_body(body, None, "xml")) == (
        b'<?xml version="1.0" encoding="utf-8"?><a>\xc3\xa9</a>'
    )
    # A blank line before the declaration (kagi.xml, pypy.xml) would fail expat's strict parse.
    assert xml_as_utf8(decode_body(b"\n\n" + body, None, "xml")).startswith(b"<?xml")


# --- extraction ------------------------------------------------------------------------------


def test_page_served_as_latin1_but_written_in_utf8_extracts_correctly() -> None:
    html = _article_html(WESTERN, '<meta charset="iso-8859-1">')
    article = extract_article(
        _page(html.encode("utf-8"), "text/html; charset=ISO-8859-1"), FeedItem("http://h/a", "s")
    )
    assert WESTERN in article.text
    assert "Ã" not in article.text


def test_cp1252_page_declared_utf8_extracts_correctly() -> None:
    html = _article_html(WESTERN, '<meta charset="utf-8">')
    article = extract_article(
        _page(html.encode("cp1252"), "text/html; charset=utf-8"), FeedItem("http://h/a", "s")
    )
    assert WESTERN in article.text
    assert "\ufffd" not in article.text


@pytest.mark.parametrize("codec", ["cp1251", "cp932", "utf-16"])
def test_pages_in_other_encodings_extract(codec: str) -> None:
    sentence = SENTENCES.get(codec, SENTENCES["cp1251"])
    meta = "" if codec == "utf-16" else f'<meta charset="{codec}">'
    html = _article_html(sentence, meta)
    body = html.encode(codec, "xmlcharrefreplace")
    article = extract_article(_page(body, "text/html"), FeedItem("http://h/a", "s"))
    assert sentence in article.text


def test_decoding_costs_next_to_nothing_on_valid_utf8() -> None:
    """The fast path (valid UTF-8, as is nearly every page): one decode, which trafilatura
    would otherwise do itself."""
    body = (_article_html(WESTERN) * 40).encode("utf-8")  # ~ 100 KiB, non-ASCII
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        decode_body(body, "utf-8")
    ours = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        body.decode("utf-8")
    plain = (time.perf_counter() - started) / rounds
    page = _page(_article_html(WESTERN).encode(), "text/html; charset=utf-8")
    started = time.perf_counter()
    extract_article(page, FeedItem("http://h/a", "s"))
    extraction = time.perf_counter() - started
    # A plain decode plus change, and a small share of one (small) extraction.
    assert ours < plain * 3 + 0.0005
    assert ours < extraction / 10


# --- feeds -----------------------------------------------------------------------------------


def _rss(title: str, encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel><title>t'
        f"</title><item><title>{title}</title><link>http://h.example/a</link></item>"
        "</channel></rss>"
    )


def _titles(body: bytes, content_type: str = "application/rss+xml") -> list[str | None]:
    page = Page("http://f/", "http://f/", 200, content_type, body, {})
    source = FeedSource(name="s", url="http://f/")  # type: ignore[arg-type]
    return [item.title for item in parse_feed(page, source)]


def test_feed_declared_utf8_with_cp1252_bytes_has_readable_titles() -> None:
    assert _titles(_rss(WESTERN).encode("cp1252")) == [WESTERN]


def test_feed_mostly_utf8_with_a_stray_windows_quote() -> None:
    body = _rss("Café München ”x”").encode().replace("”".encode(), "”".encode("cp1252"))
    assert _titles(body) == ["Café München ”x”"]


def test_feed_whose_header_and_declaration_lie() -> None:
    assert _titles(_rss(WESTERN, "iso-8859-1").encode(), "text/xml; charset=iso-8859-1") == [
        WESTERN
    ]
    cyrillic = SENTENCES["cp1251"]
    assert _titles(_rss(cyrillic, "utf-8").encode("cp1251")) == [cyrillic]
    assert _titles(_rss(cyrillic, "windows-1251").encode("cp1251")) == [cyrillic]


def test_feed_corpus_encoding_traps(tmp_path: Path) -> None:
    """Two of feedparser's own traps, inline: smart quotes in undeclared cp1252
    (demoronize) and Big5 with no encoding information."""
    demoronize = b'<rss version="2.0"><channel><item><title>don\x92t</title>'
    demoronize += b"<link>http://h.example/a</link></item></channel></rss>"
    assert _titles(demoronize, "application/rss+xml") == ["don’t"]
    big5 = "<rss version='2.0'><channel><item><title>外交部長</title>"
    big5 += "<link>http://h.example/a</link></item></channel></rss>"
    assert _titles(big5.encode("big5"), "application/rss+xml") == ["外交部長"]
