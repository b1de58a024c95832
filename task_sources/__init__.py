"""Task sources: ticketing systems, CRMs and mailboxes whose records become tasks, and the
write-back that tells them what became of the work.

Each kind of source is a :class:`~task_sources.connector.Connector` (authenticate a delivery,
read it into :class:`~task_sources.connector.Delivery` values, write an event back), listed in
:mod:`task_sources.registry`. The mapping from a delivery to a task is CEL, per source
(:mod:`task_sources.mapping`); intake (:mod:`task_sources.intake`) makes, updates and closes
tasks through the queues package; the outbox (:mod:`task_sources.outbox`) sends the write-backs.
"""
