"""The exceptions fraudwall raises, all in one tree.

::

    FraudwallError
    ├── ConfigError            a setting, config file or command-line value is wrong
    ├── PluginError            a plugin could not be loaded or registered
    ├── InputError             an input item was rejected; ``reason`` says why
    │   └── InvalidName        a domain name failed validation
    ├── StoreError             the SQLite store cannot be opened, migrated or written
    │   └── SchemaError        the database was written by a newer fraudwall
    ├── CrawlError             a crawl could not be started
    │   └── NothingFetched     a crawl ran but fetched no page at all
    ├── ExportError            an export could not be rendered or published
    │   ├── VerificationError  the consumer's own checker rejected the output
    │   ├── OutputError        the output cannot be written where it was asked for
    │   └── PublishRefused     the list would collapse; the previous one stays
    └── Interrupted            SIGINT or SIGTERM stopped the run; what was done is kept

Library code raises these; only the CLI turns them into one-line messages and
exit codes. Each class names its code (:class:`~fraudwall.exit_codes.ExitCode`)
in ``exit_code``. Input errors are normal: callers count them by ``reason`` and go on.
"""

from __future__ import annotations

from fraudwall.exit_codes import ExitCode


class FraudwallError(Exception):
    """Base of every error fraudwall raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE


class ConfigError(FraudwallError):
    """A setting, config file or command-line value is invalid."""

    exit_code = ExitCode.USAGE


class PluginError(FraudwallError):
    """A plugin could not be loaded or registered."""


class InputError(FraudwallError):
    """An input item (page, name, feed line) was rejected.

    ``reason`` is a short, stable, machine-countable token such as
    ``"label-too-long"``; the message adds the detail for humans.
    """

    exit_code = ExitCode.DATA

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class InvalidName(InputError):
    """A domain name failed validation (IDNA, length, characters, IP literal...)."""


class StoreError(FraudwallError):
    """The SQLite store cannot be opened, migrated or written (not SQLite, someone else's database...)."""

    exit_code = ExitCode.DATA


class SchemaError(StoreError):
    """The database's schema version is newer than this fraudwall understands."""


class CrawlError(FraudwallError):
    """A crawl could not be started (no seeds, a seed file that is not there...)."""

    exit_code = ExitCode.DATA


class CrawlBroken(FraudwallError):
    """A crawl ran to its end, but the crawl machinery itself raised errors on the way (a bug, not a site)."""

    exit_code = ExitCode.FAILURE


class NothingFetched(CrawlError):
    """A crawl ran to its end without fetching a single page: every seed failed or was refused."""

    exit_code = ExitCode.NOTHING_FETCHED


class ExportError(FraudwallError):
    """An export could not be rendered or published."""


class VerificationError(ExportError):
    """The consumer's own checker rejected a rendered file; nothing was published."""


class OutputError(ExportError):
    """The output cannot be written where it was asked for: no such folder, something in the way, the OS refused."""

    exit_code = ExitCode.DATA


class PublishRefused(ExportError):
    """A list would collapse (shrink past the limit, come out empty, or come from rejections only).

    Nothing was published; the previous list stays in place. ``reasons`` says why,
    one sentence each. ``--allow-shrink`` publishes it all the same.
    """

    exit_code = ExitCode.REFUSED

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("refusing to publish: " + "; ".join(reasons) + " (--allow-shrink publishes it anyway)")
        self.reasons = reasons


class Interrupted(FraudwallError):
    """SIGINT or SIGTERM stopped the run; everything done before it is kept."""

    exit_code = ExitCode.INTERRUPTED
