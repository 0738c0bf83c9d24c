"""The domain layer every role imports: tables, operations on them, settings, clock, database.

Importing the package registers every table, so deferred foreign keys resolve.
"""
from models import (accounts, changelog, channels, customers, health, invitations,  # noqa: F401
                    organisations, outbox, results, services, state_changes)
from models import monitors  # noqa: F401,E402
from models import heartbeats  # noqa: F401,E402
from models import servers  # noqa: F401,E402
from models import integrations  # noqa: F401,E402
from models.statuspages import subscribers  # noqa: F401,E402
from models import vouchers  # noqa: F401,E402
from models.billing import stripe_account  # noqa: F401,E402
from models import api_keys  # noqa: F401,E402
from models.incidents import notices, tables, webhooks  # noqa: F401,E402
# the on-call assignee kinds (`schedule`, `ocs`) and calendar feeds (`team`, `person`, `ocs`)
from models.oncall import assignees as oncall_assignees, rosters  # noqa: F401,E402
