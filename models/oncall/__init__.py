"""On-call: who is woken up, and when.

- `engine`: the one rotation engine (pure functions) that turns layers, restrictions,
  on-demand overrides and recurrence entries into shifts for a window;
- `tables`: what both schedule APIs store (team schedule entries; OCS schedules, tiers,
  on-demand shifts and the integer contacts that name members);
- `team_schedules`, `ocs`: the operations of each API, computing through the engine (OCS:
  `contacts`, `layers` (parsing them), `ocs` (schedules, tiers), `on_demand`, `timelines`
  (what it computes), `assignees` (the `ocs` incident assignee kind));
- `escalation`: who is on call for an incident's `schedule` and `ocs` assignees.
"""
