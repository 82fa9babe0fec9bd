"""The session engine without Redis: database sessions stored by the hash of their key
(`covidhub.accounts.sessions.HashedKeyStore`)."""

from __future__ import annotations

from covidhub.accounts.sessions import HashedKeyStore as SessionStore

__all__ = ["SessionStore"]
