"""orgportal: the organization-management portal, a Reflex app.

The folders are its layers, each importing only the ones below it:

- `pages/` lay out one page each; `views/` hold the sections pages are made of;
  `components/` are the small shared pieces. They render state, nothing else.
- `state/` are the Reflex states: thin adapters that authenticate the websocket's session,
  call services and keep what the page shows.
- `api/` is everything served over plain HTTP: the REST API (`api/rest/`), file downloads,
  uploads, webhooks, public short-link pages. It calls the same services.
- `services/` hold every business rule and permission check, over SQLModel sessions; they
  never import Reflex, states or views.
- `adapters/` wrap the outside world (Stripe, mail, object storage, Redis, metrics, logs),
  each with a real implementation and an offline default.
- `models/` are the SQLModel tables; `db.py` opens the units of work; `routes.py` names every
  address; `config.py` reads the settings.
"""
