"""What SQLAlchemy raises when the database is down or cannot be reached (refused, lost, no pooled
connection in time), or stopped a statement past the time limit (time_limit.py): the service
answers 503, and /ready says so in words that name no host, user or driver message (those are
logged)."""

from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError

OUTAGES = (OperationalError, InterfaceError, TimeoutError)
NOT_REACHABLE = "the decision store cannot be reached (the service's log says why)"
