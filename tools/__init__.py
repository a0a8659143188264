"""The outside world: ticketing-system write-back adapters and business actions.

Empty for now: issue 5 adds tools/ticketing/ (Zendesk, Jira, Freshdesk, YouTrack) and tools/actions/.
Until then results are read over the API (GET /tickets/{id}); nothing is written back.
"""
