"""`pinghome`: migrate, up (everything in one process), scheduler, worker, voucher create,
billing setup."""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from models.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pinghome", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("up", help="run api, gateway, scheduler and a worker in one process")
    commands.add_parser("scheduler", help="enqueue due jobs (one leader, others stand by)")
    worker = commands.add_parser("worker", help="run jobs; with --region, that region's probes")
    worker.add_argument("--region", help="consume only this region's probe queue")
    voucher = commands.add_parser("voucher", help="make vouchers that grant a plan for a time")
    voucher_commands = voucher.add_subparsers(dest="voucher_command", required=True)
    create = voucher_commands.add_parser("create", help="make new single-use voucher codes")
    create.add_argument("--plan", required=True, help="the plan granted, e.g. team or team/v1")
    create.add_argument("--months", type=int, required=True, help="for how many months")
    how_many = create.add_mutually_exclusive_group()
    how_many.add_argument("--count", type=int, default=1, help="how many codes (default 1)")
    how_many.add_argument("--code", help="this code rather than a random one")
    create.add_argument("--valid-days", type=int, default=365,
                        help="days a code may wait to be applied (default 365)")
    billing = commands.add_parser("billing", help="Stripe billing (PINGHOME_BILLING=stripe)")
    billing_commands = billing.add_subparsers(dest="billing_command", required=True)
    billing_commands.add_parser("setup", help="make the Stripe product and price of each paid "
                                              "plan version, unless made already")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"pinghome: bad setting: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "voucher":
        return _create_vouchers(args, settings)
    if args.command == "billing":
        return _set_up_billing(settings)
    return _run_until_signalled(args, settings)


def _migrate(settings) -> int:
    from models import db
    from pinghome.runtime import prepare

    prepare(settings)
    applied = db.migrate(settings.data_dir)
    print(f"applied {len(applied)} migration(s){': ' + ', '.join(applied) if applied else ''}")
    return 0


def _create_vouchers(args, settings) -> int:
    from models import clock, plans, vouchers
    from models.errors import Conflict
    from pinghome.runtime import prepare

    prepare(settings)
    try:
        codes = vouchers.create_vouchers(plan=plans.named(args.plan), months=args.months,
                                         count=args.count, code=args.code,
                                         valid_days=args.valid_days, now=clock.now())
    except (ValueError, Conflict) as exc:
        print(f"pinghome voucher: {exc}", file=sys.stderr)
        return 2
    print("\n".join(codes))
    return 0


def _set_up_billing(settings) -> int:
    from models.billing import stripe_account
    from models.errors import UpstreamFailed
    from pinghome.runtime import prepare

    if not settings.billing:
        print("pinghome billing: billing is off; set PINGHOME_BILLING=stripe, STRIPE_API_KEY "
              "and STRIPE_WEBHOOK_SECRET first", file=sys.stderr)
        return 2
    prepare(settings)
    try:
        done = stripe_account.setup(settings)
    except UpstreamFailed as exc:
        print(f"pinghome billing: {exc.message}", file=sys.stderr)
        return 1
    for plan, version, what in done:
        price = stripe_account.StripePrice.get(plan=plan, plan_version=version)
        print(f"{plan}/{version}: {what} {price.price_id} ({price.amount} {price.currency} a "
              f"{price.interval}, product {price.product_id})")
    return 0


def _run_until_signalled(args, settings) -> int:
    from models.health import ClockOffsetTooLarge
    from pinghome import roles
    from workers.runner import UnknownRegion

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        if args.command == "up":
            roles.run_embedded(settings, stop)
        elif args.command == "scheduler":
            roles.run_scheduler(settings, stop)
        else:
            roles.run_worker(settings, args.region, stop)
    except ClockOffsetTooLarge as exc:
        print(f"pinghome: refusing to start: {exc}", file=sys.stderr)
        return 3
    except UnknownRegion as exc:
        print(f"pinghome: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
