"""Housekeeping tasks that packages register and the sweeper runs, in order, once a sweep.

A package that owns a piece of state which can go stale (a claim no operator works, a job
Redis lost) registers the task that repairs it here, in its ``init_app``; the sweeper
(``callqueue.sweep``) runs whatever is registered without knowing whose task it is. So jobs
never import screens, and removing a package removes its tasks with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask

EXTENSION_KEY = "housekeeping"

Counts = int | Mapping[str, int]
"""What a task did: a count under its own name, or several counts under names it chooses."""


@dataclass(frozen=True)
class Task:
    """One housekeeping step; ``needs_redis`` steps are skipped while Redis is down."""

    name: str
    run: Callable[[], Counts]
    needs_redis: bool = False


def register(
    app: Flask, name: str, run: Callable[[], Counts], *, needs_redis: bool = False
) -> None:
    """Add a task to the app's sweep; a second task with the same name replaces the first."""
    tasks: dict[str, Task] = app.extensions.setdefault(EXTENSION_KEY, {})
    tasks[name] = Task(name, run, needs_redis)


def tasks(app: Flask) -> tuple[Task, ...]:
    """The registered tasks, in the order they were first registered."""
    return tuple(app.extensions.get(EXTENSION_KEY, {}).values())
