"""Who may see and do what on the organiser side.

Organisers may do everything; viewers read dashboards; a liaison (联络员)
reads only their own unit and the units below it. Views call these helpers
instead of testing roles inline, so the rules live in one place.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable, Optional

from flask import abort, current_app
from flask_login import current_user, login_required
from sqlalchemy import select

from extensions import db
from models import Role, Unit


#: Every role: for pages any signed-in account may open (they still declare it, for the role matrix).
ALL_ROLES = (Role.ORGANISER, Role.LIAISON, Role.VIEWER)


def role_required(*roles: Role) -> Callable:
    """Decorator: signed in, and with one of ``roles`` (403 otherwise).

    The roles are also kept on the view as ``allowed_roles`` so the role-matrix
    test can walk every URL and check that what is declared is enforced.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


def may_open(endpoint: str) -> bool:
    """Whether the signed-in account's role may open ``endpoint`` (its view's declared roles).

    Templates ask before showing a link, so no page offers a link its reader would get 403 from.
    """
    view = current_app.view_functions.get(endpoint)
    roles = getattr(view, "allowed_roles", None)
    return bool(view) and current_user.is_authenticated and (roles is None or current_user.role in roles)


def subtree_ids(root_id: int) -> set[int]:
    """The unit and every unit below it (breadth-first over the parent links)."""
    found, frontier = {root_id}, [root_id]
    while frontier:
        children = db.session.scalars(select(Unit.id).where(Unit.parent_id.in_(frontier))).all()
        frontier = [c for c in children if c not in found]
        found.update(frontier)
    return found


def visible_unit_ids(user) -> Optional[set[int]]:
    """Unit ids this user may see, or None for "all units" (organisers, viewers)."""
    if user.role is Role.LIAISON:
        return subtree_ids(user.unit_id) if user.unit_id else set()
    return None


def can_see_unit(user, unit_id: int) -> bool:
    """True when ``user`` may open pages about this unit."""
    visible = visible_unit_ids(user)
    return visible is None or unit_id in visible


def can_see_campaign(user, campaign_id: int) -> bool:
    """True when ``user`` may open this campaign's pages: a liaison only a campaign holding their units."""
    visible = visible_unit_ids(user)
    if visible is None:
        return True
    return bool(visible) and db.session.scalar(
        select(Unit.id).where(Unit.campaign_id == campaign_id, Unit.id.in_(visible)).limit(1)) is not None
