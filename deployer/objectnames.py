"""Where a run's objects live in the bucket: one place for the naming rule.

The load writes keys ``<run id>/<random>``; the target's app stores a key
under the object name its ``storedAs`` pattern gives (``{key}`` stands for
the key, and is the whole name when there is no app). Everything that lists,
reads back, heals or removes a run's objects derives names from here.
"""

from __future__ import annotations

KEY = "{key}"


def run_prefix(run_id: str) -> str:
    """The key prefix of every key a run writes."""
    return f"{run_id}/"


def object_name(stored_as: str, key: str) -> str:
    """The object name in the bucket under which ``key`` is stored."""
    return stored_as.replace(KEY, key)


def stored_prefix(stored_as: str, run_id: str) -> str:
    """The bucket prefix under which a run's objects are stored."""
    return stored_as.partition(KEY)[0] + run_prefix(run_id)


def key_of(stored_as: str, name: str) -> str | None:
    """The key an object name stands for; None when the name does not fit the pattern."""
    head, _, tail = stored_as.partition(KEY)
    if name.startswith(head) and name.endswith(tail) and len(name) >= len(head) + len(tail):
        return name[len(head) : len(name) - len(tail)]
    return None
