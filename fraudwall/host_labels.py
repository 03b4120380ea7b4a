"""What a host name's labels say about the protected brands: shared by the URL detectors.

``url_heuristics`` looks for a brand spelt correctly inside a foreign name and
``lookalike`` for one spelt almost correctly; both read the same labels (the
ones the registrant chose), find a brand's token the same way, and leave alone
the same names (those the reference data vouches for). That shared reading
lives here, in fraudwall's core, so that neither detector's findings depend on
the other's module: they depend on this module and on the reference data in
``fraudwall/data/``, which belong to fraudwall's own version.
"""

from __future__ import annotations

import re

from fraudwall import reference
from fraudwall.models import UrlParts
from fraudwall.reference import Brand

#: Hotlines shorter than this (110, 10000...) are too common as digit runs.
MIN_HOTLINE_DIGITS = 5

_PART_SPLIT = re.compile(r"[-_]+|(?<=\d)(?=[^\d-])|(?<=[^\d-])(?=\d)")


def owned_labels(url: UrlParts) -> list[str]:
    """The labels the registrant chose: the host minus its public suffix or shared-platform apex."""
    host = url.host
    apex = reference.shared_platform_of(host)
    cut = apex or url.suffix
    if cut and host.endswith("." + cut):
        host = host[: -len(cut) - 1]
    return [label for label in host.split(".") if label]


def parts(label: str) -> list[str]:
    """A label split at hyphens and letter/digit boundaries: ``icbc95588-kefu`` -> icbc, 95588, kefu."""
    return [part for part in _PART_SPLIT.split(label) if part]


def token_in_label(brand: Brand, label: str) -> str | None:
    """The brand token or hotline that ``label`` carries, if any."""
    label_parts = parts(label)
    for token in brand.tokens:
        if token in label:
            return token
    for token in brand.exact_tokens:
        if token in label_parts:
            return token
    for hotline in brand.hotlines:
        if len(hotline) >= MIN_HOTLINE_DIGITS and hotline in label_parts:
            return hotline
    return None


def vouched_for(url: UrlParts) -> bool:
    """Official brand names, allowlisted sites and shared-platform apexes are never flagged."""
    if url.is_ip:
        return False
    return (
        reference.brand_for_domain(url.host) is not None
        or reference.is_allowlisted(url.host)
        or reference.is_shared_platform_apex(url.host)
    )
