"""The acknowledged-operation ledger.

Every operation a client attempted is recorded with what it sent and what it
was told: a PUT (key, size, sha256, size class, multipart or not) or a DELETE,
each acknowledged (a 2xx that claims it is done), failed (a 4xx answer: a
refusal that changed nothing) or indeterminate (a 5xx, a timeout or a reset:
it may or may not have happened; S3's own rule for 500 and 503, and MinIO may
finish a half-applied change when it heals). After
the faults every key an operation may have changed is read back (its sha256
computed while streaming, in parallel) and classified, per key, by its last
acknowledged operation:

* stable: the key holds a state its operations allow (below): the last
  acknowledged content, or absent after an acknowledged delete;
* lost: the object is gone although a write is the state it must hold;
* corrupted: content that no write may leave there: bytes that match no write
  ("partial multipart upload" when they are fewer than an upload's), or the
  content of a write that was refused (a 4xx answer);
* stale: the content of an older write, which a later acknowledged write
  definitely replaced;
* resurrected: the key was deleted (acknowledged) and exists again, in a GET
  or in a listing;
* missing_from_listing: a GET returns the key as it should be, but a listing
  of the run's prefix (taken after the reads) does not show it;
* refused: the store answered, with an error, every time it was asked during
  the retry period (REFUSE_RETRY_S): it will not return data it acknowledged.
  A product failure, like loss;
* unreadable: the harness could not ask (connection refused, our own timeout).
  An infrastructure problem: the verdict is inconclusive, never pass.

Which states a key may hold (the rule for overwrites and concurrent writers).
Each operation has a request interval [start, at]: ``start = at - latency``
when it was sent, ``at`` when its answer came or its client gave up. Its
effect, if any, happens at one instant inside that interval. An acknowledged
operation took effect. A failed one did not, except a multipart upload, whose
error may come from CompleteMultipartUpload after the commit. An
indeterminate one may have. Operation B definitely follows A when B was sent
after A's interval ended (``B.start > A.at``). The key may end in the state
left by any operation that took or may have taken effect and that no
acknowledged operation definitely follows:

(a) the last acknowledged operation (largest ``at``): nothing acknowledged
    was sent after it was answered;
(b) any other acknowledged operation still unanswered when the last
    acknowledged operation to be sent was sent: concurrent writers, any of
    them may be ordered last by the store;
(c) any indeterminate write, or failed multipart upload, whose client was
    still waiting when every acknowledged operation on the key had been sent:
    it may have been applied after all of them.

Never acceptable: the content of a single write refused with a 4xx; the
content of an acknowledged write that a later acknowledged one definitely
followed (stale); the content of an indeterminate write whose client had
given up before a later acknowledged write was sent (stale: this assumes a
store applies a request before its client gives up, after at most the load's
request timeout, or never; Jepsen's model lets an unanswered operation take
effect at any later time, which would excuse old content on every key that
ever saw a timeout); anything after an acknowledged delete that no write may
follow (resurrected).

Keys nobody acknowledged are read when a write to them may have been applied
(an indeterminate write or a multipart upload): absent, or the whole content
of such a write, is fine (counted as indeterminate_stored when present);
anything else, a partial multipart upload above all, is corrupted. Failed and
indeterminate writes never count as loss: nobody was told they were stored.
This is the set-full idea from Jepsen applied to an S3 store.

Writers append JSON lines to files (one per process); ``load`` merges them.
"""

from chaos.ledger.readback import (
    REFUSE_RETRY_S,
    Fetch,
    KeyCheck,
    LedgerReport,
    Lister,
    StoreRefused,
    check,
)
from chaos.ledger.records import (
    ACKED,
    DELETE,
    FAILED,
    INDETERMINATE,
    OPS,
    OUTCOMES,
    PUT,
    SIZE_CLASSES,
    LedgerWriter,
    Write,
    load,
    outcome_of_status,
    sha256_hex,
    writer_for_process,
)
from chaos.ledger.rules import DAMAGE, Found, Judgement, KeyState, judge, may_have_won

__all__ = [
    "ACKED",
    "DAMAGE",
    "DELETE",
    "FAILED",
    "INDETERMINATE",
    "OPS",
    "OUTCOMES",
    "PUT",
    "REFUSE_RETRY_S",
    "SIZE_CLASSES",
    "Fetch",
    "Found",
    "Judgement",
    "KeyCheck",
    "KeyState",
    "LedgerReport",
    "LedgerWriter",
    "Lister",
    "StoreRefused",
    "Write",
    "check",
    "judge",
    "load",
    "may_have_won",
    "outcome_of_status",
    "sha256_hex",
    "writer_for_process",
]
