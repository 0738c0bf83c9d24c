"""Notification channels (personal and team) and the deliveries sent over them."""
from models.channels.deliveries import (Message, Refused, TransportError,  # noqa: F401
                                        deliver, limit_sends, queue_delivery, requeue_stalled,
                                        signature, signing_key)
from models.channels.operations import (Owner, create_channel, delete_channels,  # noqa: F401
                                        deliverable_channels, last_deliveries, list_channels,
                                        owner_for, set_enabled, test_channel, update_channel,
                                        verify_channel)
from models.channels.tables import Delivery, NotificationChannel  # noqa: F401
from models.channels.values import CHAT_TYPES, TYPES, apprise_url, shown  # noqa: F401
