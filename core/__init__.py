"""Shared foundation: configuration, extensions, the SQL records, phone numbers and logging.

Every feature package (``ivr``, ``callcenter``, ``forms``, ``callqueue``, ``voice_prompts``)
builds on what lives here; nothing here knows about a feature's views or jobs.
"""
