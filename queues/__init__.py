"""The global task list: task types, tasks, agents, and the task event log."""
