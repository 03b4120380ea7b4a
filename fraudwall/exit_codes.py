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
    #: The operation failed: a verification that did not pass, a plugin that would not load.
    FAILURE = 1
    #: The command line or the settings are wrong: an unknown option or value, a number out of range, an
    #: unknown config key, a config file that is not valid settings, a path that does not exist.
    USAGE = 2
    #: A file that exists cannot be used: empty where content is needed, binary, a folder or a device where a
    #: file is read, the wrong format, not SQLite or someone else's database; or an output cannot be written.
    DATA = 3
    #: A crawl ran but could not fetch a single page.
    NOTHING_FETCHED = 4
    #: A list was not published because it would collapse (shrink past the limit, empty, or only rejections).
    REFUSED = 5
    #: Stopped by SIGINT (Ctrl-C) or SIGTERM; what was done so far is kept.
    INTERRUPTED = 130
