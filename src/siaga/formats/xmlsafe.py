"""Parsing XML that comes from outside (feeds, CAP from other senders) without trusting it.

No DTD is loaded, no entity is expanded, nothing is fetched from the network, and a document that declares
a DOCTYPE at all is refused: none of the formats Siaga112 reads has one, and a DOCTYPE is how entity
expansion and external-entity attacks start.
"""

from __future__ import annotations

from lxml import etree

from siaga.formats.errors import FormatError

MAX_BYTES = 2 * 1024 * 1024



class _RefuseAll(etree.Resolver):
    """Answers every request for an external file (a DTD, an entity) with nothing."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:  # type: ignore[override]
        return self.resolve_string("", context)  # type: ignore[call-arg]


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)
    parser.resolvers.add(_RefuseAll())
    return parser


_PARSER = _parser()
_DOCTYPE_MARKS = tuple(mark.encode(encoding) for mark in ("<!DOCTYPE", "<!doctype")
                       for encoding in ("ascii", "utf-16-le", "utf-16-be"))


def parse(data: bytes, what: str) -> etree._Element:
    """The root element of ``data``; :class:`FormatError` naming ``what`` when it is not well-formed XML."""
    if len(data) > MAX_BYTES:
        raise FormatError(f"{what}: {len(data)} bytes is more than the {MAX_BYTES} allowed", "document")
    if not data.strip():
        raise FormatError(f"{what}: the document is empty", "document")
    if any(mark in data for mark in _DOCTYPE_MARKS):
        raise FormatError(f"{what}: a DOCTYPE is not allowed", "document")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"{what}: not well-formed XML ({exc.msg})", "document") from None
    except ValueError as exc:  # e.g. a str with an encoding declaration
        raise FormatError(f"{what}: {exc}", "document") from None
    if root is None:
        raise FormatError(f"{what}: the document has no root element", "document")
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise FormatError(f"{what}: a DOCTYPE is not allowed", "document")
    return root


def local(tag: object) -> str:
    """The tag name without its namespace (comments and processing instructions give "")."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: object) -> str:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""
