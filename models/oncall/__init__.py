"""On-call: who is woken up, and when.

- `engine` (with `wallclock`): the one rotation engine, pure functions that turn layers,
  restrictions, on-demand overrides and recurrence entries into shifts for a window;
- `tables`: what both schedule APIs store (team schedule entries; OCS schedules, tiers,
  on-demand shifts and the integer contacts that name members);
- `team_schedules` (98-101), `ocs`, `on_demand`, `layers`, `contacts`, `timelines` (126-144):
  each API's operations, writing its own objects and computing through the engine;
- `rosters`: every schedule read as shifts of people, for `escalation` (who an incident's
  `schedule` and `ocs` assignees reach now), `shift_notices` (before a shift, after an edit,
  gaps) and `feeds` (iCalendar at secret addresses);
- `assignees`: the `schedule` and `ocs` incident assignee kinds.
"""
