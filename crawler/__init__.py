"""Discover and fetch: seeds, the Scrapy spider, name resolution under a network policy.

Imports only the core (``fraudwall.models``, ``fraudwall.names``,
``fraudwall.pages``, ...). What happens to a fetched page is decided by the
item pipelines that the orchestration configures, never here.
"""
