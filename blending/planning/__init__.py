"""Back-office planning: the workload forecast per task type, the hours the lulls and the
dedicated staff give, the backlog's course, and the hours still needed to meet the SLAs."""
