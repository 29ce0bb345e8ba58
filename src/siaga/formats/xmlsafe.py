"""Parsing XML that comes from outside (feeds, CAP from other senders) without trusting it.

No DTD is loaded, no entity is expanded, nothing is fetched from the network, and a document that declares
a DOCTYPE at all is refused: none of the formats Siaga112 reads has one, and a DOCTYPE is how entity
expansion and external-entity attacks start.
"""

from __future__ import annotations

import threading

from lxml import etree

from siaga.formats.errors import FormatError

MAX_BYTES = 2 * 1024 * 1024



class _RefuseAll(etree.Resolver):
    """Answers every request for an external file (a DTD, an entity) with nothing."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:  # type: ignore[override]
        return self.resolve_string("", context)  # type: ignore[call-arg]


def _parser(schema: etree.XMLSchema | None = None, exact: bool = False) -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=not exact, remove_pis=not exact, collect_ids=False,
                             remove_blank_text=not exact,
                             schema=schema)
    parser.resolvers.add(_RefuseAll())
    return parser


_local = threading.local()  # lxml parsers must not be shared between threads


def _cached(schema: etree.XMLSchema | None, exact: bool = False) -> etree.XMLParser:
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    key = (id(schema), exact)
    if key not in parsers:
        parsers[key] = _parser(schema, exact)
    return parsers[key]  # type: ignore[no-any-return]
_DOCTYPE_MARKS = tuple(mark.encode(encoding) for mark in ("<!DOCTYPE", "<!doctype")
                       for encoding in ("ascii", "utf-16-le", "utf-16-be"))


def parse(data: bytes, what: str, schema: etree.XMLSchema | None = None, *, exact: bool = False) -> etree._Element:
    """The root element of ``data``; :class:`FormatError` naming ``what`` when it is not well-formed XML.

    With ``schema`` the document is validated while it is parsed (one pass); one that does not follow the
    schema raises :class:`SchemaMismatch`, and the caller reads it again without a schema to learn why.
    Whitespace between elements, comments and processing instructions are dropped, unless ``exact``: a
    signature covers the document exactly as it was written.
    """
    if len(data) > MAX_BYTES:
        raise FormatError(f"{what}: {len(data)} bytes is more than the {MAX_BYTES} allowed", "document")
    if not data.strip():
        raise FormatError(f"{what}: the document is empty", "document")
    if (b"<!" in data or b"\x00!" in data or b"!\x00" in data) and any(mark in data for mark in _DOCTYPE_MARKS):
        raise FormatError(f"{what}: a DOCTYPE is not allowed", "document")
    try:
        root = etree.fromstring(data, parser=_cached(schema, exact))
    except etree.XMLSyntaxError as exc:
        if schema is not None:
            raise SchemaMismatch(str(exc.msg)) from None
        raise FormatError(f"{what}: not well-formed XML ({exc.msg})", "document") from None
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise FormatError(f"{what}: {exc}", "document") from None
    if root is None:
        raise FormatError(f"{what}: the document has no root element", "document")
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise FormatError(f"{what}: a DOCTYPE is not allowed", "document")
    return root


class SchemaMismatch(Exception):
    """The document is not valid against the schema given to :func:`parse` (or not XML at all)."""


def local(tag: object) -> str:
    """The tag name without its namespace (comments and processing instructions give "")."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""
