"""The built-in demo: a small website of fraud and benign pages served on loopback.

Each folder under ``site/`` is one virtual host. ``fraudwall demo`` serves them
on 127.0.0.1, maps their names to it through the crawler's host map (no
``/etc/hosts`` edits, no DNS queries), crawls, analyses, stores and exports.
"""
