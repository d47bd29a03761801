"""Whether an agent can take a ticket right now.

An agent is available when they are an active member of the account's team, have not
switched off "Available for helpdesk tickets" in their preferences, and are connected
to Odoo: the web client has polled within the disconnection timer and the agent was
not idle for longer than the away timer (Odoo's own presence rules, with the clock
passed in).
"""
import datetime
from collections import namedtuple

Agent = namedtuple('Agent', 'user_id available last_poll last_presence')


def presence(last_poll, last_presence, now, disconnection_seconds, away_seconds):
    """'online', 'away' or 'offline', as Odoo's bus presence would say at ``now``."""
    if last_poll is None or now - last_poll > datetime.timedelta(seconds=disconnection_seconds):
        return 'offline'
    if last_presence is None or now - last_presence > datetime.timedelta(seconds=away_seconds):
        return 'away'
    return 'online'


def is_available(agent, now, disconnection_seconds, away_seconds):
    return bool(agent.available) and presence(agent.last_poll, agent.last_presence, now,
                                              disconnection_seconds, away_seconds) == 'online'


def anyone_available(agents, now, disconnection_seconds, away_seconds):
    """Whether at least one of ``agents`` can take a ticket at ``now``."""
    return any(is_available(agent, now, disconnection_seconds, away_seconds) for agent in agents)
