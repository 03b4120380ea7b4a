"""Scrapy spiders, one per file."""
