"""Benchmarks: load-test the webhooks against a bare Flask endpoint under the same server.

``make bench`` (``python -m bench``) runs them; figures are ratios to the bare endpoint,
measured in the same run, so they mean the same on a laptop and on a server.
"""
