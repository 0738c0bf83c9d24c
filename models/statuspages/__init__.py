"""Status pages: `tables` (pages, groups, components), `operations` (pages created, changed,
read), `components` (a page's components as given, their subjects checked), `status` (what a
component shows, derived when asked), `statistics` (a component's status, time in it, daily
uptime and open incidents)."""
