"""Write events from source systems: work items (with their history), deployments, incidents and
changes, idempotently and all-or-nothing.

Identity is ``(portfolio, source, external_key)``. Each record's normalised content is digested
(``content_hash``): a record whose digest is unchanged is not written at all, so the same payload
twice reports ``unchanged`` and touches nothing. An updated work item's status history is replaced.

Every record is checked before anything is written: one bad record refuses the whole batch with
:class:`IngestRejected`, which lists **every** problem (index, key, field, message). Writes are
set-based (one upsert per batch of 1,000 rows, COPY for status history), with a fixed number of
queries however many records come. After a write the changed items and teams are handed to
``valuestreams.recompute.recompute_request`` in the same transaction (it enqueues on commit).

Payloads (JSON objects; times are ISO 8601 with an offset or Z; ``team`` is a team id of the
portfolio or a team name; ``source`` may be given per batch instead of per record):

- work item: ``key``, ``type``, ``created_at``, ``status_history`` [{``at``, ``status``}, ...]
  (the first entry is the status it was created in), optional ``source``, ``title``, ``team``,
  ``url``, ``type_changes`` [{``at``, ``from``, ``to``}] (``from`` needed on the first),
  ``blocked_changes`` [{``at``, ``blocked``}].
- deployment: ``key``, ``finished_at``, optional ``source``, ``team``, ``environment``
  ("production"), ``successful`` (true), ``is_rework`` (false), ``started_at``.
- incident: ``key``, ``created_at``, optional ``source``, ``title``, ``team``, ``resolved_at``,
  ``deployment`` (a deployment's key) and ``deployment_source`` (default: the incident's source).
- change: ``key``, ``first_commit_at``, optional ``source``, ``team``, ``deployment``,
  ``deployment_source``.
"""

from valuestreams.ingest.deliveries import changes_ingest, deployments_ingest, incidents_ingest
from valuestreams.ingest.reading import MAX_RECORDS, TeamRef
from valuestreams.ingest.results import IngestError, IngestRejected, IngestSummary
from valuestreams.ingest.work_items import work_item_records_write, work_items_ingest
from valuestreams.ingest.writing import BATCH_SIZE

__all__ = [
    "BATCH_SIZE",
    "MAX_RECORDS",
    "IngestError",
    "IngestRejected",
    "IngestSummary",
    "TeamRef",
    "changes_ingest",
    "deployments_ingest",
    "incidents_ingest",
    "work_item_records_write",
    "work_items_ingest",
]
