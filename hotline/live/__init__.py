"""Live updates: every open page hears within a second or two that its unit's data changed.

Writers call `signals.publish(...)` (the one function) from inside their transaction; after the
commit the touched topics get a new change marker (Redis sorted set, or the `live_version` table
when there is no Redis). One ASGI process (`hub`, `views.stream`) polls those markers once a
second for all its connections and pushes a server-sent event to the connections subscribed to a
changed topic; the page then re-reads its own scoped endpoint. Idle connections cost a heartbeat
every 25 s. Which topics a user may hear is decided in `hotline.access.live_topics`.
"""
