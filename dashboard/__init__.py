"""The reviewers' dashboard and the REST API: thin ways into ``monitor``."""
