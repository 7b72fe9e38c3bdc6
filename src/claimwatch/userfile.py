"""The text of a file a user gave us (a catalog, a config, a decisions sheet), read in one
place: a size cap, a byte-order mark dropped, and bytes that are not text refused with the
line and column where they stand."""

from __future__ import annotations

from pathlib import Path

from claimwatch.exceptions import ClaimwatchError

BOM = "\ufeff"
# What a spreadsheet or editor writes when "Unicode" is asked for instead of UTF-8.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_text(path: Path, error: type[ClaimwatchError], limit: int) -> str:
    """The UTF-8 text of `path` without its byte-order mark, at most `limit` bytes.

    Raise `error` with a one-line reason naming the file (and the line and column of an
    undecodable byte or a NUL character) otherwise.
    """
    try:
        size = path.stat().st_size
        if size > limit:
            raise error(f"{path}: file is {size} bytes, more than the {limit} allowed")
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: a folder, not a file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    return decode(path, data, error)


def decode(path: Path, data: bytes, error: type[ClaimwatchError]) -> str:
    """`data` (the content of `path`) as text: UTF-8, a byte-order mark dropped, no NUL."""
    if data.startswith(UTF16_BOMS):
        raise error(f"{path}: line 1, column 1: the file is UTF-16 text: save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8").removeprefix(BOM)
        line, column = position(before, len(before))
        raise error(
            f"{path}: line {line}, column {column}: byte 0x{data[exc.start]:02x} is not UTF-8: "
            "save the file as UTF-8 text (a spreadsheet's 'CSV UTF-8')"
        ) from None
    text = text.removeprefix(BOM)
    nul = text.find("\0")
    if nul >= 0:
        line, column = position(text, nul)
        raise error(f"{path}: line {line}, column {column}: a NUL character: not a text file")
    return text


def position(text: str, offset: int) -> tuple[int, int]:
    """The line and column (both from 1) of `text[offset]`; a line ends at \\n, \\r\\n or a
    lone \\r, as csv, YAML and editors count them."""
    before = text[:offset]
    line = before.count("\n") + before.count("\r") - before.count("\r\n") + 1
    start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return line, offset - start + 1
