"""Statistics of uptime monitors: the performance report, the state change history, and the
hourly and daily rollups (with the retention of results and rollups) that keep reports fast
over long ranges while raw results expire.

- report.py: `performance_report`, buckets per interval, overall and per region;
- history.py: `state_history`;
- rollups.py: `rebuild_hour`, `rebuild_day`, `rollup_due`, `purge_results`, `purge_rollups`;
- reading.py, tally.py, timeline.py, intervals.py, histogram.py: how they are computed.
"""
from models.statistics.history import state_history
from models.statistics.intervals import default_interval, edges
from models.statistics.report import performance_report
from models.statistics.rollups import (purge_results, purge_rollups, rebuild_day, rebuild_hour,
                                      rollup_due)

__all__ = ["default_interval", "edges", "performance_report", "purge_results", "purge_rollups",
           "rebuild_day", "rebuild_hour", "rollup_due", "state_history"]
