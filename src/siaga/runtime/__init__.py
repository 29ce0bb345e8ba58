"""The composition root: what starts Siaga112 and puts its apps together.

``core`` is the base every app builds on; the apps (calls, incidents, shifts, hazards, alerts, broadcast,
webhooks, reports, console) build on it; ``runtime`` sits above them all. It holds what needs many apps at
once: the server (``siaga serve``), the background roles and their leases (``siaga worker --roles``,
:mod:`siaga.runtime.roles`), readiness and metrics (:mod:`siaga.runtime.health`,
:mod:`siaga.runtime.metrics`), and the loaders of the city's reference data and the demo.
"""
