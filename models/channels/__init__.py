"""Notification channels (personal and team); what is sent over them goes through the outbox
(`models.outbox`)."""
from models.channels.operations import (Owner, create_channel, delete_channels,  # noqa: F401
                                        deliverable_channels, deliverable_of, last_deliveries,
                                        limit_sends, messages_to_team,
                                        list_channels, owner_for, set_enabled, team_owner,
                                        test_channel, update_channel, verify_channel)
from models.channels.tables import NotificationChannel  # noqa: F401
from models.channels.values import CHAT_TYPES, TYPES, apprise_url, shown  # noqa: F401
