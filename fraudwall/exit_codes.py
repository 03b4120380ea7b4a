"""The exit codes of the ``fraudwall`` command: a contract for cron jobs and pipelines.

Each code means one kind of outcome, whatever the command; the README lists
them and ``tests/test_cli_errors.py`` holds every command to them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``fraudwall`` run ended with."""

    #: Everything asked for was done.
    OK = 0
    #: The operation failed: an export or verification that did not pass, a plugin that would not load.
    FAILURE = 1
    #: The command line or the settings are wrong (unknown option, value out of range, unknown config key).
    USAGE = 2
    #: An input or a data file is unusable: missing, unreadable, binary, the wrong format, someone else's database.
    DATA = 3
    #: A crawl ran but could not fetch a single page.
    NOTHING_FETCHED = 4
    #: A list was not published because it would collapse (shrink past the limit, empty, or only rejections).
    REFUSED = 5
    #: Stopped by SIGINT (Ctrl-C) or SIGTERM; what was done so far is kept.
    INTERRUPTED = 130
