"""The kinds of task source this service knows: one connector each.

To add a kind, write its module (a :class:`~task_sources.connector.Connector` subclass) and
add an instance to :data:`CONNECTORS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from task_sources.connector import Connector
from task_sources.imap import Imap
from task_sources.jira import Jira
from task_sources.mailgun import Mailgun
from task_sources.salesforce import Salesforce
from task_sources.servicenow import ServiceNow
from task_sources.webhook import Webhook
from task_sources.zendesk import Zendesk

CONNECTORS: tuple[Connector, ...] = (
    Webhook(),
    Zendesk(),
    Jira(),
    ServiceNow(),
    Salesforce(),
    Mailgun(),
    Imap(),
)

KINDS: Mapping[str, Connector] = {c.kind: c for c in CONNECTORS}
