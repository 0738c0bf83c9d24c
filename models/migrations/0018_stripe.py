"""Stripe billing: each organisation's customer and subscription, the grace after a failed
payment, the prices `pinghome billing setup` made, and the webhook events already applied."""
import uuid

from peewee import SQL, BooleanField, CharField, DateTimeField, IntegerField, Model, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class StripePrice(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    plan = CharField(max_length=32)
    plan_version = CharField(max_length=16)
    product_id = CharField(max_length=255)
    price_id = CharField(max_length=255, unique=True)
    amount = IntegerField()
    currency = CharField(max_length=3)
    interval = CharField(max_length=8)

    class Meta:
        indexes = ((("plan", "plan_version"), True),)


class StripeEvent(Base):
    id = CharField(max_length=255, primary_key=True)
    type = CharField(max_length=100)
    received_at = DateTimeField()


NEW = [StripePrice, StripeEvent]


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("organisation", "stripe_customer_id",
                            CharField(max_length=255, null=True)),
        migrator.add_column("organisation", "stripe_subscription_id",
                            CharField(max_length=255, null=True)),
        migrator.add_column("organisation", "grace_until", DateTimeField(null=True)),
        # a default in the table too: rows inserted by SQL alone (the benches') leave it out
        migrator.add_column("organisation", "trial_used",
                            BooleanField(default=False, constraints=[SQL("DEFAULT false")])),
        migrator.add_index("organisation", ("stripe_customer_id",), True),
        migrator.add_index("organisation", ("grace_until",), False))
    with db.bind_ctx(NEW):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW):
        db.drop_tables(NEW)
    migrator.migrate(
        migrator.drop_index("organisation", "organisation_grace_until"),
        migrator.drop_index("organisation", "organisation_stripe_customer_id"),
        migrator.drop_column("organisation", "trial_used"),
        migrator.drop_column("organisation", "grace_until"),
        migrator.drop_column("organisation", "stripe_subscription_id"),
        migrator.drop_column("organisation", "stripe_customer_id"))
