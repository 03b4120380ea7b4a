"""fraudwall: find fraud infrastructure and publish it as blocklists.

The public API is small: the shared types, the plugin markers and the settings.
Everything else lives in the stage packages (``fraudwall.crawler``,
``fraudwall.plugins``, ``fraudwall.blocklists``, ``fraudwall.exporters``,
``fraudwall.apk_analysis``).
"""

from fraudwall.hookspecs import hookimpl
from fraudwall.models import (
    Action,
    BlockEntry,
    Category,
    Finding,
    PageObservation,
    Scope,
    Target,
    UrlParts,
    Verdict,
    VerdictStatus,
)
from fraudwall.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "Action",
    "BlockEntry",
    "Category",
    "Finding",
    "PageObservation",
    "Scope",
    "Settings",
    "Target",
    "UrlParts",
    "Verdict",
    "VerdictStatus",
    "hookimpl",
    "load_settings",
    "__version__",
]
