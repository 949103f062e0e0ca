"""Every core model, imported in one place so the metadata is complete for Alembic."""

from participation.core.audit import AuditEntry
from participation.core.cache import CacheGeneration
from participation.core.files import Attachment
from participation.core.organizations import Organization
from participation.core.outbox import Notification, OutboxMessage
from participation.core.preferences import NotificationPreference
from participation.core.territories import Territory
from participation.core.users import Membership, User

__all__ = [
    "Attachment",
    "AuditEntry",
    "CacheGeneration",
    "Membership",
    "Notification",
    "NotificationPreference",
    "Organization",
    "OutboxMessage",
    "Territory",
    "User",
]
