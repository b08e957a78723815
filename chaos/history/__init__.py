"""One scenario's history: what the timeline, the ledger and the load recorded.

Recorded once, read by every checker (chaos.checkers), never changed: like
Jepsen's history, the record of what happened is kept apart from the judging
of it. :func:`load` reads it from a run folder's files.
"""

from chaos.history.load import load
from chaos.history.records import FRESH_S, Event, History, LoadRow, Sample

__all__ = ["FRESH_S", "Event", "History", "LoadRow", "Sample", "load"]
