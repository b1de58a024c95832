"""The supervisors' console: the center live in a browser, server-rendered, updated by
server-sent events; signed in with an API token or with Slack."""
