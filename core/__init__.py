"""Shared foundation: configuration, extensions, the SQL records, phone numbers, logging and
the guards on what a request carries (``request_guards``).

Every feature package (``ivr``, ``callcenter``, ``forms``, ``callqueue``, ``voice_prompts``)
builds on what lives here; nothing here knows about a feature's views or jobs.
"""
