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
    └── ExportError            an export could not be rendered or published
        └── VerificationError  the consumer's own checker rejected the output

Library code raises these; only the CLI turns them into one-line messages and
exit codes. Input errors are normal: callers count them by ``reason`` and go on.
"""

from __future__ import annotations


class FraudwallError(Exception):
    """Base of every error fraudwall raises on purpose."""


class ConfigError(FraudwallError):
    """A setting, config file or command-line value is invalid."""


class PluginError(FraudwallError):
    """A plugin could not be loaded or registered."""


class InputError(FraudwallError):
    """An input item (page, name, feed line) was rejected.

    ``reason`` is a short, stable, machine-countable token such as
    ``"label-too-long"``; the message adds the detail for humans.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class InvalidName(InputError):
    """A domain name failed validation (IDNA, length, characters, IP literal...)."""


class StoreError(FraudwallError):
    """The SQLite store cannot be opened, migrated or written."""


class SchemaError(StoreError):
    """The database's schema version is newer than this fraudwall understands."""


class CrawlError(FraudwallError):
    """A crawl could not be started (no seeds, bad network policy...)."""


class ExportError(FraudwallError):
    """An export could not be rendered or published."""


class VerificationError(ExportError):
    """The consumer's own checker rejected a rendered file; nothing was published."""
