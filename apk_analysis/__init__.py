"""Analyse Android packages: APK bytes in, an observation out.

The only package that will import androguard. APK analysis (manifest,
components, certificates, DEX strings, packers, tamper signs) lands with its
own issue; the fake-app download pages that link APKs are already detected by
the page plugins.
"""
